package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/regbackup/regbackup/drivers/internal/putio"
)

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
		n, end, err := putio.Fill(ctx, r, peek[:])
		if err != nil {
			d.releasePart(first)
			return fmt.Errorf("%s: put %s: %w", driverName, p, err)
		}
		eof = end && n == 0
		r = io.MultiReader(bytes.NewReader(peek[:n]), r)
	}
	if eof {
		defer d.releasePart(first)
		if err := putio.CheckCount(first.n, size); err != nil {
			return fmt.Errorf("%s: put %s: %w", driverName, p, err)
		}
		return d.putObject(ctx, p, first.body(), first.n)
	}
	var created bool
	err = d.putMultipart(ctx, p, func(ctx context.Context, u *upload) error {
		created = true
		return u.stream(ctx, r, size, first, perPart)
	})
	if !created {
		d.releasePart(first)
	}
	return err
}

// chunksPerPart is how many pool chunks make the first part, so that an
// object of known size fits in 10,000 parts. Unknown sizes start with one
// chunk per part and grow (growingChunks).
func (d *Driver) chunksPerPart(size int64) int64 {
	c := d.cfg.PartSize
	if size <= maxParts*c {
		return 1
	}
	return (size + maxParts*c - 1) / (maxParts * c)
}

// growEvery is how many parts of an upload of unknown size are sent before
// its parts double in size. A variable for tests.
var growEvery int32 = 2000

// growingChunks is how many chunks part number n of an upload of unknown
// size takes: one for the first 2,000 parts, then twice as many every
// 2,000 parts, up to half the upload memory (so that two parts are still in
// flight at once). A small archive keeps small parts, and a big one still
// fits in 10,000: at the default 8 MiB parts and 128 MiB upload memory,
// 2,000 parts each of 8, 16, 32, 64 and 64 MiB = 359 GiB.
func (d *Driver) growingChunks(n int32) int64 {
	limit := max(1, d.maxPart/d.cfg.PartSize/2)
	return min(int64(1)<<min((n-1)/growEvery, 30), limit)
}

// maxUnknownSize is the most an upload of unknown size can hold.
func (d *Driver) maxUnknownSize() int64 {
	var total int64
	for n := int32(1); n <= maxParts; n++ {
		total += d.growingChunks(n) * d.cfg.PartSize
	}
	return total
}

// readPart takes perPart chunks from the pool, one at a time, and fills them
// from r. eof reports that r ended within this part. On error the chunks
// are released.
func (d *Driver) readPart(ctx context.Context, r io.Reader, number int32, perPart int64) (*part, bool, error) {
	pt := &part{number: number}
	for range perPart {
		c, err := d.pool.Get(ctx, int(d.cfg.PartSize))
		if err != nil {
			d.releasePart(pt)
			return nil, false, err
		}
		pt.chunks = append(pt.chunks, c)
		n, eof, err := putio.Fill(ctx, r, c)
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
		if size < 0 {
			perPart = u.d.growingChunks(pt.number + 1)
		}
		next, eof, err := u.d.readPart(ctx, r, pt.number+1, perPart)
		if err != nil {
			return u.cause(ctx, err)
		}
		total += next.n
		if eof && next.n == 0 {
			u.d.releasePart(next)
			return putio.CheckCount(total, size)
		}
		if eof {
			if err := putio.CheckCount(total, size); err != nil {
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
	if err := putio.CheckRest(ctx, r, size); err != nil {
		if size < 0 {
			return fmt.Errorf("more than 10000 parts (%d bytes): raise the part-size or upload-memory option", u.d.maxUnknownSize())
		}
		return fmt.Errorf("more than 10000 parts of %d bytes: give the size, or raise the part size", u.d.cfg.PartSize)
	}
	return nil
}
