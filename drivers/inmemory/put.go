package inmemory

import (
	"context"
	"fmt"
	"io"
	"time"
)

// chunkSize is how much Put reads between checks of ctx.
const chunkSize = 256 << 10

// Put reads all of r, checking ctx between chunks and the byte count against
// size, and only then stores it at p, replacing any earlier file. On any
// error nothing changes. A short read wraps io.ErrUnexpectedEOF; a cancelled
// ctx gives an error wrapping ctx.Err().
func (d *Driver) Put(ctx context.Context, p string, r io.Reader, size int64) error {
	if err := checkPath(p); err != nil {
		return invalidPath("put", p, err)
	}
	data, err := readAll(ctx, r, size)
	if err != nil {
		return fmt.Errorf("%s: put %s: %w", driverName, p, err)
	}
	d.mu.Lock()
	d.files[p] = file{data: data, modTime: time.Now()}
	d.mu.Unlock()
	return nil
}

func readAll(ctx context.Context, r io.Reader, size int64) ([]byte, error) {
	var data []byte
	if size > 0 && size <= 64<<20 {
		data = make([]byte, 0, size)
	}
	chunk := make([]byte, chunkSize)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := r.Read(chunk)
		if size >= 0 && int64(len(data)+n) > size {
			return nil, fmt.Errorf("reader gave more than the expected %d bytes", size)
		}
		data = append(data, chunk[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if size >= 0 && int64(len(data)) != size {
		return nil, fmt.Errorf("reader gave %d bytes, expected %d: %w", len(data), size, io.ErrUnexpectedEOF)
	}
	return data, nil
}
