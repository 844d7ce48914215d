package archive

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// The grammar validComponent and validTag implement by hand, as
// Distribution writes it.
var (
	componentRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$`)
	tagRE       = regexp.MustCompile(`^[\w][\w.-]{0,127}$`)
)

// strs returns every string of up to n bytes over alphabet, then random
// longer ones.
func strs(alphabet string, n int, random int) []string {
	out := []string{""}
	level := []string{""}
	for range n {
		var next []string
		for _, s := range level {
			for i := range len(alphabet) {
				next = append(next, s+alphabet[i:i+1])
			}
		}
		out = append(out, next...)
		level = next
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range random {
		b := make([]byte, 1+r.IntN(140))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		out = append(out, string(b))
	}
	return out
}

func TestValidComponentMatchesTheRegexp(t *testing.T) {
	for _, s := range strs("a0._-A/é"[:7], 6, 20000) {
		if got, want := validComponent(s), componentRE.MatchString(s); got != want {
			t.Errorf("validComponent(%q) = %v, the regexp says %v", s, got, want)
		}
	}
}

func TestValidTagMatchesTheRegexp(t *testing.T) {
	all := strs("aZ9_.-/ \x00", 5, 20000)
	all = append(all, strings.Repeat("a", 128), strings.Repeat("a", 129), "_"+strings.Repeat(".", 127), "é")
	for _, s := range all {
		if got, want := validTag(s), tagRE.MatchString(s); got != want {
			t.Errorf("validTag(%q) = %v, the regexp says %v", s, got, want)
		}
	}
}

// parsePathSplit is ParsePath as it was before the search for "/_" (a
// split and a join of every path): the reference for
// TestParsePathMatchesTheSplitVersion.
func parsePathSplit(p string) Path {
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
	parts := strings.Split(r, "/")
	i := 0
	for i < len(parts) && !strings.HasPrefix(parts[i], "_") {
		i++
	}
	repo := strings.Join(parts[:i], "/")
	if i == 0 || !componentsMatch(repo) {
		return Path{}
	}
	tail := parts[i:]
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
		if tagRE.MatchString(tail[2]) {
			return Path{Kind: KindTagCurrentLink, Repo: repo, Tag: tail[2]}
		}
	case len(tail) == 7 && tail[0] == "_manifests" && tail[1] == "tags" && tail[3] == "index" && tail[4] == "sha256" && tail[6] == "link":
		if d := digestAt(tail[5]); d != "" && tagRE.MatchString(tail[2]) {
			return Path{Kind: KindTagIndexLink, Repo: repo, Tag: tail[2], Digest: d}
		}
	}
	return Path{}
}

// componentsMatch is ValidRepository with the regexp and a split.
func componentsMatch(name string) bool {
	if name == "" || len(name) > 255 {
		return false
	}
	for _, c := range strings.Split(name, "/") {
		if !componentRE.MatchString(c) {
			return false
		}
	}
	return true
}

func TestParsePathMatchesTheSplitVersion(t *testing.T) {
	hex := strings.Repeat("ab", 32)
	tails := []string{"_layers/sha256/" + hex + "/link", "_manifests/revisions/sha256/" + hex + "/link",
		"_manifests/tags/v1/current/link", "_manifests/tags/v1/index/sha256/" + hex + "/link",
		"_uploads/x/data", "_layers/sha256/" + hex + "/link/x", "_manifests/tags/.v/current/link",
		"_layers/sha256/" + hex[1:] + "/link", "_manifests/tags/v1/index/sha256/" + hex + "/data", "x/link", ""}
	repos := []string{"", "a", "a/b", "a//b", "a/", "/a", "_a", "a/_b", "a_b", "a__b/c-d.e", "A", "a/b/c/d",
		"a/_b/_layers/sha256/" + hex + "/link", strings.Repeat("a", 256)}
	var paths []string
	for _, repo := range repos {
		for _, tail := range tails {
			paths = append(paths, RegistryRoot+"repositories/"+repo+"/"+tail, RegistryRoot+"repositories/"+repo+tail)
		}
	}
	paths = append(paths, BlobPath("sha256:"+hex), RegistryRoot+"blobs/sha256/ac/"+hex+"/data", RegistryRoot+"repositories/",
		"x", RegistryRoot, RegistryRoot+"blobs/sha256/"+hex[:2]+"/"+hex+"/data/")
	for _, p := range paths {
		if got, want := ParsePath(p), parsePathSplit(p); got != want {
			t.Errorf("ParsePath(%q) = %+v, want %+v", p, got, want)
		}
		if got, want := ValidRepository(p), componentsMatch(p); got != want {
			t.Errorf("ValidRepository(%q) = %v, want %v", p, got, want)
		}
	}
}

func BenchmarkParsePath(b *testing.B) {
	p := LinkPath(KindTagIndexLink, "group/project-name/image", "v1.2.3", "sha256:"+strings.Repeat("ab", 32))
	for b.Loop() {
		if ParsePath(p).Kind != KindTagIndexLink {
			b.Fatal(p)
		}
	}
}
