package snapshot

import (
	"iter"
	"slices"
)

// BlobSizes maps blob digest to size: the blobs a snapshot found in
// storage.
//
// A million tags are some three million blobs, so it is no map of strings
// (about 36 bytes a blob) but sizes by the digest's handle in the
// snapshot's interner, in pages that never move: 8 bytes a string the
// interner holds (digests, and the tags and repository names beside
// them). Once the interner is frozen (the snapshot taken), the first call
// seals the set: the digests sorted, and their sizes beside them, 12 bytes
// a blob, found by binary search. Not safe for concurrent use.
type BlobSizes struct {
	names *interner
	pages [internPages][]int64 // by handle: size+1, 0 for none; nil once sealed
	n     int
	// Once sealed:
	hs    []handle // by digest
	sizes []int64  // of hs[i]
}

func newBlobSizes(names *interner) *BlobSizes { return &BlobSizes{names: names} }

// Len is how many blobs the set holds (0 for nil).
func (bs *BlobSizes) Len() int {
	if bs == nil {
		return 0
	}
	return bs.n
}

// Size is the size of blob dg, and whether the set holds it.
func (bs *BlobSizes) Size(dg string) (int64, bool) {
	if bs == nil {
		return 0, false
	}
	if bs.sealIfFrozen() {
		i, ok := bs.names.search(len(bs.hs), func(i int) handle { return bs.hs[i] }, dg)
		if !ok {
			return 0, false
		}
		return bs.sizes[i], true
	}
	h, ok := bs.names.find(dg)
	if !ok {
		return 0, false
	}
	return bs.sizeOf(h)
}

// sizeOf is Size by the digest's handle, while the set is not sealed
// (false for a string that is no digest).
func (bs *BlobSizes) sizeOf(h handle) (int64, bool) {
	if !h.isDigest() {
		return 0, false
	}
	p, off := page(handle(h.index()))
	if bs.pages[p] == nil || bs.pages[p][off] == 0 {
		return 0, false
	}
	return bs.pages[p][off] - 1, true
}

// Has reports whether the set holds blob dg.
func (bs *BlobSizes) Has(dg string) bool {
	_, ok := bs.Size(dg)
	return ok
}

// All yields every blob and its size: by digest once the snapshot is
// taken, by handle while it is.
func (bs *BlobSizes) All() iter.Seq2[string, int64] {
	return func(yield func(string, int64) bool) {
		if bs == nil {
			return
		}
		if bs.sealIfFrozen() {
			for i, h := range bs.hs {
				if !yield(bs.names.str(h), bs.sizes[i]) {
					return
				}
			}
			return
		}
		for h, size := range bs.byHandle() {
			if !yield(bs.names.str(h), size) {
				return
			}
		}
	}
}

// byHandle yields the blobs by handle, while the set is not sealed.
func (bs *BlobSizes) byHandle() iter.Seq2[handle, int64] {
	return func(yield func(handle, int64) bool) {
		for p, pg := range bs.pages {
			for off, v := range pg {
				if v != 0 && !yield(digestBit|handle(internPage0<<p+off+1-internPage0), v-1) {
					return
				}
			}
		}
	}
}

// set records blob dg of size bytes, interning dg.
func (bs *BlobSizes) set(dg string, size int64) {
	bs.setHandle(bs.names.put(dg), size)
}

// setHandle records the blob handle h stands for: a digest's (see
// interner).
func (bs *BlobSizes) setHandle(h handle, size int64) {
	if bs.hs != nil {
		panic("snapshot: blob recorded in a sealed set")
	}
	if !h.isDigest() {
		panic("snapshot: blob size recorded for a string that is no digest")
	}
	p, off := page(handle(h.index()))
	if bs.pages[p] == nil {
		bs.pages[p] = make([]int64, internPage0<<p)
	}
	if bs.pages[p][off] == 0 {
		bs.n++
	}
	bs.pages[p][off] = size + 1
}

// delete forgets blob dg, if held.
func (bs *BlobSizes) delete(dg string) {
	h, ok := bs.names.find(dg)
	if !ok {
		return
	}
	if !h.isDigest() {
		return
	}
	if p, off := page(handle(h.index())); bs.pages[p] != nil && bs.pages[p][off] != 0 {
		bs.pages[p][off] = 0
		bs.n--
	}
}

// sealIfFrozen seals the set once its interner is frozen (finds no
// handle), and reports whether it is sealed.
func (bs *BlobSizes) sealIfFrozen() bool {
	if bs.hs != nil || bs.n == 0 {
		return bs.hs != nil
	}
	if !bs.names.frozen() {
		return false
	}
	bs.hs, bs.sizes = make([]handle, 0, bs.n), make([]int64, 0, bs.n)
	for h := range bs.byHandle() {
		bs.hs = append(bs.hs, h)
	}
	slices.SortFunc(bs.hs, bs.names.compare)
	for _, h := range bs.hs {
		p, off := page(handle(h.index()))
		bs.sizes = append(bs.sizes, bs.pages[p][off]-1)
	}
	bs.pages = [internPages][]int64{}
	return true
}
