package s3

import (
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

// part is one part of a multipart upload (or the whole of a single
// PutObject): n bytes either in pool chunks or at off in the caller's
// io.ReaderAt.
type part struct {
	number int32
	n      int64
	chunks [][]byte
	ra     io.ReaderAt
	off    int64
}

// body reads the part's bytes, seekably (the SDK hashes the body, then
// rewinds it, and rewinds again to retry).
func (pt *part) body() io.ReadSeeker {
	if pt.ra != nil {
		return io.NewSectionReader(pt.ra, pt.off, pt.n)
	}
	bufs := make([][]byte, 0, len(pt.chunks))
	left := pt.n
	for _, c := range pt.chunks {
		k := min(left, int64(len(c)))
		bufs = append(bufs, c[:k])
		left -= k
	}
	return newSegments(bufs)
}

// releasePart gives a part's chunks back to the pool.
func (d *Driver) releasePart(pt *part) {
	for _, c := range pt.chunks {
		d.pool.Put(c)
	}
	pt.chunks = nil
}

// putMultipart runs one multipart upload to p: it creates the upload, lets
// feed send the parts (upload.send, at most PartConcurrency in flight), and
// completes the upload only when feed and every part succeeded. On any
// error (the reader's, a size mismatch, a part's, ctx) it waits for the
// parts in flight and aborts the upload, so nothing becomes visible and no
// upload is left behind. feed's ctx is cancelled as soon as a part fails.
func (d *Driver) putMultipart(ctx context.Context, p string, feed func(ctx context.Context, u *upload) error) error {
	return d.multipart(ctx, "put", p, feed)
}

// multipart is putMultipart for operation op ("put", "copy"), which
// errors name.
func (d *Driver) multipart(ctx context.Context, op, p string, feed func(ctx context.Context, u *upload) error) error {
	key := aws.String(d.key(p))
	in := &s3.CreateMultipartUploadInput{Bucket: &d.cfg.Bucket, Key: key, ContentType: aws.String(contentType),
		ServerSideEncryption: d.opts.sse, SSEKMSKeyId: d.opts.kmsKey, StorageClass: d.opts.class, ACL: d.opts.acl}
	created, err := d.client.CreateMultipartUpload(ctx, in)
	if err != nil {
		return d.fail(op, p, err)
	}
	d.live.Store(aws.ToString(created.UploadId), struct{}{})
	defer d.live.Delete(aws.ToString(created.UploadId))
	up := &upload{d: d, op: op, path: p, key: key, id: created.UploadId, slots: make(chan struct{}, d.cfg.PartConcurrency)}
	upCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	up.cancel = cancel

	err = feed(upCtx, up)
	up.wg.Wait()
	if err == nil {
		err = up.firstErr()
	}
	if err == nil {
		if cerr := up.complete(ctx); cerr != nil {
			err = d.failIn(op, p, "completing the upload", cerr)
		}
	}
	if err != nil {
		if aerr := up.abort(ctx); aerr != nil {
			return fmt.Errorf("%w (and the unfinished upload could not be aborted: %s; it costs storage until a bucket lifecycle rule removes it)",
				d.wrapErr(op, p, err), d.redact(describe(aerr)))
		}
		return d.wrapErr(op, p, err)
	}
	return nil
}

// wrapErr gives err the driver's "s3: OP PATH: ..." form unless it has it.
func (d *Driver) wrapErr(op, p string, err error) error {
	var oe *opError
	if errors.As(err, &oe) {
		return err
	}
	return fmt.Errorf("%s: %s %s: %w", driverName, op, p, err)
}

// upload is one multipart upload in progress.
type upload struct {
	d      *Driver
	op     string // "put", "copy"
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

// send uploads pt in the background once a slot is free; the part's chunks
// go back to the pool when its request ends.
func (u *upload) send(ctx context.Context, pt *part) error {
	return u.run(ctx, pt.number, func() { u.d.releasePart(pt) }, func(ctx context.Context) (*string, error) {
		out, err := u.d.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket:        &u.d.cfg.Bucket,
			Key:           u.key,
			UploadId:      u.id,
			PartNumber:    aws.Int32(pt.number),
			Body:          pt.body(),
			ContentLength: aws.Int64(pt.n),
		})
		if err != nil {
			return nil, err
		}
		return out.ETag, nil
	})
}

// run makes part number in the background with do, which returns the
// part's ETag, once a slot is free, and calls done when it ends (or at
// once when ctx ends first). The first failure is recorded and cancels
// ctx.
func (u *upload) run(ctx context.Context, number int32, done func(), do func(context.Context) (*string, error)) error {
	select {
	case u.slots <- struct{}{}:
	case <-ctx.Done():
		done()
		return u.cause(ctx, ctx.Err())
	}
	u.wg.Go(func() {
		defer func() { <-u.slots }()
		defer done()
		etag, err := do(ctx)
		u.mu.Lock()
		defer u.mu.Unlock()
		if err != nil {
			if u.err == nil && ctx.Err() == nil {
				u.err = u.d.failIn(u.op, u.path, fmt.Sprintf("part %d", number), err)
				u.cancel(u.err)
			}
			return
		}
		u.parts = append(u.parts, types.CompletedPart{ETag: etag, PartNumber: aws.Int32(number)})
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
