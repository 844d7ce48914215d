package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"filippo.io/age"
	"github.com/regbackup/regbackup/archive"
)

// ParentOpener opens the file holding parent p for reading; the caller of
// the opener closes it. The core checks that its catalog is p's.
type ParentOpener func(p archive.Parent) (io.ReadCloser, error)

// restoreParents restores, from the parents of an incremental archive, the
// blobs it needs that they hold. Each parent needed is streamed once, in
// the catalog's order (nearest first): its catalog must be the one the
// incremental names, every entry is verified as it passes, its trailer is
// checked, and every blob it should hold must have been there intact.
// Link files are only ever taken from the incremental itself, after all of
// this (FromReader writes them last).
func (rs *restorer) restoreParents(ctx context.Context, ar *archive.Reader) error {
	byParent, err := parentBlobs(ar, rs.need)
	if err != nil {
		return err
	}
	for _, p := range ar.Catalog().Parents {
		want := byParent[p.Name]
		if want.len() == 0 {
			continue
		}
		rs.opts.Progress.StartPhase("parent", fmt.Sprintf("%s: %d blobs", p.Name, want.len()))
		ar, done, err := openParent(rs.opts.Parents, p, rs.opts.Identities)
		if err != nil {
			return err
		}
		w := rs.startBlobs(ctx)
		err = readParent(ar, errArchive+": parent archive "+p.Name, want, func(e *archive.Entry) error {
			ok, err := w.add(e)
			if ok && err == nil {
				err = rs.kept(archive.BlobPath(e.Path.Digest))
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
func verifyParents(ctx context.Context, child *archive.Reader, opts VerifyOptions, rep *VerifyReport) error {
	byParent, err := parentBlobs(child, nil)
	if err != nil {
		return err
	}
	for _, p := range child.Catalog().Parents {
		want := byParent[p.Name]
		if want == nil {
			want = &digestSet{} // read whole all the same: the chain must be intact
		}
		opts.Progress.StartPhase("parent", fmt.Sprintf("%s: %d blobs", p.Name, want.len()))
		ar, done, err := openParent(opts.Parents, p, opts.Identities)
		if err != nil {
			return err
		}
		err = readParent(ar, "parent archive "+p.Name, want, func(e *archive.Entry) error { return nil }, ctx.Err)
		done()
		if err != nil {
			return err
		}
		for _, sum := range want.sums {
			b, _ := child.BlobOf(sum)
			rep.Blobs++
			rep.BlobBytes += b.Size
			opts.Progress.Add(1, b.Size)
		}
	}
	return nil
}

// openParent opens parent p with open and checks that it is the archive
// the incremental names.
func openParent(open ParentOpener, p archive.Parent, ids []age.Identity) (*archive.Reader, func(), error) {
	if open == nil {
		return nil, nil, fmt.Errorf("parent archive %s is needed but no way to find it was given: %w", p.Name, archive.ErrParentMissing)
	}
	rc, err := open(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("parent archive %s: %w (%v)", p.Name, archive.ErrParentMissing, err)
		}
		return nil, nil, fmt.Errorf("parent archive %s: %w", p.Name, err)
	}
	// Only its entries are read: its catalog's lists are not kept.
	ar, err := archive.NewReaderOptions(rc, archive.ReaderOptions{Identities: ids, Visitor: &archive.CatalogVisitor{}})
	if err != nil {
		rc.Close()
		return nil, nil, fmt.Errorf("parent archive %s: %w", p.Name, err)
	}
	if ar.CatalogSHA256() != p.CatalogSHA256 {
		ar.Close()
		rc.Close()
		return nil, nil, fmt.Errorf("parent archive %s: catalog sha256 is %s, the incremental needs %s: %w",
			p.Name, archive.ShortSum(ar.CatalogSHA256()), archive.ShortSum(p.CatalogSHA256), archive.ErrParentMismatch)
	}
	return ar, func() { ar.Close(); rc.Close() }, nil
}

// readParent streams a parent archive to its end (every digest and its
// trailer checked), handing each blob entry in want to use, and then
// checks that every blob in want was there intact. Errors reading the
// archive start with prefix.
func readParent(ar *archive.Reader, prefix string, want *digestSet, use func(*archive.Entry) error, stop func() error) error {
	for {
		if err := stop(); err != nil {
			return err
		}
		e, err := ar.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", prefix, err)
		}
		if e.Path.Kind == archive.KindBlob && want.hasDigest(e.Path.Digest) {
			if err := use(e); err != nil {
				return err
			}
		}
	}
	for _, sum := range want.sums {
		if d := archive.SumDigest(sum); !ar.Held(d) {
			return fmt.Errorf("%s: it does not hold blob %s intact, which the incremental needs: %w",
				prefix, d, archive.ErrCorrupt)
		}
	}
	return nil
}

// parentBlobs groups the blobs of ar's catalog that a parent holds, by
// parent, keeping only those need selects (nil: all).
func parentBlobs(ar *archive.Reader, need *blobSelection) (map[string]*digestSet, error) {
	out := map[string]*digestSet{}
	err := ar.EachBlob(func(b archive.Blob) error {
		if b.Archive == "" {
			return nil
		}
		sum, _ := archive.ParseSum(b.Digest) // the plan holds only valid digests
		if need != nil && !need.has(sum) {
			return nil
		}
		if out[b.Archive] == nil {
			out[b.Archive] = &digestSet{}
		}
		out[b.Archive].add(sum)
		return nil
	})
	for _, s := range out {
		s.finish()
	}
	return out, err
}
