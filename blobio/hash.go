package blobio

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/progress"
)

// HashBlob reads one blob and returns its digest and size, counting bytes
// into prog as they are read.
func HashBlob(ctx context.Context, d drivers.Driver, digest string, prog *progress.Progress) (string, int64, error) {
	rc, err := d.Reader(ctx, archive.BlobPath(digest))
	if err != nil {
		return "", 0, err
	}
	defer rc.Close()
	h := sha256.New()
	buf := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(buf)
	var total int64
	for {
		n, err := rc.Read(*buf)
		h.Write((*buf)[:n])
		total += int64(n)
		prog.Add(0, int64(n))
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", total, fmt.Errorf("%s %s: %w", d.Name(), archive.BlobPath(digest), err)
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), total, nil
}
