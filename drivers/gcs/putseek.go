package gcs

import (
	"context"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"time"

	"cloud.google.com/go/storage"
)

// singleShotMax is the largest seekable reader Put sends in one request:
// the largest blob a restore buffers.
const singleShotMax = 16 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// putSeekable reads rs once to check its length and compute its CRC32C,
// then uploads it in single requests with no buffer of the library's
// (ChunkSize 0), rewinding to where rs stood and sending again on transient
// errors for up to RetryFor. The server refuses a body whose CRC32C differs
// from the one declared, so a request cut short, or a reader that changed,
// stores nothing.
func (d *Driver) putSeekable(ctx context.Context, p string, rs io.ReadSeeker, size int64) error {
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	h := crc32.New(castagnoli)
	if err := copyExact(ctx, h, rs, size); err != nil {
		return err
	}
	sum := h.Sum32()
	deadline := time.Now().Add(RetryFor)
	pause := time.Second
	for {
		if _, err := rs.Seek(start, io.SeekStart); err != nil {
			return err
		}
		err := d.putOnce(ctx, p, rs, size, sum)
		if err == nil || ctx.Err() != nil || !storage.ShouldRetry(err) || time.Now().Add(pause).After(deadline) {
			return err
		}
		// Full jitter, as the library does: wait up to pause.
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(rand.Int64N(int64(pause)) + 1)):
		}
		pause = min(2*pause, 30*time.Second)
	}
}

// putOnce sends size bytes of rs in one request declaring CRC32C sum.
func (d *Driver) putOnce(ctx context.Context, p string, rs io.Reader, size int64, sum uint32) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := d.bucket.Object(d.key(p)).NewWriter(wctx)
	w.ContentType = blobType
	w.ChunkSize = 0
	w.CRC32C, w.SendCRC32C = sum, true
	if err := copyExact(ctx, w, rs, size); err != nil {
		cancel()
		return err
	}
	return w.Close()
}
