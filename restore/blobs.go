package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/blobio"
	"github.com/regbackup/regbackup/drivers"
)

// restoreBuffer bounds the bytes of blobs read from the archive and
// waiting for, or in, a worker's Put. A quarter of it is the largest blob
// buffered; bigger ones stream from the archive into Put.
const restoreBuffer = 64 << 20

// errArchive prefixes errors reading the archive during a restore.
const errArchive = "reading archive (no link file was written; the registry still serves what it served)"

// blobWriter commits a restore's blobs with many requests in flight while
// one goroutine (the caller) reads the archive, entry after entry:
//
//   - a blob whose buffer takes at most share bytes (bufferCost) is read
//     whole into a buffer taken from a budget, which also checks its
//     digest (the archive reports a mismatch at the end of the entry), and
//     only then handed to one of n workers, which skip it when the target
//     holds it intact, or Put it;
//   - a bigger blob is checked and Put by the caller itself, straight from
//     the archive, while the workers go on with the buffered ones; Put is
//     all or nothing, so a mismatch found at the end commits nothing.
//
// Memory is thus bounded by the budget (plus what a driver's Put holds),
// whatever the blob sizes. The first error, the caller's or a worker's,
// cancels everything else and is the one finish returns.
type blobWriter struct {
	rs     *restorer
	ctx    context.Context
	cancel context.CancelCauseFunc
	budget *budget
	share  int64 // at most the budget's total, so acquire never waits forever
	jobs   chan blobJob
	wg     sync.WaitGroup
}

// blobJob is one blob for a worker. buf is nil in a dry run: the worker
// then only checks whether the target holds the blob.
type blobJob struct {
	digest string
	size   int64
	buf    *blobBuffer
}

// startBlobs starts rs.n workers; the caller must call finish.
func (rs *restorer) startBlobs(ctx context.Context) *blobWriter {
	ctx, cancel := context.WithCancelCause(ctx)
	w := &blobWriter{rs: rs, ctx: ctx, cancel: cancel, budget: newBudget(rs.bufBytes),
		share: rs.bufBytes / 4, jobs: make(chan blobJob)}
	rs.budget = w.budget
	for range rs.n {
		w.wg.Add(1)
		go w.work()
	}
	return w
}

// add commits the blob entry e or hands it to a worker. It reports false
// when e did not match its digest: nothing of it was committed.
func (w *blobWriter) add(e *archive.Entry) (bool, error) {
	dg, size := e.Path.Digest, e.Size
	switch {
	case w.rs.opts.DryRun:
		// Not read here: Next drains and checks it.
		return true, w.send(blobJob{digest: dg, size: size})
	case bufferCost(size) <= w.share:
		cost := bufferCost(size)
		if err := w.budget.acquire(w.ctx, cost); err != nil {
			return false, err
		}
		buf, err := fillBuffer(e.Body, size)
		if err != nil {
			w.budget.release(cost)
			if errors.Is(err, archive.ErrDigestMismatch) {
				return false, nil // the trailer check decides whether that is fatal
			}
			return false, fmt.Errorf("%s: %w", errArchive, err)
		}
		return true, w.send(blobJob{digest: dg, size: size, buf: buf})
	}
	err := w.rs.commitBlob(w.ctx, dg, size, e.Body)
	if errors.Is(err, archive.ErrDigestMismatch) {
		// Damaged at the source and explained by the trailer, or corrupt
		// in the archive: the trailer check decides. Put committed nothing.
		return false, nil
	}
	return err == nil, err
}

// send hands j to a worker, or gives its buffer back once ctx is done.
func (w *blobWriter) send(j blobJob) error {
	select {
	case w.jobs <- j:
		return nil
	case <-w.ctx.Done():
		w.done(j)
		return context.Cause(w.ctx)
	}
}

func (w *blobWriter) work() {
	defer w.wg.Done()
	for j := range w.jobs {
		if w.ctx.Err() == nil {
			var body io.Reader
			if j.buf != nil {
				body = j.buf.reader()
			}
			if err := w.rs.commitBlob(w.ctx, j.digest, j.size, body); err != nil {
				w.cancel(err)
			}
		}
		w.done(j)
	}
}

// done gives j's buffer back.
func (w *blobWriter) done(j blobJob) {
	if j.buf != nil {
		j.buf.free()
		w.budget.release(j.buf.cost)
	}
}

// finish waits for the workers and returns the first error: readErr (the
// caller's, nil when it read the whole archive), a worker's, or the
// cancellation of the caller's ctx. An error the caller got only because
// a worker had failed first is not reported in place of the worker's.
func (w *blobWriter) finish(readErr error) error {
	if readErr != nil && w.ctx.Err() == nil {
		w.cancel(readErr)
	}
	close(w.jobs)
	w.wg.Wait()
	defer w.cancel(nil)
	if w.ctx.Err() != nil {
		return context.Cause(w.ctx)
	}
	return readErr
}

// commitBlob stores one verified blob from body unless the target already
// holds it intact. body is read only when the blob is written (never in a
// dry run). It may be called from many goroutines.
func (rs *restorer) commitBlob(ctx context.Context, dg string, size int64, body io.Reader) error {
	p := archive.BlobPath(dg)
	if rs.present(ctx, p, dg, size) {
		rs.mu.Lock()
		rs.rep.Skipped++
		rs.mu.Unlock()
		rs.opts.Progress.Add(1, size)
		return nil
	}
	if !rs.opts.DryRun {
		if err := rs.d.Put(ctx, p, body, size); err != nil {
			return fmt.Errorf("restoring blob %s: %w", dg, err)
		}
	}
	rs.mu.Lock()
	rs.rep.Blobs++
	rs.rep.BlobBytes += size
	rs.changeLocked("write", p)
	rs.mu.Unlock()
	rs.opts.Progress.Add(1, size)
	return nil
}

// present reports whether the target already holds blob p with the right
// size and digest.
func (rs *restorer) present(ctx context.Context, p, digest string, size int64) bool {
	fi, err := rs.d.Stat(ctx, p)
	if err != nil || fi.Size != size {
		return false
	}
	got, _, err := blobio.HashBlob(ctx, rs.d, digest, nil)
	return err == nil && got == digest
}

// sync makes what was written so far durable, on backends that cache.
func (rs *restorer) sync(ctx context.Context) error {
	if s, ok := rs.d.(drivers.Syncer); ok && !rs.opts.DryRun {
		return s.Sync(ctx)
	}
	return nil
}
