package backup

import (
	"fmt"
	"slices"
	"strings"

	"github.com/regbackup/regbackup/archive"
)

// DefaultMaxParents is how many parent archives an incremental backup may
// need before a full one is written instead (Options.MaxParents).
const DefaultMaxParents = 30

// applyBase turns cat into an incremental catalog on top of base (the
// newest earlier archive, as its sidecar describes it): every blob base or
// one of its parents holds intact, with the same size, is left to that
// archive (Blob.Archive), and cat.Parents lists the archives so named,
// nearest first. It returns the blobs this archive must hold itself. With
// no base, or when more than maxParents archives would be needed, cat
// stays a full catalog and every blob is returned.
func applyBase(cat *archive.Catalog, base *archive.Meta, maxParents int) (local []archive.Blob, note string) {
	if base == nil {
		return cat.Blobs, ""
	}
	held := heldBy(base, cat.Blobs)
	used := map[string]bool{}
	blobs := make([]archive.Blob, len(cat.Blobs))
	for i, b := range cat.Blobs {
		if h, ok := held(b.Digest); ok && h.Size == b.Size {
			b.Archive = base.Holder(h)
			used[b.Archive] = true
		} else {
			local = append(local, b)
		}
		blobs[i] = b
	}
	chain := append([]archive.Parent{{Name: base.Archive, CatalogSHA256: base.CatalogSHA256, Created: base.Created}}, base.Parents...)
	var parents []archive.Parent
	for _, p := range chain {
		if used[p.Name] {
			parents = append(parents, p)
		}
	}
	if maxParents <= 0 {
		maxParents = DefaultMaxParents
	}
	if len(parents) > maxParents {
		return cat.Blobs, fmt.Sprintf("an incremental on top of %s would need %d parent archives, over --max-chain %d: writing a full backup",
			base.Archive, len(parents), maxParents)
	}
	cat.Blobs, cat.Parents = blobs, parents
	return local, ""
}

// heldBy returns a lookup of the blobs base and its parents hold, to be
// asked for the digests of want in want's order. Both lists are sorted by
// digest (a sidecar's and a catalog's are), so that is a walk along base's;
// a map of them (some hundred bytes a blob) only when one is not.
func heldBy(base *archive.Meta, want []archive.Blob) func(dg string) (archive.Blob, bool) {
	bs := base.Blobs
	byDigest := func(a, b archive.Blob) int { return strings.Compare(a.Digest, b.Digest) }
	if !slices.IsSortedFunc(bs, byDigest) || !slices.IsSortedFunc(want, byDigest) {
		m := make(map[string]archive.Blob, len(bs))
		for _, b := range bs {
			m[b.Digest] = b
		}
		return func(dg string) (archive.Blob, bool) { b, ok := m[dg]; return b, ok }
	}
	i := 0
	return func(dg string) (archive.Blob, bool) {
		for i < len(bs) && bs[i].Digest < dg {
			i++
		}
		if i < len(bs) && bs[i].Digest == dg {
			return bs[i], true
		}
		return archive.Blob{}, false
	}
}
