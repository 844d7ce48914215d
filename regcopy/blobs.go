package regcopy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/blobio"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/linkwriter"
	"github.com/regbackup/regbackup/parallel"
	"github.com/regbackup/regbackup/problem"
)

// copyBlobs copies the blobs of plan at indexes blobs from c.src to
// c.dst, c.n at a time (see copyBlob). It returns the first error that is
// not damage in the source, having stopped the rest.
func (c *copier) copyBlobs(ctx context.Context, plan archive.BlobList, blobs []int32) error {
	var total int64
	for _, i := range blobs {
		total += plan.At(int(i)).Size
	}
	prog := c.opts.Progress
	prog.StartPhase("blobs", fmt.Sprintf("%d blobs, %d bytes", len(blobs), total))
	prog.Plan(len(blobs), total)
	c.failed = map[string]bool{}
	l, err := c.blobList.wait(ctx)
	if err != nil {
		return err
	}
	var have map[string]linkwriter.Listed
	if l != nil {
		have = l.files
	}
	err = parallel.ForEach(ctx, c.n, blobs, func(ctx context.Context, i int32) error {
		b := plan.At(int(i))
		err := c.copyBlob(ctx, b, have)
		prog.Add(1, b.Size)
		return err
	})
	if err != nil {
		return fmt.Errorf("copying blobs to %s: %w", c.dst, err)
	}
	return nil
}

// copyBlob copies one blob unless the target already holds it: at the
// right size, and with VerifyExisting also with the right digest. have is
// the target's listing of blobs/ by path, nil to Stat instead. The copy is
// server-side when the target can (drivers.Copier): the bytes do not pass
// through this process, so they are not hashed (a later run with
// VerifyExisting hashes them at the target). Otherwise it streams through
// a verifyingReader into Put, which therefore stores nothing when the
// source does not match the digest. A blob missing or corrupt in the
// source is reported and recorded in c.failed; only other errors are
// returned.
func (c *copier) copyBlob(ctx context.Context, b archive.Blob, have map[string]linkwriter.Listed) error {
	p := archive.BlobPath(b.Digest)
	state, err := c.holds(ctx, p, b, have)
	if err != nil || state == held {
		return err
	}
	if c.opts.DryRun {
		c.done("copy", p, b.Size, func(r *Report) *int { return &r.Blobs })
		return nil
	}
	// A target copy that did not match is replaced through this process:
	// a server-side copy would not notice that the source is corrupt too.
	if state == absent && c.useServerSide() {
		err := c.dst.(drivers.Copier).CopyFrom(ctx, p, c.src, p)
		switch {
		case err == nil:
			c.done("server-copy", p, b.Size, func(r *Report) *int { return &r.ServerSide })
			return nil
		case errors.Is(err, drivers.ErrNoServerCopy):
			c.mu.Lock()
			c.serverSide = false // the same for every other blob of this source
			c.mu.Unlock()
		case errors.Is(err, drivers.ErrNotFound):
			c.damaged(b, "vanished from the source after the snapshot (deleted or garbage-collected?)")
			return nil
		default:
			return fmt.Errorf("server-side copy of blob %s: %w", b.Digest, err)
		}
	}
	rc, err := c.src.Reader(ctx, p)
	if errors.Is(err, drivers.ErrNotFound) {
		c.damaged(b, "vanished from the source after the snapshot (deleted or garbage-collected?)")
		return nil
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	vr := newVerifyingReader(rc, p, b.Digest, b.Size)
	err = c.dst.Put(ctx, p, vr, b.Size)
	switch {
	case ctx.Err() != nil:
		return context.Cause(ctx)
	case vr.mismatch != nil:
		reason := "its content does not match its size in the source (changed while being read?)"
		if de := new(archive.DigestError); errors.As(vr.mismatch, &de) && de.Got != "" {
			reason = "corrupt in the source: its content hashes to " + de.Got
		}
		c.damaged(b, reason)
		return nil
	case vr.readErr != nil:
		c.damaged(b, fmt.Sprintf("could not be read: %v", vr.readErr))
		return nil
	case err != nil:
		return fmt.Errorf("writing blob %s: %w", b.Digest, err)
	}
	c.done("copy", p, b.Size, func(r *Report) *int { return &r.Blobs })
	return nil
}

// targetState is what the target holds of a blob.
type targetState int

const (
	absent   targetState = iota // nothing, or another size
	held                        // the blob (at its size; with VerifyExisting, hashed)
	mismatch                    // with VerifyExisting: the right size, the wrong content
)

// holds reports what the target holds of blob b at path p, and counts it
// as skipped when held. With VerifyExisting a blob of the right size is
// read and hashed too; one that does not match is reported, and counted
// as replaced.
func (c *copier) holds(ctx context.Context, p string, b archive.Blob, have map[string]linkwriter.Listed) (targetState, error) {
	f, ok := have[p]
	size := f.Size
	if have == nil {
		fi, err := c.dst.Stat(ctx, p)
		if err != nil && !errors.Is(err, drivers.ErrNotFound) {
			return absent, fmt.Errorf("looking up blob %s at the target: %w", b.Digest, err)
		}
		size, ok = fi.Size, err == nil
	}
	if !ok || size != b.Size {
		return absent, nil
	}
	if c.opts.VerifyExisting {
		got, _, err := blobio.HashBlob(ctx, c.dst, b.Digest, nil)
		if err != nil {
			return absent, fmt.Errorf("verifying blob %s at the target: %w", b.Digest, err)
		}
		if got != b.Digest {
			c.problems.Add(problem.Notice, p, b.Digest, "the target's copy hashes to %s; copied again", got)
			c.mu.Lock()
			c.rep.Replaced++
			c.mu.Unlock()
			return mismatch, nil
		}
	}
	c.mu.Lock()
	c.rep.Skipped++
	c.rep.SkippedBytes += b.Size
	c.mu.Unlock()
	return held, nil
}

func (c *copier) useServerSide() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.serverSide
}

// done counts a blob copied (in the counter count picks) and tells Change.
func (c *copier) done(action, p string, size int64, count func(*Report) *int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	*count(c.rep)++
	c.rep.BlobBytes += size
	c.change(action, p)
}

// damaged records a blob the source could not give intact.
func (c *copier) damaged(b archive.Blob, reason string) {
	c.mu.Lock()
	c.failed[b.Digest] = true
	c.mu.Unlock()
	c.problems.Add(problem.Damage, archive.BlobPath(b.Digest), b.Digest, "%s; not copied", reason)
}

// verifyingReader passes a blob's content through, hashing it, and fails
// instead of handing over the last bytes when the content does not hash to
// digest, is longer than size, or ends short of it: an all-or-nothing Put
// then stores nothing, even one that stops reading at size bytes or reads
// through io.ReadFull (which drops an error that comes with a full
// buffer). Errors therefore always come with zero bytes. The reason is
// kept in mismatch (an *archive.DigestError); an error reading r, in
// readErr.
type verifyingReader struct {
	r        io.Reader
	h        hash.Hash
	path     string
	digest   string
	size, n  int64
	checked  bool // the digest was checked at size bytes
	mismatch error
	readErr  error
}

func newVerifyingReader(r io.Reader, path, digest string, size int64) *verifyingReader {
	return &verifyingReader{r: r, h: sha256.New(), path: path, digest: digest, size: size}
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.mismatch != nil {
		return 0, v.mismatch
	}
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if err != nil && err != io.EOF {
		v.readErr = err
		return 0, err
	}
	switch {
	case v.n > v.size, err == io.EOF && v.n < v.size:
		v.mismatch = &archive.DigestError{Path: v.path, Want: v.digest}
		return 0, v.mismatch
	case v.n == v.size && !v.checked:
		v.checked = true
		if got := "sha256:" + hex.EncodeToString(v.h.Sum(nil)); got != v.digest {
			v.mismatch = &archive.DigestError{Path: v.path, Want: v.digest, Got: got}
			return 0, v.mismatch
		}
	}
	return n, err
}
