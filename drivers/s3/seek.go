package s3

import (
	"context"
	"fmt"
	"io"

	"github.com/regbackup/regbackup/drivers/internal/putio"
)

// putSeekable sends size bytes of r from its current position without
// copying them: one PutObject up to PartSize, else a multipart upload of
// sections of r when r is an io.ReaderAt (else it is streamed like any
// reader). r must hold exactly size bytes from its position to its end,
// which is checked by seeking before anything is sent.
func (d *Driver) putSeekable(ctx context.Context, p string, r io.ReadSeeker, size int64) error {
	start, n, err := putio.Remaining(r)
	if err == nil {
		err = putio.CheckCount(n, size)
	}
	if err != nil {
		return fmt.Errorf("%s: put %s: %w", driverName, p, err)
	}
	if size <= d.cfg.PartSize {
		body := io.ReadSeeker(io.NewSectionReader(readerAt{r}, start, size))
		if ra, ok := r.(io.ReaderAt); ok {
			body = io.NewSectionReader(ra, start, size)
		}
		return d.putObject(ctx, p, body, size)
	}
	ra, ok := r.(io.ReaderAt)
	if !ok {
		return d.putLarge(ctx, p, r, size)
	}
	partSize := max(d.cfg.PartSize, (size+maxParts-1)/maxParts)
	return d.putMultipart(ctx, p, func(ctx context.Context, u *upload) error {
		var number int32
		for off := int64(0); off < size; off += partSize {
			number++
			pt := &part{number: number, n: min(partSize, size-off), ra: ra, off: start + off}
			if err := u.send(ctx, pt); err != nil {
				return err
			}
		}
		return nil
	})
}

// readerAt reads a ReadSeeker at an offset by seeking; for the one reader
// of a single PutObject, which the SDK reads (and rewinds) from one
// goroutine.
type readerAt struct{ r io.ReadSeeker }

func (ra readerAt) ReadAt(p []byte, off int64) (int, error) {
	if _, err := ra.r.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	return io.ReadFull(ra.r, p)
}
