package snapshot

import (
	"cmp"
	"slices"

	"github.com/regbackup/regbackup/archive"
)

// knownSet is the manifests the sidecar of an incremental's parent
// describes (Options.Known), their digests handles into the snapshot's
// interner: 24 bytes a manifest and 4 a reference, the digests' bytes
// shared with the snapshot's own, where the sidecar's blob list alone is
// 42 bytes a blob (a million tags: some 30 MB instead of 170).
type knownSet struct {
	recs []knownRec // by digest's handle
	refs []handle   // every record's references, one after the other
}

// knownRec is one manifest: its references are refs[first:first+n].
type knownRec struct {
	dg, mediaType handle
	first, n      uint32
	size          int64
}

// loadKnown reads the manifests base describes into s.known, once the
// blob listing is in (its digests are then mostly in the interner
// already). A sidecar that cannot be read is no error: its manifests
// are read from storage as if unknown (and the backup's blob list, read
// from it again, stops the backup if the error lasts). An entry naming
// a blob or media type it does not list is left out, read likewise.
func (s *Snapshot) loadKnown(base *archive.Meta) {
	types := make([]handle, len(base.MediaTypes))
	for i, t := range base.MediaTypes {
		if len(t) <= internMaxLen {
			types[i] = s.names.put(t)
		}
	}
	var digests []handle // the sidecar's blob i
	var sizes []int64
	k := &knownSet{}
	err := base.Scan(func(b archive.Blob) error {
		digests = append(digests, s.names.put(b.Digest))
		sizes = append(sizes, b.Size)
		return nil
	}, func(row []int32) error {
		if len(row) < 2 || row[1] < 0 || int(row[1]) >= len(types) || types[row[1]] == 0 {
			return nil
		}
		for i, x := range row {
			if i != 1 && (x < 0 || int(x) >= len(digests)) {
				return nil
			}
		}
		k.recs = append(k.recs, knownRec{dg: digests[row[0]], mediaType: types[row[1]], size: sizes[row[0]],
			first: uint32(len(k.refs)), n: uint32(len(row) - 2)})
		for _, x := range row[2:] {
			k.refs = append(k.refs, digests[x])
		}
		return nil
	})
	if err != nil {
		return
	}
	slices.SortFunc(k.recs, func(a, b knownRec) int { return cmp.Compare(a.dg, b.dg) })
	k.recs, k.refs = slices.Clip(k.recs), slices.Clip(k.refs)
	s.known = k
}

// knownAt is the manifest Options.Known describes for dg, made for the
// caller, or nil. Safe for concurrent use while the snapshot is taken.
func (s *Snapshot) knownAt(dg string) *archive.Manifest {
	if s.known == nil {
		return nil
	}
	h, ok := s.names.find(dg)
	if !ok {
		return nil
	}
	i, ok := slices.BinarySearchFunc(s.known.recs, h, func(r knownRec, h handle) int { return cmp.Compare(r.dg, h) })
	if !ok {
		return nil
	}
	r := &s.known.recs[i]
	m := &archive.Manifest{Digest: dg, MediaType: s.names.str(r.mediaType), Size: r.size}
	if r.n > 0 {
		m.References = make([]string, r.n)
		for j, ref := range s.known.refs[r.first : r.first+r.n] {
			m.References[j] = s.names.str(ref)
		}
	}
	return m
}
