package snapshot

import (
	"strings"

	"github.com/regbackup/regbackup/archive"
)

// Link is one link file as the snapshot read it (repaired when the repair
// was unambiguous).
//
// A snapshot of a million tags holds some five million links, so a Link is
// small (24 bytes): its storage path is not kept but made again from its
// fields when asked for (it is kept, in place of the tag, only in the odd
// case that making it again would not give the same string), and its
// strings (repository, tag, digest) are handles into the snapshot's
// interner, shared with every other link and manifest naming them.
type Link struct {
	names *interner
	repo  handle
	tag   handle // for tag links; the storage path when odd
	dg    handle // the digest the link holds, which a path naming one names too
	Kind  archive.Kind
	odd   bool // archive.LinkPath would not give the storage path back: tag holds it
}

// newLink is the Link of the link file at path, which ParsePath read as p,
// holding dg (p.Digest when the path names one). Its strings are copied
// out of path (interned), so path is not kept alive. Paths and digests are
// far shorter than internMaxLen (a link is at most MaxLinkSize bytes, and
// no storage takes a path of 64 KiB).
func newLink(path string, p archive.Path, dg string, in *interner) Link {
	l := Link{Kind: p.Kind, names: in, repo: in.put(p.Repo), tag: in.put(p.Tag), dg: in.put(dg)}
	if l.Path() != path {
		l.tag, l.odd = in.put(path), true
	}
	return l
}

// Repo is the link's repository.
func (l *Link) Repo() string { return l.names.str(l.repo) }

// Tag is the link's tag, for tag links ("" for the others).
func (l *Link) Tag() string {
	if l.odd {
		return archive.ParsePath(l.names.str(l.tag)).Tag
	}
	return l.names.str(l.tag)
}

// Digest is the digest the link holds.
func (l *Link) Digest() string { return l.names.str(l.dg) }

// String is the link as a line: its path and the digest it holds.
func (l Link) String() string { return l.Path() + " -> " + l.Digest() }

// Path is the link file's storage path.
func (l *Link) Path() string {
	if l.odd {
		return l.names.str(l.tag)
	}
	var buf [digestLen]byte
	dg := "" // a tag's current link is named by its tag alone
	if l.Kind != archive.KindTagCurrentLink {
		dg = l.names.text(l.dg, &buf)
	}
	return archive.LinkPath(l.Kind, l.Repo(), l.Tag(), dg)
}

// pieces are strings whose concatenation is l.Path(), for comparing paths
// without making them: the digest's text is made in buf.
func (l *Link) pieces(buf *[digestLen]byte) [7]string {
	if l.odd {
		return [7]string{l.names.str(l.tag)}
	}
	repo, root := l.Repo(), archive.RegistryRoot+"repositories/"
	if l.Kind == archive.KindTagCurrentLink {
		return [7]string{root, repo, "/_manifests/tags/", l.Tag(), "/current/link"}
	}
	hex := strings.TrimPrefix(l.names.text(l.dg, buf), "sha256:")
	switch l.Kind {
	case archive.KindLayerLink:
		return [7]string{root, repo, "/_layers/sha256/", hex, "/link"}
	case archive.KindRevisionLink:
		return [7]string{root, repo, "/_manifests/revisions/sha256/", hex, "/link"}
	case archive.KindTagIndexLink:
		return [7]string{root, repo, "/_manifests/tags/", l.Tag(), "/index/sha256/", hex, "/link"}
	}
	return [7]string{root, repo, "/_manifests/tags/", l.Tag(), "/current/link"}
}

// comparePaths compares a.Path() and b.Path() without making them.
func comparePaths(a, b *Link) int {
	if c, ok := compareSameFolder(a, b); ok {
		return c
	}
	var ba, bb [digestLen]byte
	pa, pb := a.pieces(&ba), b.pieces(&bb)
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
		if c := compareStrings(x[:n], y[:n]); c != 0 {
			return c
		}
		x, y = x[n:], y[n:]
	}
}

// compareSameFolder compares a.Path() and b.Path() when they are links of
// one kind in one repository (and tag) whose paths differ in their digest
// alone: by the digests' bytes, which the hex keeps in order. That is most
// of what sorting a snapshot's links compares.
func compareSameFolder(a, b *Link) (int, bool) {
	if a.odd || b.odd || a.Kind != b.Kind || a.repo != b.repo || a.names != b.names {
		return 0, false
	}
	switch a.Kind {
	case archive.KindTagCurrentLink:
		return 0, a.tag == b.tag
	case archive.KindTagIndexLink:
		if a.tag != b.tag {
			return 0, false
		}
	}
	if !a.dg.isDigest() || !b.dg.isDigest() {
		return 0, false
	}
	return a.names.compare(a.dg, b.dg), true
}
