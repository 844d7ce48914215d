package swift

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"

	"github.com/ncw/swift/v2"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/internal/putio"
)

// contentType is what the registry's swift driver stores every object with.
const contentType = "application/octet-stream"

// Put stores all of r at p, all or nothing: the object appears only when r
// ended with io.EOF after exactly size bytes (any count when size is -1);
// a reader error, a wrong count or a cancelled ctx stores nothing and
// leaves an earlier object at p as it was.
//
//   - size known and at most ChunkSize: read into a buffer, then one PUT
//     carrying the content's MD5 as ETag, which Swift checks.
//   - size known and at most MaxObjectSize: one PUT streamed from r with
//     its Content-Length; the last bytes are handed over only once r has
//     said it ends there, so a longer or shorter reader breaks the request
//     and Swift keeps nothing. The MD5 Swift answers is compared with the
//     one computed on the way (a mismatch deletes the object).
//   - otherwise (size unknown, or beyond MaxObjectSize): the first
//     ChunkSize bytes are read; if r ends there, one PUT; else a DLO in
//     the registry's layout (putDLO).
//
// A replaced DLO's segments are left behind, as the registry leaves them.
func (d *Driver) Put(ctx context.Context, p string, r io.Reader, size int64) error {
	if err := drivers.CheckPath(p); err != nil {
		return fmt.Errorf("%s: put %q: %w", driverName, p, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: put %s: %w", driverName, p, err)
	}
	if rs, ok := r.(io.ReadSeeker); ok && size >= 0 {
		_, n, err := putio.Remaining(rs)
		if err == nil {
			err = putio.CheckCount(n, size)
		}
		if err != nil {
			return fmt.Errorf("%s: put %s: %w", driverName, p, err)
		}
	}
	switch {
	case size >= 0 && size <= d.cfg.ChunkSize:
		return d.putSmall(ctx, p, r, size)
	case size >= 0 && size <= d.cfg.MaxObjectSize:
		return d.putStream(ctx, p, r, size)
	}
	return d.putLarge(ctx, p, r, size)
}

// putSmall buffers a file of known size up to ChunkSize and sends it at once.
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
	if err := d.putBytes(ctx, d.object(p), buf[:n], nil); err != nil {
		return d.fail("put", p, err)
	}
	return nil
}

// putBytes stores data as the object name, with extra headers, retrying:
// Swift checks the MD5 sent as ETag.
func (d *Driver) putBytes(ctx context.Context, name string, data []byte, extra swift.Headers) error {
	sum := md5.Sum(data)
	return d.retry(ctx, func() error {
		h := swift.Headers{"Content-Type": contentType, "Content-Length": strconv.Itoa(len(data)), "Etag": hex.EncodeToString(sum[:])}
		for k, v := range extra {
			h[k] = v
		}
		_, _, err := d.call(ctx, request{method: http.MethodPut, object: name, headers: h, body: bytes.NewReader(data)})
		return err
	})
}

// putStream sends size bytes of r as one PUT, without buffering them.
func (d *Driver) putStream(ctx context.Context, p string, r io.Reader, size int64) error {
	body := &exactReader{r: r, left: size, md5: md5.New()}
	h := swift.Headers{"Content-Type": contentType, "Content-Length": strconv.FormatInt(size, 10)}
	_, headers, err := d.call(ctx, request{method: http.MethodPut, object: d.object(p), headers: h, body: body})
	if body.err != nil {
		// The reader's own error (or a wrong count) broke the request.
		return fmt.Errorf("%s: put %s: %w", driverName, p, body.err)
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: put %s: %w", driverName, p, ctx.Err())
		}
		return d.fail("put", p, err)
	}
	if got, want := drivers.ETagMD5(headers["Etag"]), hex.EncodeToString(body.md5.Sum(nil)); got != want {
		_ = d.deleteObject(context.WithoutCancel(ctx), d.object(p))
		return fmt.Errorf("%s: put %s: Swift stored content with MD5 %s, sent %s: deleted it", driverName, p, got, want)
	}
	return nil
}

// exactReader passes left bytes of r through, hashing them, and fails the
// request body instead of handing over the last of them unless r ends
// exactly there. Its error is kept in err.
type exactReader struct {
	r    io.Reader
	left int64
	md5  hash.Hash
	err  error
}

func (e *exactReader) Read(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if e.left == 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > e.left {
		b = b[:e.left]
	}
	n, err := e.r.Read(b)
	e.left -= int64(n)
	switch {
	case err == io.EOF && e.left > 0:
		e.err = fmt.Errorf("reader gave %d bytes less than expected: %w", e.left, io.ErrUnexpectedEOF)
	case err != nil && err != io.EOF:
		e.err = err
	case e.left == 0 && err == nil:
		// Hold the last bytes back until r says it ends here.
		var one [1]byte
		k, perr := io.ReadFull(e.r, one[:])
		switch {
		case k > 0:
			e.err = fmt.Errorf("reader gave more than the expected bytes")
		case perr != io.EOF && perr != io.ErrUnexpectedEOF:
			e.err = perr
		}
	}
	if e.err != nil {
		return 0, e.err
	}
	e.md5.Write(b[:n])
	return n, nil
}

// bytesReader reads b.
func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
