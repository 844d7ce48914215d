package swift

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/ncw/swift/v2"

	"github.com/regbackup/regbackup/drivers/internal/putio"
)

// putLarge handles a Put of unknown size or beyond MaxObjectSize. It fills
// the first segment from r; if r ends there the file goes up as one PUT,
// otherwise as a DLO.
func (d *Driver) putLarge(ctx context.Context, p string, r io.Reader, size int64) error {
	first, eof, err := d.readSegment(ctx, r)
	if err != nil {
		return fmt.Errorf("%s: put %s: %w", driverName, p, err)
	}
	if !eof {
		// A full first segment may be the whole file: look one byte ahead.
		var one [1]byte
		n, end, err := putio.Fill(ctx, r, one[:])
		if err != nil {
			d.pool.Put(first)
			return fmt.Errorf("%s: put %s: %w", driverName, p, err)
		}
		eof = end && n == 0
		r = io.MultiReader(bytesReader(one[:n]), r)
	}
	if eof {
		defer d.pool.Put(first)
		if err := putio.CheckCount(int64(len(first)), size); err != nil {
			return fmt.Errorf("%s: put %s: %w", driverName, p, err)
		}
		if err := d.putBytes(ctx, d.object(p), first, nil); err != nil {
			return d.fail("put", p, err)
		}
		return nil
	}
	return d.putDLO(ctx, p, first, r, size)
}

// readSegment takes a ChunkSize buffer from the pool and fills it from r;
// eof reports that r ended within it. The buffer is cut to what was read;
// on error it is given back.
func (d *Driver) readSegment(ctx context.Context, r io.Reader) ([]byte, bool, error) {
	buf, err := d.pool.Get(ctx, int(d.cfg.ChunkSize))
	if err != nil {
		return nil, false, err
	}
	n, eof, err := putio.Fill(ctx, r, buf)
	if err != nil {
		d.pool.Put(buf)
		return nil, false, err
	}
	return buf[:n], eof, nil
}

// putDLO writes first and the rest of r as segments of ChunkSize in the
// registry's layout, SegmentConcurrency at once, then, when every segment
// is stored and r ended at the expected size, the 0-byte manifest at p
// (X-Object-Manifest: <container>/<segments prefix>), which makes the file
// visible. It then waits (up to 15 s) until Swift serves the whole size,
// as the registry does. Any failure deletes the segments written, so
// nothing is left behind.
func (d *Driver) putDLO(ctx context.Context, p string, first []byte, r io.Reader, size int64) (err error) {
	prefix, err := d.newSegmentPrefix(p)
	if err != nil {
		d.pool.Put(first)
		return fmt.Errorf("%s: put %s: %w", driverName, p, err)
	}
	u := &segmentUpload{d: d, path: p, prefix: prefix}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	u.cancel = cancel
	defer func() {
		if err != nil {
			u.cleanup(ctx)
		}
	}()
	total, err := u.send(ctx, first, r, size)
	if err != nil {
		return err
	}
	h := swift.Headers{"X-Object-Manifest": d.manifestValue(prefix)}
	if err := d.putBytes(ctx, d.object(p), nil, h); err != nil {
		return d.failIn("put", p, "manifest", err)
	}
	if err := d.waitSize(ctx, p, total); err != nil {
		return err
	}
	return nil
}

// segmentUpload is the state of one DLO's segment uploads.
type segmentUpload struct {
	d      *Driver
	path   string
	prefix string
	cancel context.CancelCauseFunc

	wg      sync.WaitGroup
	mu      sync.Mutex
	written []string // segment names stored
	failed  error    // the first segment failure
}

// send uploads first, then the segments read from r, numbered from 1, and
// returns the total once r ended at the expected size and every segment is
// stored.
func (u *segmentUpload) send(ctx context.Context, first []byte, r io.Reader, size int64) (int64, error) {
	sem := make(chan struct{}, u.d.cfg.SegmentConcurrency)
	seg, total, last := first, int64(0), false
	var err error
	for n := 1; ; n++ {
		total += int64(len(seg))
		if size >= 0 && total > size {
			u.d.pool.Put(seg)
			err = fmt.Errorf("reader gave more than the expected %d bytes", size)
			break
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			u.d.pool.Put(seg)
			err = ctx.Err()
		}
		if err != nil {
			break
		}
		u.wg.Add(1)
		go func(n int, seg []byte) {
			defer func() { u.d.pool.Put(seg); <-sem; u.wg.Done() }()
			u.put(ctx, n, seg)
		}(n, seg)
		if last {
			err = putio.CheckCount(total, size)
			break
		}
		seg, last, err = u.d.readSegment(ctx, r)
		if err != nil {
			break
		}
		if len(seg) == 0 { // r ended at a segment boundary
			u.d.pool.Put(seg)
			err = putio.CheckCount(total, size)
			break
		}
	}
	u.wg.Wait()
	u.mu.Lock()
	failed := u.failed
	u.mu.Unlock()
	switch {
	case failed != nil:
		return 0, failed
	case err != nil:
		return 0, fmt.Errorf("%s: put %s: %w", driverName, u.path, err)
	}
	return total, nil
}

// put stores segment n; a failure cancels the upload.
func (u *segmentUpload) put(ctx context.Context, n int, seg []byte) {
	name := segmentName(u.prefix, n)
	err := u.d.putBytes(ctx, name, seg, nil)
	u.mu.Lock()
	defer u.mu.Unlock()
	if err == nil {
		u.written = append(u.written, name)
		return
	}
	if u.failed == nil && ctx.Err() == nil {
		u.failed = u.d.failIn("put", u.path, fmt.Sprintf("segment %d", n), err)
		u.cancel(u.failed)
	}
}

// cleanup deletes the segments written, even when ctx was cancelled (within
// 30 s). A segment whose PUT was cut off may still be stored; the listing
// of the prefix catches those too.
func (u *segmentUpload) cleanup(ctx context.Context) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_ = u.d.deleteSegments(cctx, u.prefix)
}

// deleteSegments deletes every object below the segment prefix.
func (d *Driver) deleteSegments(ctx context.Context, prefix string) error {
	segs, err := d.listSegments(ctx, d.manifestValue(prefix))
	if err != nil {
		return err
	}
	var first error
	for _, s := range segs {
		if err := d.deleteObject(ctx, s.Name); err != nil && status(err) != http.StatusNotFound && first == nil {
			first = err
		}
	}
	return first
}

// waitSize waits until a HEAD of the DLO at p reports size bytes: Swift
// joins a DLO's segments from a container listing, which on a big cluster
// may lag behind the PUTs.
func (d *Driver) waitSize(ctx context.Context, p string, size int64) error {
	wait := 100 * time.Millisecond
	deadline := time.Now().Add(15 * time.Second)
	for {
		o, err := d.head(ctx, "put", p, d.object(p))
		if err != nil {
			return err
		}
		if o.size == size {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: put %s: the large object's segments were stored, but Swift serves %d of its %d bytes after 15 s", driverName, p, o.size, size)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: put %s: %w", driverName, p, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}
