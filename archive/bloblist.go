package archive

import (
	"iter"
	"sort"
	"strings"
)

// BlobList is a list of blobs sorted by digest that may make each Blob
// only when asked for it. A snapshot of a million tags plans some three
// million blobs: as a []Blob that is 120 MB beside the digests' text,
// while the snapshot's own plan keeps a blob in 12 bytes (see
// snapshot.Plan). Backup writes a catalog's blob list and a sidecar's
// from one.
type BlobList interface {
	// Len is how many blobs the list holds.
	Len() int
	// At is blob i, 0 <= i < Len(); its strings may be made for the call.
	At(i int) Blob
}

// Blobs is a BlobList held whole.
type Blobs []Blob

func (bs Blobs) Len() int      { return len(bs) }
func (bs Blobs) At(i int) Blob { return bs[i] }

// BlobSearcher is a BlobList that finds a digest without making the
// blobs it passes (SearchBlobs uses it when l is one).
type BlobSearcher interface {
	BlobList
	// Search is where blob dg is, or would be, and whether it is there.
	Search(dg string) (int, bool)
}

// SearchBlobs is where blob dg is, or would be, in l, sorted by digest,
// and whether it is there.
func SearchBlobs(l BlobList, dg string) (int, bool) {
	if l == nil {
		return 0, false
	}
	if s, ok := l.(BlobSearcher); ok {
		return s.Search(dg)
	}
	n := l.Len()
	i := sort.Search(n, func(i int) bool { return strings.Compare(l.At(i).Digest, dg) >= 0 })
	return i, i < n && l.At(i).Digest == dg
}

// EachBlob yields l's blobs in order (none for nil).
func EachBlob(l BlobList) iter.Seq[Blob] {
	return func(yield func(Blob) bool) {
		if l == nil {
			return
		}
		for i := range l.Len() {
			if !yield(l.At(i)) {
				return
			}
		}
	}
}

// keptBlobs is a BlobList of some of another's blobs: those at idx.
type keptBlobs struct {
	l   BlobList
	idx []int32
}

func (k *keptBlobs) Len() int      { return len(k.idx) }
func (k *keptBlobs) At(i int) Blob { return k.l.At(int(k.idx[i])) }

// Search finds dg in the underlying list, then among the kept.
func (k *keptBlobs) Search(dg string) (int, bool) {
	j, ok := SearchBlobs(k.l, dg)
	i := sort.Search(len(k.idx), func(i int) bool { return int(k.idx[i]) >= j })
	return i, ok && i < len(k.idx) && int(k.idx[i]) == j
}
