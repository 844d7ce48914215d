package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// abortTimeout bounds AbortMultipartUpload, which runs even when the Put's
// ctx was cancelled.
const abortTimeout = 30 * time.Second

// part is one filled part: its chunks (pool buffers) and how many bytes of
// them hold data.
type part struct {
	number int32
	chunks [][]byte
	n      int64
}

func (pt *part) body() *segments {
	bufs := make([][]byte, 0, len(pt.chunks))
	left := pt.n
	for _, c := range pt.chunks {
		k := min(left, int64(len(c)))
		bufs = append(bufs, c[:k])
		left -= k
	}
	return newSegments(bufs)
}

// putLarge handles a Put of unknown or large size. It fills the first part
// from r; if r ends there the object goes up with one PutObject, otherwise
// with putMultipart.
func (d *Driver) putLarge(ctx context.Context, p string, r io.Reader, size int64) error {
	perPart := d.chunksPerPart(size)
	first, eof, err := d.readPart(ctx, r, 1, perPart)
	if err != nil {
		return fmt.Errorf("%s: put %s: %w", driverName, p, err)
	}
	if !eof {
		// A full first part may be the whole object: look one byte ahead.
		var peek [1]byte
		n, end, err := fill(ctx, r, peek[:])
		if err != nil {
			d.releasePart(first)
			return fmt.Errorf("%s: put %s: %w", driverName, p, err)
		}
		eof = end && n == 0
		r = io.MultiReader(bytes.NewReader(peek[:n]), r)
	}
	if eof {
		defer d.releasePart(first)
		if err := checkCount(first.n, size); err != nil {
			return fmt.Errorf("%s: put %s: %w", driverName, p, err)
		}
		return d.putObject(ctx, p, first.body(), first.n)
	}
	return d.putMultipart(ctx, p, r, size, first, perPart)
}

// chunksPerPart is how many pool chunks make one part, so that an object of
// known size fits in 10,000 parts. Unknown sizes use one chunk per part.
func (d *Driver) chunksPerPart(size int64) int64 {
	c := d.pool.chunkSize
	if size <= maxParts*c {
		return 1
	}
	return (size + maxParts*c - 1) / (maxParts * c)
}

// readPart takes perPart chunks from the pool, one at a time, and fills them
// from r. eof reports that r ended within this part. On error the chunks
// are released.
func (d *Driver) readPart(ctx context.Context, r io.Reader, number int32, perPart int64) (*part, bool, error) {
	pt := &part{number: number}
	for range perPart {
		c, err := d.pool.getChunk(ctx)
		if err != nil {
			d.releasePart(pt)
			return nil, false, err
		}
		pt.chunks = append(pt.chunks, c)
		n, eof, err := fill(ctx, r, c)
		pt.n += int64(n)
		if err != nil {
			d.releasePart(pt)
			return nil, false, err
		}
		if eof {
			return pt, true, nil
		}
	}
	return pt, false, nil
}

func (d *Driver) releasePart(pt *part) {
	for _, c := range pt.chunks {
		d.pool.putChunk(c)
	}
	pt.chunks = nil
}

// putMultipart streams r into a multipart upload: it creates the upload,
// sends first and every following part as soon as it is filled, up to
// PartConcurrency at once, and completes the upload only when r ended at the
// expected size. On any error (reader, size, a part, ctx) it stops reading,
// waits for the parts in flight and aborts the upload, so nothing becomes
// visible and no upload is left behind.
func (d *Driver) putMultipart(ctx context.Context, p string, r io.Reader, size int64, first *part, perPart int64) error {
	key := aws.String(d.key(p))
	in := &s3.CreateMultipartUploadInput{Bucket: &d.cfg.Bucket, Key: key, ContentType: aws.String(contentType)}
	if c := d.cfg; c.SSE != "" {
		in.ServerSideEncryption = types.ServerSideEncryption(c.SSE)
		if c.SSEKMSKeyID != "" {
			in.SSEKMSKeyId = aws.String(c.SSEKMSKeyID)
		}
	}
	if c := d.cfg; c.StorageClass != "" {
		in.StorageClass = types.StorageClass(c.StorageClass)
	}
	if c := d.cfg; c.ObjectACL != "" {
		in.ACL = types.ObjectCannedACL(c.ObjectACL)
	}
	created, err := d.client.CreateMultipartUpload(ctx, in)
	if err != nil {
		d.releasePart(first)
		return d.fail("put", p, err)
	}
	up := &upload{d: d, path: p, key: key, id: created.UploadId, slots: make(chan struct{}, d.cfg.PartConcurrency)}
	upCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	up.cancel = cancel

	err = up.stream(upCtx, r, size, first, perPart)
	up.wg.Wait()
	if err == nil {
		err = up.firstErr()
	}
	if err == nil {
		if cerr := up.complete(ctx); cerr != nil {
			err = d.failIn("put", p, "completing the upload", cerr)
		}
	}
	if err != nil {
		if aerr := up.abort(ctx); aerr != nil {
			return fmt.Errorf("%w (and the unfinished upload could not be aborted: %s; it costs storage until a bucket lifecycle rule removes it)",
				d.wrapErr(p, err), d.redact(describe(aerr)))
		}
		return d.wrapErr(p, err)
	}
	return nil
}

// wrapErr gives err the driver's "s3: put PATH: ..." form unless it has it.
func (d *Driver) wrapErr(p string, err error) error {
	var oe *opError
	if errors.As(err, &oe) {
		return err
	}
	return fmt.Errorf("%s: put %s: %w", driverName, p, err)
}

// upload is one multipart upload in progress.
type upload struct {
	d      *Driver
	path   string
	key    *string
	id     *string
	slots  chan struct{} // parts in flight
	wg     sync.WaitGroup
	cancel context.CancelCauseFunc

	mu    sync.Mutex
	parts []types.CompletedPart
	err   error
}

// stream sends first, then reads and sends the following parts until r
// ends. It returns the first reader, size or ctx error; part errors are
// recorded by send and cancel ctx.
func (u *upload) stream(ctx context.Context, r io.Reader, size int64, first *part, perPart int64) error {
	total := first.n
	pt := first
	for {
		if size >= 0 && total > size {
			u.d.releasePart(pt)
			return fmt.Errorf("reader gave more than the expected %d bytes", size)
		}
		if err := u.send(ctx, pt); err != nil {
			return err
		}
		if pt.number == maxParts {
			return u.tooLarge(ctx, r, size)
		}
		next, eof, err := u.d.readPart(ctx, r, pt.number+1, perPart)
		if err != nil {
			return u.cause(ctx, err)
		}
		total += next.n
		if eof && next.n == 0 {
			u.d.releasePart(next)
			return checkCount(total, size)
		}
		if eof {
			if err := checkCount(total, size); err != nil {
				u.d.releasePart(next)
				return err
			}
			return u.send(ctx, next)
		}
		pt = next
	}
}

// cause is err, or the part failure that cancelled ctx and so caused err.
func (u *upload) cause(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) && !errors.Is(cause, context.DeadlineExceeded) {
			return cause
		}
	}
	return err
}

// tooLarge is the error for a reader that goes on after 10,000 full parts.
func (u *upload) tooLarge(ctx context.Context, r io.Reader, size int64) error {
	if err := checkRest(ctx, r, size); err != nil {
		return fmt.Errorf("more than 10000 parts of %d bytes: give the size, or raise the part size", u.d.pool.chunkSize)
	}
	return nil
}

// send uploads pt in the background once a slot is free; the part's chunks
// go back to the pool when its request ends.
func (u *upload) send(ctx context.Context, pt *part) error {
	select {
	case u.slots <- struct{}{}:
	case <-ctx.Done():
		u.d.releasePart(pt)
		return u.cause(ctx, ctx.Err())
	}
	u.wg.Go(func() {
		defer func() { <-u.slots }()
		defer u.d.releasePart(pt)
		out, err := u.d.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket:        &u.d.cfg.Bucket,
			Key:           u.key,
			UploadId:      u.id,
			PartNumber:    aws.Int32(pt.number),
			Body:          pt.body(),
			ContentLength: aws.Int64(pt.n),
		})
		u.mu.Lock()
		defer u.mu.Unlock()
		if err != nil {
			if u.err == nil && ctx.Err() == nil {
				u.err = u.d.failIn("put", u.path, fmt.Sprintf("part %d", pt.number), err)
				u.cancel(u.err)
			}
			return
		}
		u.parts = append(u.parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(pt.number)})
	})
	return nil
}

func (u *upload) firstErr() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.err
}

// complete makes the object visible from the sent parts, in order.
func (u *upload) complete(ctx context.Context) error {
	u.mu.Lock()
	parts := append([]types.CompletedPart(nil), u.parts...)
	u.mu.Unlock()
	sortParts(parts)
	_, err := u.d.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          &u.d.cfg.Bucket,
		Key:             u.key,
		UploadId:        u.id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	return err
}

// abort discards the upload and its parts, even after ctx was cancelled.
func (u *upload) abort(ctx context.Context) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	_, err := u.d.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
		Bucket: &u.d.cfg.Bucket, Key: u.key, UploadId: u.id,
	})
	if err != nil && isNoSuchUpload(err) {
		return nil
	}
	return err
}

func isNoSuchUpload(err error) bool {
	var nu *types.NoSuchUpload
	if errors.As(err, &nu) {
		return true
	}
	code, _ := apiCode(err)
	return code == "NoSuchUpload"
}

func sortParts(parts []types.CompletedPart) {
	// Insertion sort: parts arrive nearly in order.
	for i := 1; i < len(parts); i++ {
		for j := i; j > 0 && *parts[j].PartNumber < *parts[j-1].PartNumber; j-- {
			parts[j], parts[j-1] = parts[j-1], parts[j]
		}
	}
}
