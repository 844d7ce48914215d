package snapshot

import (
	"iter"
	"slices"

	"github.com/regbackup/regbackup/archive"
)

// ManifestSet is the snapshot's parsed manifests by digest.
//
// A million tags are a million manifests or more, so they are kept
// compact: a record of 24 bytes each, its strings handles into the
// snapshot's interner and its references in one list shared by all,
// instead of a map of archive.Manifest (some 150 bytes a manifest). Get
// and All make an archive.Manifest when asked for one.
//
// While the snapshot is taken a map finds a record by its digest's handle
// (4 + 4 bytes a manifest); seal then sorts the records by digest and lets
// the map go, and lookups search the records. Not safe for concurrent use.
type ManifestSet struct {
	names *interner
	recs  []manifestRec
	refs  []handle         // every record's references, one after the other
	at    map[handle]int32 // digest -> index in recs, until sealed
	gone  int              // records deleted (size -1), still in recs until sealed
}

// manifestRec is one manifest: its references are refs[first:first+n].
type manifestRec struct {
	dg, mediaType handle
	size          int64 // -1: deleted
	first, n      uint32
}

func newManifestSet(names *interner) *ManifestSet {
	return &ManifestSet{names: names, at: map[handle]int32{}}
}

// Len is how many manifests the set holds (0 for nil).
func (ms *ManifestSet) Len() int {
	if ms == nil {
		return 0
	}
	return len(ms.recs) - ms.gone
}

// put adds m (replacing a manifest of the same digest), interning its
// strings: m is not kept. The set must not be sealed.
func (ms *ManifestSet) put(m *archive.Manifest) {
	if ms.at == nil {
		panic("snapshot: manifest added to a sealed set")
	}
	r := manifestRec{dg: ms.names.put(m.Digest), mediaType: ms.names.put(m.MediaType), size: m.Size,
		first: uint32(len(ms.refs)), n: uint32(len(m.References))}
	for _, ref := range m.References {
		ms.refs = append(ms.refs, ms.names.put(ref))
	}
	if i, ok := ms.at[r.dg]; ok {
		ms.recs[i] = r // its old references stay in refs, unused: a repeat is rare
		return
	}
	ms.at[r.dg] = int32(len(ms.recs))
	ms.recs = append(ms.recs, r)
}

// index is where the manifest of digest dg is in recs, if held.
func (ms *ManifestSet) index(dg string) (int, bool) {
	if ms == nil {
		return 0, false
	}
	if ms.at != nil {
		h, ok := ms.names.find(dg)
		if !ok {
			return 0, false
		}
		i, ok := ms.at[h]
		return int(i), ok
	}
	return ms.names.search(len(ms.recs), func(i int) handle { return ms.recs[i].dg }, dg)
}

// rec is the record of manifest dg, or nil when the set lacks it.
func (ms *ManifestSet) rec(dg string) *manifestRec {
	if i, ok := ms.index(dg); ok && ms.recs[i].size >= 0 {
		return &ms.recs[i]
	}
	return nil
}

// refsOf are the handles of r's references.
func (ms *ManifestSet) refsOf(r *manifestRec) []handle { return ms.refs[r.first : r.first+r.n] }

// Has reports whether the set holds manifest dg.
func (ms *ManifestSet) Has(dg string) bool { return ms.rec(dg) != nil }

// Get is manifest dg, made for the caller, or nil when the set lacks it.
func (ms *ManifestSet) Get(dg string) *archive.Manifest {
	if r := ms.rec(dg); r != nil {
		return ms.manifest(r)
	}
	return nil
}

// manifest makes the archive.Manifest of r; its strings are the
// interner's.
func (ms *ManifestSet) manifest(r *manifestRec) *archive.Manifest {
	m := &archive.Manifest{Digest: ms.names.str(r.dg), MediaType: ms.names.str(r.mediaType), Size: r.size}
	if r.n > 0 {
		m.References = make([]string, r.n)
		for i, h := range ms.refsOf(r) {
			m.References[i] = ms.names.str(h)
		}
	}
	return m
}

// delete drops manifest dg, if held.
func (ms *ManifestSet) delete(dg string) {
	if i, ok := ms.index(dg); ok && ms.recs[i].size >= 0 {
		ms.recs[i].size = -1
		delete(ms.at, ms.recs[i].dg)
		ms.gone++
	}
}

// seal sorts the records by digest, drops those deleted, and lets the map
// go: the set takes no more manifests, and is found in by binary search.
// Sealing again does nothing.
func (ms *ManifestSet) seal() {
	if ms.at == nil {
		return
	}
	ms.at = nil
	ms.recs = slices.DeleteFunc(ms.recs, func(r manifestRec) bool { return r.size < 0 })
	ms.gone = 0
	slices.SortFunc(ms.recs, func(a, b manifestRec) int { return ms.names.compare(a.dg, b.dg) })
	ms.recs = slices.Clip(ms.recs)
}

// All yields every manifest, made for the caller, by digest. It seals the
// set.
func (ms *ManifestSet) All() iter.Seq[*archive.Manifest] {
	return func(yield func(*archive.Manifest) bool) {
		if ms == nil {
			return
		}
		ms.seal()
		for i := range ms.recs {
			if r := &ms.recs[i]; r.size >= 0 && !yield(ms.manifest(r)) {
				return
			}
		}
	}
}

// Slice is every manifest, by digest (All, collected). It seals the set.
func (ms *ManifestSet) Slice() []archive.Manifest {
	if ms == nil {
		return nil
	}
	out := make([]archive.Manifest, 0, ms.Len())
	for m := range ms.All() {
		out = append(out, *m)
	}
	return out
}
