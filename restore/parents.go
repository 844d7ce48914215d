package backup

import (
	"context"
	"fmt"

	"github.com/regbackup/regbackup/archive"
)

// restoreParents restores, from the parents of an incremental archive, the
// blobs it needs that they hold. Each parent needed is streamed once, in
// the catalog's order (nearest first): its catalog must be the one the
// incremental names, every entry is verified as it passes, its trailer is
// checked, and every blob it should hold must have been there intact.
// Link files are only ever taken from the incremental itself, after all of
// this (RestoreArchive writes them last).
func (rs *restorer) restoreParents(ctx context.Context, cat *archive.Catalog) error {
	byParent := parentBlobs(cat, rs.need)
	for _, p := range cat.Parents {
		want := byParent[p.Name]
		if len(want) == 0 {
			continue
		}
		rs.opts.Progress.phase("parent", fmt.Sprintf("%s: %d blobs", p.Name, len(want)))
		ar, done, err := openParent(rs.opts.Parents, p, rs.opts.Identities)
		if err != nil {
			return err
		}
		w := rs.startBlobs(ctx)
		err = readParent(ar, errArchive+": parent archive "+p.Name, want, func(e *archive.Entry) error {
			ok, err := w.add(e)
			if ok {
				rs.keep[archive.BlobPath(e.Path.Digest)] = true
			}
			return err
		}, w.ctx.Err)
		done()
		if err := w.finish(err); err != nil {
			return err
		}
	}
	return nil
}

// verifyParents reads every parent of an incremental archive whole, as
// restoreParents would, and counts the blobs they hold for it in rep.
func verifyParents(ctx context.Context, cat *archive.Catalog, opts VerifyOptions, rep *Report) error {
	byParent := parentBlobs(cat, nil)
	sizes := map[string]int64{}
	for _, b := range cat.Blobs {
		sizes[b.Digest] = b.Size
	}
	for _, p := range cat.Parents {
		want := byParent[p.Name]
		opts.Progress.phase("parent", fmt.Sprintf("%s: %d blobs", p.Name, len(want)))
		ar, done, err := openParent(opts.Parents, p, opts.Identities)
		if err != nil {
			return err
		}
		err = readParent(ar, "parent archive "+p.Name, want, func(e *archive.Entry) error { return nil }, ctx.Err)
		done()
		if err != nil {
			return err
		}
		for d := range want {
			rep.Blobs++
			rep.BlobBytes += sizes[d]
			opts.Progress.add(1, sizes[d])
		}
	}
	return nil
}
