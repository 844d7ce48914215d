package sample

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/regbackup/regbackup/drivers"
)

// Corrupt flips every bit of the byte in the middle of blob digest, keeping
// its size, so that its sha256 no longer matches its path. It reads the blob
// into memory (the sample's blobs are at most 64 MiB).
func Corrupt(ctx context.Context, d drivers.Driver, digest string) error {
	p := BlobPath(digest)
	r, err := d.Reader(ctx, p)
	if err != nil {
		return fmt.Errorf("sample: corrupt %s: %w", digest, err)
	}
	b, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		return fmt.Errorf("sample: corrupt %s: %w", digest, err)
	}
	if len(b) == 0 {
		return fmt.Errorf("sample: corrupt %s: blob is empty", digest)
	}
	b[len(b)/2] ^= 0xff
	if err := d.Put(ctx, p, bytes.NewReader(b), int64(len(b))); err != nil {
		return fmt.Errorf("sample: corrupt %s: %w", digest, err)
	}
	return nil
}
