package snapshot

import (
	"iter"
	"slices"

	"github.com/regbackup/regbackup/archive"
)

// Unreached yields, by digest, the blobs Present holds that no revisions
// or tag link reaches through the manifests (index children included),
// and their sizes: the orphans the registry's garbage collector would
// delete (a _layers link alone does not keep a blob). The blobs reached
// are a bit each, not a set of strings: three million at a million tags.
// It seals the manifests.
func (s *Snapshot) Unreached() iter.Seq2[string, int64] {
	ms := s.Manifests
	ms.seal()
	var reached handleSet
	var stack []handle
	for i := range s.Links {
		if l := &s.Links[i]; l.Kind == archive.KindRevisionLink || l.Kind == archive.KindTagCurrentLink {
			stack = append(stack, l.dg)
		}
		for len(stack) > 0 {
			h := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if !h.isDigest() || reached.has(h) { // no blob is named by a string that is no digest
				continue
			}
			reached.add(h)
			if r := ms.recOf(h); r != nil {
				stack = append(stack, ms.refsOf(r)...)
			}
		}
	}
	return func(yield func(string, int64) bool) {
		bs := s.Present
		if bs == nil || !bs.sealIfFrozen() {
			return
		}
		for i, h := range bs.hs {
			if !reached.has(h) && !yield(bs.names.str(h), bs.sizes[i]) {
				return
			}
		}
	}
}

// recOf is the record of the manifest whose digest h stands for, or nil;
// the set must be sealed.
func (ms *ManifestSet) recOf(h handle) *manifestRec {
	i, ok := slices.BinarySearchFunc(ms.recs, h, func(r manifestRec, h handle) int { return ms.names.compare(r.dg, h) })
	if !ok || ms.recs[i].size < 0 {
		return nil
	}
	return &ms.recs[i]
}
