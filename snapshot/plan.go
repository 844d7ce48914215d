package snapshot

import (
	"iter"

	"github.com/regbackup/regbackup/archive"
)

// Plan is the blobs a snapshot plans to copy, sorted by digest: an
// archive.BlobList that makes each archive.Blob when asked for it.
//
// A million tags plan some three million blobs: as a []archive.Blob that
// is 120 MB, as the digest's handle in the snapshot's interner and the
// size, 12 bytes a blob. A database's snapshot, whose digests are strings
// already, keeps its blobs whole.
type Plan struct {
	names *interner // nil: whole holds the blobs
	hs    []handle
	sizes []int64 // of hs[i]
	whole archive.Blobs
}

var _ archive.BlobSearcher = (*Plan)(nil)

// Len is how many blobs the plan holds (0 for nil).
func (p *Plan) Len() int {
	switch {
	case p == nil:
		return 0
	case p.names == nil:
		return len(p.whole)
	}
	return len(p.hs)
}

// At is blob i.
func (p *Plan) At(i int) archive.Blob {
	if p.names == nil {
		return p.whole[i]
	}
	return archive.Blob{Digest: p.names.str(p.hs[i]), Size: p.sizes[i]}
}

// Search is where blob dg is, or would be, and whether it is there.
func (p *Plan) Search(dg string) (int, bool) {
	switch {
	case p == nil:
		return 0, false
	case p.names == nil:
		return archive.SearchBlobs(p.whole, dg)
	}
	return p.names.search(len(p.hs), func(i int) handle { return p.hs[i] }, dg)
}

// Has reports whether the plan holds blob dg.
func (p *Plan) Has(dg string) bool {
	_, ok := p.Search(dg)
	return ok
}

// All yields the blobs in order.
func (p *Plan) All() iter.Seq[archive.Blob] { return archive.EachBlob(p) }

// Slice is the blobs, made whole: for tests and small registries.
func (p *Plan) Slice() []archive.Blob {
	out := make([]archive.Blob, 0, p.Len())
	for b := range p.All() {
		out = append(out, b)
	}
	return out
}
