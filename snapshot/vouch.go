package snapshot

import (
	"strings"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
)

// An object store's listing reports each file's MD5 (drivers.FileInfo.MD5:
// an S3 single-part ETag, GCS md5Hash, Azure Content-MD5). For a link file,
// whose content is a digest string of 71 bytes, that MD5 vouches for the
// content without a read when it is the MD5 of a digest the link is likely
// to hold:
//
//   - a layer, revision or tag index link holds the digest its path names;
//   - a tag's current link holds one of the digests of the tag's own index
//     entries (the registry adds the index entry before it writes the
//     current link), which the listing gives right after it: a tag's folder
//     is one run of keys in lexical order, current/ before index/.
//
// A match proves the content byte for byte, so the link is then parsed from
// the candidate exactly as from a read. An MD5 that matches no candidate
// proves nothing (some services report other values in its place, see
// drivers.FileInfo) and is never damage: that link is read, as one with no
// MD5 is. So a snapshot of an unchanged object store makes no read per tag;
// a listing out of order only costs reads.

// vouching is the part of readRepositories' walk that decides, for each
// link file listed without its content, whether the listing vouches for it
// or it must be read. It holds at most one tag current link, until the
// listing has passed its tag's folder.
type vouching struct {
	s      *Snapshot
	unread []string // link files to read: their listed MD5 vouched for nothing

	tag       string       // the tag current link waiting for its index entries, or ""
	tagFolder string       // its tag's folder, with a trailing "/"
	tagMD5    string       // its listed MD5
	tagParsed archive.Path // what its path says
}

// listed takes one link file the walk listed without its content, whose
// path says p, and returns the links the listing now vouches for: this
// one, and the tag current link waiting when this is the index entry that
// matches it. A link not returned is read later, or waits for its tag's
// index entries.
func (v *vouching) listed(fi drivers.FileInfo, p archive.Path) (vouched []*Link) {
	v.passed(fi.Path)
	if fi.MD5 == "" {
		v.unread = append(v.unread, fi.Path)
		return nil
	}
	if p.Kind == archive.KindTagCurrentLink {
		v.tag, v.tagMD5, v.tagParsed = fi.Path, fi.MD5, p
		v.tagFolder = strings.TrimSuffix(fi.Path, "current/link")
		return nil
	}
	sum := drivers.MD5Of([]byte(p.Digest))
	if v.tag != "" && p.Kind == archive.KindTagIndexLink && sum == v.tagMD5 {
		vouched = append(vouched, v.s.parseLink(v.tag, v.tagParsed, []byte(p.Digest)))
		v.tag = ""
	}
	if p.Digest != "" && sum == fi.MD5 {
		vouched = append(vouched, v.s.parseLink(fi.Path, p, []byte(p.Digest)))
	} else {
		v.unread = append(v.unread, fi.Path)
	}
	return vouched
}

// passed tells that the walk is at path: a tag current link still waiting
// whose folder the walk has left is read (no index entry vouched for it).
func (v *vouching) passed(path string) {
	if v.tag != "" && !strings.HasPrefix(path, v.tagFolder) {
		v.unread = append(v.unread, v.tag)
		v.tag = ""
	}
}

// done ends the walk and returns the link files to read.
func (v *vouching) done() []string {
	v.passed("")
	return v.unread
}
