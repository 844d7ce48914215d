package s3

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/internal/putio"
)

// contentType is what the registry's s3 driver stores every object with.
const contentType = "application/octet-stream"

// Put stores all of r at p, all or nothing: the object appears only when r
// ended with io.EOF after exactly size bytes (any count when size is -1);
// a reader error, a wrong count or a cancelled ctx stores nothing and
// leaves an earlier object at p as it was.
//
//   - r seekable, size known (an in-memory buffer, a file): sent straight
//     from r, without copying: one PutObject up to PartSize, else a
//     multipart upload whose parts are sections of r (when r is an
//     io.ReaderAt). Its length is checked before anything is sent.
//   - size known and at most PartSize: read into a buffer of exactly that
//     size, then one PutObject.
//   - otherwise: streamed through pool chunks into a multipart upload
//     (putLarge), or one PutObject if r ends within the first part.
//
// Buffers come out of the Driver's upload memory (Config.UploadMemory),
// shared by all Puts: a Put waits for its share, or for ctx.
func (d *Driver) Put(ctx context.Context, p string, r io.Reader, size int64) error {
	if err := drivers.CheckPath(p); err != nil {
		return fmt.Errorf("%s: put %q: %w", driverName, p, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: put %s: %w", driverName, p, err)
	}
	if rs, ok := r.(io.ReadSeeker); ok && size >= 0 {
		return d.putSeekable(ctx, p, rs, size)
	}
	if size > maxParts*d.maxPart {
		return fmt.Errorf("%s: put %s: %d bytes is more than this driver can upload (10000 parts of at most %d bytes): raise the upload memory", driverName, p, size, d.maxPart)
	}
	if size >= 0 && size <= d.cfg.PartSize {
		return d.putSmall(ctx, p, r, size)
	}
	return d.putLarge(ctx, p, r, size)
}

// putSmall buffers an object of known size up to PartSize and sends it at once.
func (d *Driver) putSmall(ctx context.Context, p string, r io.Reader, size int64) error {
	buf, err := d.pool.Get(ctx, int(size))
	if err != nil {
		return fmt.Errorf("%s: put %s: %w", driverName, p, err)
	}
	defer d.pool.Put(buf)
	n, eof, err := putio.Fill(ctx, r, buf)
	if err == nil && eof {
		err = putio.CheckCount(int64(n), size)
	} else if err == nil {
		err = putio.CheckRest(ctx, r, size)
	}
	if err != nil {
		return fmt.Errorf("%s: put %s: %w", driverName, p, err)
	}
	return d.putObject(ctx, p, bytes.NewReader(buf[:n]), int64(n))
}

// putObject sends body, of length n, as the whole object at p.
func (d *Driver) putObject(ctx context.Context, p string, body io.ReadSeeker, n int64) error {
	in := &s3.PutObjectInput{
		Bucket:               &d.cfg.Bucket,
		Key:                  aws.String(d.key(p)),
		Body:                 body,
		ContentLength:        aws.Int64(n),
		ContentType:          aws.String(contentType),
		ServerSideEncryption: d.opts.sse, SSEKMSKeyId: d.opts.kmsKey, StorageClass: d.opts.class, ACL: d.opts.acl,
	}
	if _, err := d.client.PutObject(ctx, in); err != nil {
		return d.fail("put", p, err)
	}
	return nil
}
