package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/regbackup/regbackup/drivers"
)

var errTooLarge = errors.New("larger than expected")

// smallBufSize is how much readSmall reads into a pooled buffer before it
// grows one of its own: a manifest is a few KiB, a link file 71 bytes.
const smallBufSize = 16 << 10

var smallBufs = sync.Pool{New: func() any { b := make([]byte, smallBufSize); return &b }}

// readSmall reads a whole small file, failing past limit bytes (with the
// first limit bytes and errTooLarge). A file that fits in smallBufSize
// takes one read and the read that sees its end, whatever its size (a
// snapshot reads a thousand manifests).
func readSmall(ctx context.Context, d drivers.Driver, path string, limit int64) ([]byte, error) {
	rc, err := d.Reader(ctx, path)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	bp := smallBufs.Get().(*[]byte)
	defer smallBufs.Put(bp)
	buf := *bp
	if int64(len(buf)) > limit+1 {
		buf = buf[:limit+1]
	}
	n, err := io.ReadFull(rc, buf)
	data := bytes.Clone(buf[:n])
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF: // all of it
	case err != nil:
		return nil, fmt.Errorf("%s %s: %w", d.Name(), path, err)
	default: // buf is full: there may be more
		rest, err := io.ReadAll(io.LimitReader(rc, limit+1-int64(n)))
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", d.Name(), path, err)
		}
		data = append(data, rest...)
	}
	if int64(len(data)) > limit {
		return data[:limit], fmt.Errorf("%s %s: %w (%d bytes)", d.Name(), path, errTooLarge, limit)
	}
	return data, nil
}
