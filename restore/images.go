package restore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/regbackup/regbackup/archive"
)

// imageTable is what a listing keeps of the catalog's tags: 56 bytes a
// tag in one flat slice (its repository as an index, its name in a shared
// byte arena, its digest as 32 bytes, its size and media type once known)
// where the Image of strings it is listed as takes some 160: a million
// tags take about 60 MB. The Images are made from it one at a time as they
// are written out (see Listing.EachImage).
type imageTable struct {
	rows  []imageRow
	names []byte // tag names (and digests that are no sha256 digest), one after the other
}

type imageRow struct {
	// sum is the digest's 32 bytes; for a digest that is no sha256
	// digest (rowOdd) its first four bytes are its length, and it follows
	// the tag's name in names.
	sum       [32]byte
	size      int64
	repo      uint32 // index in CatalogScan.repos
	tag, n    uint32 // the tag's name: names[tag : tag+n]
	mediaType uint32 // manifestGraph.types index + 1 (0: no manifest found), and rowOdd
}

// rowOdd marks, in imageRow.mediaType, a row whose digest is in names.
const rowOdd = 1 << 31

// add adds the tag name of repository repo, whose current manifest is
// digest.
func (t *imageTable) add(repo int, name, digest string) error {
	if uint64(len(t.names))+uint64(len(name))+uint64(len(digest)) >= math.MaxUint32 ||
		uint64(repo) >= math.MaxUint32 || uint64(len(t.rows)) >= math.MaxUint32 {
		return fmt.Errorf("catalog: more tags than a listing holds: %w", archive.ErrCorrupt)
	}
	r := imageRow{repo: uint32(repo), tag: uint32(len(t.names)), n: uint32(len(name))}
	t.names = append(t.names, name...)
	if sum, ok := archive.ParseSum(digest); ok {
		r.sum = sum
	} else {
		binary.LittleEndian.PutUint32(r.sum[:], uint32(len(digest)))
		t.names = append(t.names, digest...)
		r.mediaType = rowOdd
	}
	t.rows = append(t.rows, r)
	return nil
}

// clip lets go of the capacity the rows and names grew beyond what they
// hold (up to a quarter: 15 MB at a million tags), once every tag was
// added.
func (t *imageTable) clip() {
	if cap(t.rows) > len(t.rows)+len(t.rows)/16 {
		t.rows = slices.Clone(t.rows)
	}
	if cap(t.names) > len(t.names)+len(t.names)/16 {
		t.names = slices.Clone(t.names)
	}
}

// name is row r's tag name.
func (t *imageTable) name(r *imageRow) string { return string(t.names[r.tag : r.tag+r.n]) }

// digest is row r's digest.
func (t *imageTable) digest(r *imageRow) string {
	if r.mediaType&rowOdd != 0 {
		start := r.tag + r.n
		return string(t.names[start : start+binary.LittleEndian.Uint32(r.sum[:])])
	}
	return archive.SumDigest(r.sum)
}

// sumOf is row r's digest as 32 bytes, and false for one that is no
// sha256 digest.
func (t *imageTable) sumOf(r *imageRow) ([32]byte, bool) {
	return r.sum, r.mediaType&rowOdd == 0
}

// sort orders the images by repository name, then tag, as a listing
// shows them; of the same repository and tag, in catalog order.
func (t *imageTable) sort(repos []RepositorySummary) {
	slices.SortStableFunc(t.rows, func(a, b imageRow) int {
		if a.repo != b.repo {
			if c := strings.Compare(repos[a.repo].Name, repos[b.repo].Name); c != 0 {
				return c
			}
		}
		return bytes.Compare(t.names[a.tag:a.tag+a.n], t.names[b.tag:b.tag+b.n])
	})
}
