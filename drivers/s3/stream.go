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
		if err := checkCount(first.n, size); err != nil {
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

// chunksPerPart is how many pool chunks make one part, so that an object of
// known size fits in 10,000 parts. Unknown sizes use one chunk per part.
func (d *Driver) chunksPerPart(size int64) int64 {
	c := d.cfg.PartSize
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
		return fmt.Errorf("more than 10000 parts of %d bytes: give the size, or raise the part size", u.d.cfg.PartSize)
	}
	return nil
}
