// Package blobio reads registry files through a driver with bounded
// memory: blobs in pooled chunks of ChunkSize bytes (counted, so that tests
// can check the memory bounds of backup and restore), hashed as they are
// read (HashBlob); small files (link files, manifests, upload dates) whole
// up to a limit (ReadSmall).
//
// It is not for writing, and knows nothing of snapshots or archives beyond
// the path of a blob.
package blobio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/regbackup/regbackup/drivers"
)

// ErrTooLarge is returned (wrapped) by ReadSmall for a file over its
// limit.
var ErrTooLarge = errors.New("larger than expected")

// smallBufSize is how much ReadSmall reads into a pooled buffer before it
// grows one of its own: a manifest is a few KiB, a link file 71 bytes.
const smallBufSize = 16 << 10

var smallBufs = sync.Pool{New: func() any { b := make([]byte, smallBufSize); return &b }}

// ReadSmall reads a whole small file, failing past limit bytes (with the
// first limit bytes and ErrTooLarge). A file that fits in smallBufSize
// takes one read and the read that sees its end, whatever its size (a
// snapshot reads a thousand manifests).
func ReadSmall(ctx context.Context, d drivers.Driver, path string, limit int64) ([]byte, error) {
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
		return data[:limit], fmt.Errorf("%s %s: %w (%d bytes)", d.Name(), path, ErrTooLarge, limit)
	}
	return data, nil
}
