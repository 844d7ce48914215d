// Package putio holds the reading helpers the object-storage drivers' Puts
// share: filling a part buffer from a stream, and measuring what a seekable
// body holds before anything is sent.
package putio

import (
	"context"
	"fmt"
	"io"
)

// Fill reads r into buf until buf is full or r ends (eof), checking ctx
// between reads. A reader error other than io.EOF is returned as is.
func Fill(ctx context.Context, r io.Reader, buf []byte) (n int, eof bool, err error) {
	for n < len(buf) {
		if err := ctx.Err(); err != nil {
			return n, false, err
		}
		k, err := r.Read(buf[n:])
		n += k
		switch {
		case err == io.EOF:
			return n, true, nil
		case err != nil:
			return n, false, err
		}
	}
	return n, false, ctx.Err()
}

// Remaining reports r's current position and how many bytes it holds from
// there to its end, leaving the position where it was.
func Remaining(r io.Seeker) (start, n int64, err error) {
	start, err = r.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, 0, err
	}
	end, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, 0, err
	}
	if _, err := r.Seek(start, io.SeekStart); err != nil {
		return 0, 0, err
	}
	return start, end - start, nil
}

// CheckRest makes sure r has nothing after a full buffer of size bytes.
func CheckRest(ctx context.Context, r io.Reader, size int64) error {
	var one [1]byte
	n, eof, err := Fill(ctx, r, one[:])
	switch {
	case err != nil:
		return err
	case n > 0:
		return fmt.Errorf("reader gave more than the expected %d bytes", size)
	case !eof:
		return fmt.Errorf("reader gave no data and no end after %d bytes", size)
	}
	return nil
}

// CheckCount compares what a reader gave, at its end, with the size
// expected (-1: any).
func CheckCount(got, size int64) error {
	switch {
	case size < 0 || got == size:
		return nil
	case got > size:
		return fmt.Errorf("reader gave more than the expected %d bytes", size)
	}
	return fmt.Errorf("reader gave %d bytes, expected %d: %w", got, size, io.ErrUnexpectedEOF)
}
