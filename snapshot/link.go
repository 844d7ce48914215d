package snapshot

import (
	"strings"
	"sync"

	"github.com/regbackup/regbackup/archive"
)

// Link is one link file as the snapshot read it (repaired when the repair
// was unambiguous).
//
// A snapshot of a million tags holds some six million links, so a Link is
// small (64 bytes): its storage path is not kept but made again from its
// fields when asked for (it is kept only in the odd case that making it
// again would not give the same string), the repository name and the
// digest are shared with every other link and manifest naming them (see
// interner), and a tag's name is its own small string.
type Link struct {
	Kind   archive.Kind // which link: layer, revision, tag index, tag current
	Repo   string       // the repository
	Tag    string       // the tag, for tag links
	Digest string       // the digest the link holds, which a path naming one names too
	odd    *string      // the storage path, when archive.LinkPath would not give it back
}

// newLink is the Link of the link file at path, which ParsePath read as p,
// holding dg (p.Digest when the path names one). Its strings are copied
// out of path (interned), so path is not kept alive.
func newLink(path string, p archive.Path, dg string, in *interner) Link {
	l := Link{Kind: p.Kind, Repo: in.get(p.Repo), Digest: in.get(dg)}
	if p.Tag != "" {
		l.Tag = string([]byte(p.Tag))
	}
	if l.Path() != path {
		odd := strings.Clone(path)
		l.odd = &odd
	}
	return l
}

// Path is the link file's storage path.
func (l *Link) Path() string {
	if l.odd != nil {
		return *l.odd
	}
	return archive.LinkPath(l.Kind, l.Repo, l.Tag, l.Digest)
}

// pieces are strings whose concatenation is l.Path(), for comparing paths
// without making them.
func (l *Link) pieces() [7]string {
	if l.odd != nil {
		return [7]string{*l.odd}
	}
	root, hex := archive.RegistryRoot+"repositories/", strings.TrimPrefix(l.Digest, "sha256:")
	switch l.Kind {
	case archive.KindLayerLink:
		return [7]string{root, l.Repo, "/_layers/sha256/", hex, "/link"}
	case archive.KindRevisionLink:
		return [7]string{root, l.Repo, "/_manifests/revisions/sha256/", hex, "/link"}
	case archive.KindTagIndexLink:
		return [7]string{root, l.Repo, "/_manifests/tags/", l.Tag, "/index/sha256/", hex, "/link"}
	}
	return [7]string{root, l.Repo, "/_manifests/tags/", l.Tag, "/current/link"}
}

// comparePaths compares a.Path() and b.Path() without making them.
func comparePaths(a, b *Link) int {
	pa, pb := a.pieces(), b.pieces()
	i, j := 0, 0 // pieces
	x, y := pa[0], pb[0]
	for {
		for x == "" && i+1 < len(pa) {
			i++
			x = pa[i]
		}
		for y == "" && j+1 < len(pb) {
			j++
			y = pb[j]
		}
		switch {
		case x == "" && y == "":
			return 0
		case x == "":
			return -1
		case y == "":
			return 1
		}
		n := min(len(x), len(y))
		if c := strings.Compare(x[:n], y[:n]); c != 0 {
			return c
		}
		x, y = x[n:], y[n:]
	}
}

// interner hands out one string for equal strings: the digests of a
// registry are named by many links and manifests each (a layer by its
// _layers link, by each manifest listing it and as a key of Present), and
// a repository's name by each of its links. Safe for concurrent use.
type interner struct {
	mu sync.Mutex
	m  map[string]string
}

func newInterner() *interner { return &interner{m: map[string]string{}} }

// get returns the string equal to s that get returned first, copying s
// the first time (so that it does not keep alive what it was cut from).
// A nil interner returns s.
func (in *interner) get(s string) string {
	if s == "" || in == nil {
		return s
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if v, ok := in.m[s]; ok {
		return v
	}
	v := string([]byte(s))
	in.m[v] = v
	return v
}
