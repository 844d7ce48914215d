package archive

import (
	"fmt"
	"strings"
)

// Paths of regbackup's own entries and of the registry tree inside an archive.
const (
	RegistryRoot = "docker/registry/v2/"
	MetaRoot     = ".regbackup/"
	CatalogName  = MetaRoot + "catalog.json"
	TrailerName  = MetaRoot + "trailer.json"
	FilesRoot    = MetaRoot + "files/"
)

// Kind classifies a path in the registry's storage layout. The order in
// which the kinds are written is RestoreOrder, not the order of their
// values.
type Kind uint8

const (
	KindUnknown        Kind = iota
	KindBlob                // blobs/sha256/<hh>/<hex>/data
	KindLayerLink           // repositories/<name>/_layers/sha256/<hex>/link
	KindRevisionLink        // repositories/<name>/_manifests/revisions/sha256/<hex>/link
	KindTagIndexLink        // repositories/<name>/_manifests/tags/<tag>/index/sha256/<hex>/link
	KindTagCurrentLink      // repositories/<name>/_manifests/tags/<tag>/current/link
)

func (k Kind) String() string {
	return [...]string{"unknown", "blob", "layer link", "revision link", "tag index link", "tag link"}[k]
}

// IsLink reports whether k is one of the link kinds.
func (k Kind) IsLink() bool {
	switch k {
	case KindLayerLink, KindRevisionLink, KindTagIndexLink, KindTagCurrentLink:
		return true
	}
	return false
}

// Path is a parsed registry storage path.
type Path struct {
	Kind   Kind
	Repo   string // repository name, for links
	Tag    string // tag name, for tag links
	Digest string // "sha256:<hex>" named by the path (not for KindTagCurrentLink)
}

// validComponent reports whether c is one component of a repository name,
// as Distribution's reference grammar has it:
// ^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$ (hand-written: it runs for
// every path a snapshot walks; layout_test.go checks it against the regexp).
func validComponent(c string) bool {
	i, n := 0, len(c)
	for {
		start := i
		for i < n && (c[i] >= 'a' && c[i] <= 'z' || c[i] >= '0' && c[i] <= '9') {
			i++
		}
		switch {
		case i == start:
			return false // empty, or a separator not followed by a letter or digit
		case i == n:
			return true
		}
		switch c[i] {
		case '.':
			i++
		case '_':
			i++
			if i < n && c[i] == '_' {
				i++
			}
		case '-':
			for i < n && c[i] == '-' {
				i++
			}
		default:
			return false
		}
	}
}

// validTag reports whether t is a tag name: ^[\w][\w.-]{0,127}$
// (hand-written like validComponent).
func validTag(t string) bool {
	if len(t) == 0 || len(t) > 128 || t[0] == '.' || t[0] == '-' {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// isHex64 reports whether s is 64 lowercase hex digits (a sha256). It is
// called for every path a snapshot walks: no regexp.
func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	var bad byte
	for i := 0; i < 64; i++ {
		bad |= notHex[s[i]]
	}
	return bad == 0
}

// notHex[c] is 1 unless c is a lowercase hex digit.
var notHex = func() (t [256]byte) {
	for c := range t {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			t[c] = 1
		}
	}
	return t
}()

// ValidDigest reports whether d is "sha256:" followed by 64 lowercase hex
// digits, the only digest form a registry stores.
func ValidDigest(d string) bool {
	hex, ok := strings.CutPrefix(d, "sha256:")
	return ok && isHex64(hex)
}

// ValidRepository reports whether name is a repository name the registry
// accepts: slash-separated components of lowercase letters, digits and
// separators, none starting with "_".
func ValidRepository(name string) bool {
	if name == "" || len(name) > 255 {
		return false
	}
	for rest, more := name, true; more; {
		var c string
		c, rest, more = strings.Cut(rest, "/")
		if !validComponent(c) {
			return false
		}
	}
	return true
}

// BlobPath is the storage path of a blob's data.
func BlobPath(digest string) string {
	hex := strings.TrimPrefix(digest, "sha256:")
	if len(hex) < 2 {
		return RegistryRoot + "blobs/sha256/" + hex + "/data"
	}
	return RegistryRoot + "blobs/sha256/" + hex[:2] + "/" + hex + "/data"
}

// LinkPath is the storage path of a link file. digest is ignored for
// KindTagCurrentLink, tag for the repository-level kinds.
func LinkPath(k Kind, repo, tag, digest string) string {
	hex := strings.TrimPrefix(digest, "sha256:")
	base := RegistryRoot + "repositories/" + repo + "/"
	switch k {
	case KindLayerLink:
		return base + "_layers/sha256/" + hex + "/link"
	case KindRevisionLink:
		return base + "_manifests/revisions/sha256/" + hex + "/link"
	case KindTagIndexLink:
		return base + "_manifests/tags/" + tag + "/index/sha256/" + hex + "/link"
	case KindTagCurrentLink:
		return base + "_manifests/tags/" + tag + "/current/link"
	}
	panic(fmt.Sprintf("archive.LinkPath: not a link kind: %v", k))
}

// ParsePath classifies a storage path (relative to the storage root, e.g.
// "docker/registry/v2/blobs/sha256/ab/ab.../data"). It returns KindUnknown
// for anything that is not a blob's data or a link file in the exact
// layout the registry writes, including upload folders and temp files.
func ParsePath(p string) Path {
	rest, ok := strings.CutPrefix(p, RegistryRoot)
	if !ok {
		return Path{}
	}
	if b, ok := strings.CutPrefix(rest, "blobs/sha256/"); ok {
		parts := strings.Split(b, "/")
		if len(parts) == 3 && parts[2] == "data" && isHex64(parts[1]) && parts[0] == parts[1][:2] {
			return Path{Kind: KindBlob, Digest: "sha256:" + parts[1]}
		}
		return Path{}
	}
	r, ok := strings.CutPrefix(rest, "repositories/")
	if !ok {
		return Path{}
	}
	// The repository name ends before the first component starting with
	// "_" (names never contain one).
	end := strings.Index(r, "/_")
	if end <= 0 || strings.HasPrefix(r, "_") {
		return Path{}
	}
	repo := r[:end]
	if !ValidRepository(repo) {
		return Path{}
	}
	// The rest, split at "/" without allocating: no layout has more than
	// 7 components there.
	var parts [7]string
	n := 0
	for rest, more := r[end+1:], true; more; n++ {
		if n == len(parts) {
			return Path{}
		}
		parts[n], rest, more = strings.Cut(rest, "/")
	}
	tail := parts[:n]
	digestAt := func(hex string) string {
		if isHex64(hex) {
			return "sha256:" + hex
		}
		return ""
	}
	switch {
	case len(tail) == 4 && tail[0] == "_layers" && tail[1] == "sha256" && tail[3] == "link":
		if d := digestAt(tail[2]); d != "" {
			return Path{Kind: KindLayerLink, Repo: repo, Digest: d}
		}
	case len(tail) == 5 && tail[0] == "_manifests" && tail[1] == "revisions" && tail[2] == "sha256" && tail[4] == "link":
		if d := digestAt(tail[3]); d != "" {
			return Path{Kind: KindRevisionLink, Repo: repo, Digest: d}
		}
	case len(tail) == 5 && tail[0] == "_manifests" && tail[1] == "tags" && tail[3] == "current" && tail[4] == "link":
		if validTag(tail[2]) {
			return Path{Kind: KindTagCurrentLink, Repo: repo, Tag: tail[2]}
		}
	case len(tail) == 7 && tail[0] == "_manifests" && tail[1] == "tags" && tail[3] == "index" && tail[4] == "sha256" && tail[6] == "link":
		if d := digestAt(tail[5]); d != "" && validTag(tail[2]) {
			return Path{Kind: KindTagIndexLink, Repo: repo, Tag: tail[2], Digest: d}
		}
	}
	return Path{}
}

// ParseLink checks a link file's content: exactly "sha256:<64 hex>", 71
// bytes, no newline. It returns the digest.
func ParseLink(content []byte) (string, error) {
	s := string(content)
	switch {
	case len(s) == 0:
		return "", fmt.Errorf("empty link file")
	case strings.TrimSpace(s) != s:
		return "", fmt.Errorf("link file has surrounding whitespace (%q): the registry answers HTTP 500 for it", s)
	case !ValidDigest(s):
		if len(s) > 80 {
			s = s[:80] + "..."
		}
		return "", fmt.Errorf("link file does not hold a sha256 digest: %q", s)
	}
	return s, nil
}
