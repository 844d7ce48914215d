package regtest

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
)

// Discard is storage that keeps nothing, for measuring a restore or a copy
// of millions of files: it is empty (Stat and Reader find nothing), and a
// Put reads its file whole, checks its size and counts it.
type Discard struct {
	Blobs, Links atomic.Int64 // files Put, by kind
}

var _ drivers.Driver = (*Discard)(nil)

func (*Discard) Name() string   { return "discard" }
func (*Discard) String() string { return "discard://" }

func (*Discard) Stat(_ context.Context, p string) (drivers.FileInfo, error) {
	return drivers.FileInfo{}, fmt.Errorf("discard: %s: %w", p, drivers.ErrNotFound)
}

func (*Discard) Reader(_ context.Context, p string) (io.ReadCloser, error) {
	return nil, fmt.Errorf("discard: %s: %w", p, drivers.ErrNotFound)
}

func (d *Discard) Put(_ context.Context, p string, r io.Reader, size int64) error {
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		return err
	}
	if size >= 0 && n != size {
		return fmt.Errorf("discard: %s: %d bytes, want %d", p, n, size)
	}
	if archive.ParsePath(p).Kind.IsLink() {
		d.Links.Add(1)
	} else {
		d.Blobs.Add(1)
	}
	return nil
}

func (*Discard) Walk(context.Context, string, drivers.WalkFunc) error { return nil }

func (*Discard) Delete(_ context.Context, p string) error {
	return fmt.Errorf("discard: %s: %w", p, drivers.ErrNotFound)
}
