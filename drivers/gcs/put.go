package gcs

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/regbackup/regbackup/drivers"
)

// errTooLong is returned (wrapped) by Put when the reader gives more bytes
// than the size it was called with.
var errTooLong = errors.New("reader gave more bytes than expected")

// Put uploads all of r to the object at p, replacing any earlier one, with
// Content-Type application/octet-stream. The object is finalized (and so
// appears) only after r returned io.EOF at exactly size bytes (any length
// when size is -1); on a short or long reader, a reader error, an upload
// error or a cancelled ctx the upload is abandoned and the object stays as
// it was. A reader error is wrapped, so errors.Is finds it; a short reader
// wraps io.ErrUnexpectedEOF.
//
// A reader that can seek (bytes.Reader, io.SectionReader: what a restore
// hands over for the blobs it buffered) of at most 16 MiB goes up in one
// request straight from the reader, with its CRC32C computed first so the
// server refuses anything else, and is sent again from the start on
// transient errors. Any other reader is copied into the client library's
// upload buffer: one request when size is below the chunk size, else a
// resumable upload of chunk-size chunks, each retried on transient errors.
// Memory per call: 32 KiB for a seekable reader, else one buffer of the
// chunk size, or of size rounded up to 256 KiB when smaller.
func (d *Driver) Put(ctx context.Context, p string, r io.Reader, size int64) error {
	if err := drivers.CheckPath(p); err != nil {
		return invalidPath("put", p, err)
	}
	if err := ctx.Err(); err != nil {
		return wrap("put", d.url(p), err)
	}
	var err error
	if rs, ok := r.(io.ReadSeeker); ok && size >= 0 && size <= singleShotMax {
		err = d.putSeekable(ctx, p, rs, size)
	} else {
		err = d.putStream(ctx, p, r, size)
	}
	if err != nil {
		return wrap("put", d.url(p), err)
	}
	return nil
}

// putStream uploads r through the library's chunk buffer.
func (d *Driver) putStream(ctx context.Context, p string, r io.Reader, size int64) error {
	// Cancelling wctx is how an upload is abandoned: the library then never
	// sends the request that finalizes the object.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := d.bucket.Object(d.key(p)).NewWriter(wctx)
	w.ContentType = blobType
	w.ChunkSize = d.chunkSize(size)
	w.ChunkRetryDeadline = RetryFor
	if err := copyExact(ctx, w, r, size); err != nil {
		cancel()
		return err
	}
	return w.Close()
}

// chunkSize is the Writer's chunk size for an object of size bytes (-1:
// unknown): big enough to hold a smaller object and the EOF after it, so
// that it goes up in a single request, else the configured chunk size.
func (d *Driver) chunkSize(size int64) int {
	if size >= 0 && size < int64(d.cfg.ChunkSize) {
		return int((size/minChunkSize + 1) * minChunkSize)
	}
	return d.cfg.ChunkSize
}

// copyExact copies r to w, checking ctx between reads, and fails unless r
// ends (io.EOF) at exactly size bytes (size -1: anywhere). It never writes
// a byte beyond size.
func copyExact(ctx context.Context, w io.Writer, r io.Reader, size int64) error {
	bufSize := 32 << 10
	if size >= 0 && size < int64(bufSize) {
		bufSize = int(size) + 1
	}
	buf := make([]byte, bufSize)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, rerr := r.Read(buf)
		if size >= 0 && n+int64(m) > size {
			return fmt.Errorf("%w: more than the %d bytes announced", errTooLong, size)
		}
		if m > 0 {
			if _, werr := w.Write(buf[:m]); werr != nil {
				if err := ctx.Err(); err != nil {
					return err
				}
				return werr
			}
			n += int64(m)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("reading the content after %d bytes: %w", n, rerr)
		}
	}
	if size >= 0 && n != size {
		return fmt.Errorf("reader gave %d bytes, expected %d: %w", n, size, io.ErrUnexpectedEOF)
	}
	return nil
}
