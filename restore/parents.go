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
		if want == nil {
			continue
		}
		rs.opts.Progress.StartPhase("parent", fmt.Sprintf("%s: %d blobs", p.Name, want.count))
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
			// Read whole all the same: the chain must be intact.
			want = &parentWant{child: child, parent: p.Name, none: true}
		}
		opts.Progress.StartPhase("parent", fmt.Sprintf("%s: %d blobs", p.Name, want.count))
		ar, done, err := openParent(opts.Parents, p, opts.Identities)
		if err != nil {
			return err
		}
		err = readParent(ar, "parent archive "+p.Name, want, func(e *archive.Entry) error { return nil }, ctx.Err)
		done()
		if err != nil {
			return err
		}
		err = want.each(func(_ [32]byte, size int64) error {
			rep.Blobs++
			rep.BlobBytes += size
			opts.Progress.Add(1, size)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// parentWant is the blobs of an incremental archive that one parent holds
// for it: those whose record in the child's catalog names the parent
// (and, restoring some repositories, that need selects), looked up in
// the child's plan when asked rather than held as a set (three million
// digests at a million tags).
type parentWant struct {
	child  *archive.Reader
	parent string
	need   *blobSelection // nil: every blob
	none   bool           // wants nothing (a parent no blob names)
	count  int
	bytes  int64
}

// has reports whether the blob whose digest's 32 bytes are sum is wanted.
func (w *parentWant) has(sum [32]byte) bool {
	if w.none {
		return false
	}
	p, ok := w.child.HolderOf(sum)
	return ok && p == w.parent && (w.need == nil || w.need.has(sum))
}

// each calls fn with every blob wanted, in digest order.
func (w *parentWant) each(fn func(sum [32]byte, size int64) error) error {
	if w.none {
		return nil
	}
	return w.child.EachSum(func(sum [32]byte, size int64, parent string) error {
		if parent != w.parent || (w.need != nil && !w.need.has(sum)) {
			return nil
		}
		return fn(sum, size)
	})
}

// readParent streams a parent archive to its end (every digest and its
// trailer checked), handing each blob entry in want to use, and then
// checks that every blob in want was there intact. Errors reading the
// archive start with prefix.
func readParent(ar *archive.Reader, prefix string, want *parentWant, use func(*archive.Entry) error, stop func() error) error {
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
		if e.Path.Kind != archive.KindBlob {
			continue
		}
		if sum, ok := archive.ParseSum(e.Path.Digest); ok && want.has(sum) {
			if err := use(e); err != nil {
				return err
			}
		}
	}
	return want.each(func(sum [32]byte, _ int64) error {
		if d := archive.SumDigest(sum); !ar.Held(d) {
			return fmt.Errorf("%s: it does not hold blob %s intact, which the incremental needs: %w",
				prefix, d, archive.ErrCorrupt)
		}
		return nil
	})
}

// parentBlobs counts the blobs of ar's catalog that each parent holds,
// keeping only those need selects (nil: all): a parent no blob needs has
// none.
func parentBlobs(ar *archive.Reader, need *blobSelection) (map[string]*parentWant, error) {
	out := map[string]*parentWant{}
	err := ar.EachSum(func(sum [32]byte, size int64, parent string) error {
		if parent == "" || (need != nil && !need.has(sum)) {
			return nil
		}
		w := out[parent]
		if w == nil {
			w = &parentWant{child: ar, parent: parent, need: need}
			out[parent] = w
		}
		w.count++
		w.bytes += size
		return nil
	})
	return out, err
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
