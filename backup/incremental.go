package backup

import (
	"fmt"

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
	held := map[string]archive.Blob{}
	for _, b := range base.Blobs {
		held[b.Digest] = archive.Blob{Digest: b.Digest, Size: b.Size, Archive: base.Holder(b)}
	}
	used := map[string]bool{}
	blobs := make([]archive.Blob, len(cat.Blobs))
	for i, b := range cat.Blobs {
		if h, ok := held[b.Digest]; ok && h.Size == b.Size {
			b.Archive = h.Archive
			used[h.Archive] = true
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
