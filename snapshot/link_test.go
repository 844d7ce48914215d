package snapshot

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"

	"github.com/regbackup/regbackup/archive"
)

// A Link keeps no path: Path makes it again, and comparePaths orders links
// as their paths do, for names where a component-wise order would not
// ("a" and "a-b": "a-b/" sorts before "a/").
func TestLinkPathWithoutKeepingIt(t *testing.T) {
	d1 := "sha256:" + strings.Repeat("1", 64)
	d2 := "sha256:" + strings.Repeat("f", 64)
	var paths []string
	for _, repo := range []string{"a", "a-b", "a.b", "a/b", "a/b/c", "ab", "a_b"} {
		for _, dg := range []string{d1, d2} {
			paths = append(paths,
				archive.LinkPath(archive.KindLayerLink, repo, "", dg),
				archive.LinkPath(archive.KindRevisionLink, repo, "", dg))
			for _, tag := range []string{"v1", "v1-x", "v1.0", "latest"} {
				paths = append(paths,
					archive.LinkPath(archive.KindTagIndexLink, repo, tag, dg),
					archive.LinkPath(archive.KindTagCurrentLink, repo, tag, ""))
			}
		}
	}
	in := newInterner()
	links := make([]Link, len(paths))
	for i, p := range paths {
		parsed := archive.ParsePath(p)
		if !parsed.Kind.IsLink() {
			t.Fatalf("%s: not a link path", p)
		}
		held := parsed.Digest // what parseLink gives a link whose path names a digest
		if held == "" {
			held = d1
		}
		links[i] = newLink(p, parsed, held, in)
		if links[i].odd {
			t.Errorf("%s: kept its path", p)
		}
		if got := links[i].Path(); got != p {
			t.Errorf("Path() = %s, want %s", got, p)
		}
	}
	for i := range links {
		for j := range links {
			want := strings.Compare(paths[i], paths[j])
			if got := comparePaths(&links[i], &links[j]); got != want {
				t.Errorf("comparePaths(%s, %s) = %d, want %d", paths[i], paths[j], got, want)
			}
		}
	}
	if allocs := testing.AllocsPerRun(100, func() { comparePaths(&links[0], &links[1]) }); allocs != 0 {
		t.Errorf("comparePaths makes %v allocations: sorting millions of links would make as many strings", allocs)
	}
	// Digests and repository names are held once, not copied a link.
	a := newLink(paths[0], archive.ParsePath(paths[0]), d1, in)
	b := newLink(paths[1], archive.ParsePath(paths[1]), strings.Clone(d1), in)
	if a.Digest() != b.Digest() || a.Repo() != b.Repo() || a.dg != b.dg || !a.dg.isDigest() || !sameString(a.Repo(), b.Repo()) {
		t.Errorf("links do not share their digest and repository strings")
	}
}

func sameString(a, b string) bool {
	return len(a) == len(b) && (len(a) == 0 || unsafe.StringData(a) == unsafe.StringData(b))
}

// TestLinkIsSmall: a million tags are some six million links.
func TestLinkIsSmall(t *testing.T) {
	if n := unsafe.Sizeof(Link{}); n > 24 {
		t.Errorf("a Link is %d bytes, over 24", n)
	}
}

// A link whose path names another digest than it holds (a tag index
// link repaired, say) keeps its path, and still answers its tag.
func TestLinkOddPath(t *testing.T) {
	d1 := "sha256:" + strings.Repeat("1", 64)
	d2 := "sha256:" + strings.Repeat("f", 64)
	in := newInterner()
	p := archive.LinkPath(archive.KindTagIndexLink, "team/app", "v1.0", d1)
	l := newLink(p, archive.ParsePath(p), d2, in)
	if !l.odd {
		t.Fatalf("%s holding %s: path not kept", p, d2)
	}
	if l.Path() != p || l.Tag() != "v1.0" || l.Repo() != "team/app" || l.Digest() != d2 || l.Kind != archive.KindTagIndexLink {
		t.Errorf("odd link = %s %s %s %s %v", l.Path(), l.Repo(), l.Tag(), l.Digest(), l.Kind)
	}
	q := archive.LinkPath(archive.KindTagIndexLink, "team/app", "v1.0", d2)
	m := newLink(q, archive.ParsePath(q), d2, in)
	if c := comparePaths(&l, &m); c != strings.Compare(p, q) {
		t.Errorf("comparePaths(odd, plain) = %d, want %d", c, strings.Compare(p, q))
	}
}

// linkLines are links as lines (Link.String), to compare the links of two
// snapshots: their handles differ, each snapshot having its interner.
func linkLines(links []Link) []string {
	out := make([]string, len(links))
	for i, l := range links {
		out[i] = l.String()
	}
	return out
}

// comparePaths orders links as their paths, links of one folder (by their
// digests' bytes) and of others alike, digests that are no sha256 among
// them.
func TestComparePathsIsPathOrder(t *testing.T) {
	in := newInterner()
	rng := rand.New(rand.NewPCG(1, 2))
	repos := []string{"a", "a/b", "a-b", "ab", "z/x"}
	tags := []string{"v1", "v1.0", "latest", "v1-rc"}
	var links []Link
	for range 400 {
		dg := fmt.Sprintf("sha256:%064x", rng.Uint64()%50)
		k := []archive.Kind{archive.KindLayerLink, archive.KindRevisionLink, archive.KindTagIndexLink, archive.KindTagCurrentLink}[rng.IntN(4)]
		repo, tag := repos[rng.IntN(len(repos))], ""
		if k == archive.KindTagIndexLink || k == archive.KindTagCurrentLink {
			tag = tags[rng.IntN(len(tags))]
		}
		path := archive.LinkPath(k, repo, tag, dg)
		held := dg
		if k == archive.KindTagCurrentLink && rng.IntN(3) == 0 {
			held = "sha256:" + strings.Repeat("A", 64) // no digest the interner packs
		}
		links = append(links, newLink(path, archive.ParsePath(path), held, in))
		if links[len(links)-1].odd {
			t.Fatalf("%s: kept its path", path)
		}
	}
	for i := range links {
		for j := range links {
			a, b := &links[i], &links[j]
			if got, want := comparePaths(a, b), strings.Compare(a.Path(), b.Path()); got != want {
				t.Fatalf("comparePaths(%s, %s) = %d, want %d", a.Path(), b.Path(), got, want)
			}
		}
	}
}
