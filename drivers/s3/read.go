package s3

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// maxResumes is how often one Reader re-opens its object after the
// connection broke mid-stream.
const maxResumes = 5

// objectReader streams one object. When the body fails part-way (a reset
// connection, a cut-off response) and ctx is still live, it asks again for
// the rest with a Range request pinned to the same ETag, so a dropped
// connection costs one request instead of the whole blob, and a replaced
// object is an error instead of a mix of two versions.
type objectReader struct {
	d      *Driver
	ctx    context.Context
	path   string
	body   io.ReadCloser
	off    int64 // bytes returned so far
	size   int64
	etag   *string
	resume int
	closed bool
}

// openReader sends the first GetObject.
func (d *Driver) openReader(ctx context.Context, p string) (io.ReadCloser, error) {
	out, err := d.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &d.cfg.Bucket, Key: aws.String(d.key(p))})
	if err != nil {
		if isNotFound(err) && ctx.Err() == nil {
			return nil, notFound("read", p)
		}
		return nil, d.fail("read", p, err)
	}
	return &objectReader{d: d, ctx: ctx, path: p, body: out.Body, size: aws.ToInt64(out.ContentLength), etag: out.ETag}, nil
}

func (r *objectReader) Read(b []byte) (int, error) {
	if r.closed {
		return 0, fmt.Errorf("%s: read %s: reader is closed", driverName, r.path)
	}
	for {
		n, err := r.body.Read(b)
		r.off += int64(n)
		switch {
		case err == nil:
			return n, nil
		case err == io.EOF && r.off >= r.size:
			return n, io.EOF
		case err == io.EOF:
			err = io.ErrUnexpectedEOF
		}
		if r.ctx.Err() != nil || r.resume >= maxResumes || r.etag == nil {
			return n, r.d.fail("read", r.path, err)
		}
		if rerr := r.reopen(); rerr != nil {
			return n, rerr
		}
		if n > 0 {
			return n, nil
		}
	}
}

// reopen replaces the broken body with one that starts at r.off.
func (r *objectReader) reopen() error {
	r.resume++
	r.body.Close()
	r.body = io.NopCloser(eofReader{})
	out, err := r.d.client.GetObject(r.ctx, &s3.GetObjectInput{
		Bucket:  &r.d.cfg.Bucket,
		Key:     aws.String(r.d.key(r.path)),
		Range:   aws.String(fmt.Sprintf("bytes=%d-", r.off)),
		IfMatch: r.etag,
	})
	if err != nil {
		if code, status := apiCode(err); code == "PreconditionFailed" || status == 412 {
			return fmt.Errorf("%s: read %s: the object was replaced while it was read (resuming at byte %d): %w",
				driverName, r.path, r.off, errReplaced)
		}
		return r.d.failIn("read", r.path, fmt.Sprintf("resuming at byte %d", r.off), err)
	}
	r.body = out.Body
	return nil
}

var errReplaced = errors.New("object changed during read")

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

func (r *objectReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	return r.body.Close()
}
