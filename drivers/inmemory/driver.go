package inmemory

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/regbackup/regbackup/drivers"
)

const driverName = "inmemory"

var _ drivers.Driver = (*Driver)(nil)

// file is one stored file; data is never modified once stored.
type file struct {
	data    []byte
	modTime time.Time
}

// Driver is a map-backed store. It is safe for concurrent use.
type Driver struct {
	name  string // "" when unnamed
	mu    sync.RWMutex
	files map[string]file
}

// New returns an empty, unnamed store.
func New() *Driver { return &Driver{files: map[string]file{}} }

// Name returns "inmemory".
func (d *Driver) Name() string { return driverName }

// String returns "inmemory://" followed by the store's name, if any.
func (d *Driver) String() string { return "inmemory://" + d.name }

// Stat reports on the file at p; a missing file gives an error wrapping
// drivers.ErrNotFound.
func (d *Driver) Stat(ctx context.Context, p string) (drivers.FileInfo, error) {
	f, err := d.get(ctx, "stat", p)
	if err != nil {
		return drivers.FileInfo{}, err
	}
	return drivers.FileInfo{Path: p, Size: int64(len(f.data)), ModTime: f.modTime}, nil
}

// Reader returns a reader over the file's content as it was when Reader was
// called; a missing file gives an error wrapping drivers.ErrNotFound.
func (d *Driver) Reader(ctx context.Context, p string) (io.ReadCloser, error) {
	f, err := d.get(ctx, "read", p)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(f.data)), nil
}

// Delete removes the file at p; a missing file gives an error wrapping
// drivers.ErrNotFound.
func (d *Driver) Delete(ctx context.Context, p string) error {
	if err := checkPath(p); err != nil {
		return invalidPath("delete", p, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: delete %s: %w", driverName, p, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.files[p]; !ok {
		return fmt.Errorf("%s: delete %s: %w", driverName, p, drivers.ErrNotFound)
	}
	delete(d.files, p)
	return nil
}

// get looks p up for op.
func (d *Driver) get(ctx context.Context, op, p string) (file, error) {
	if err := checkPath(p); err != nil {
		return file{}, invalidPath(op, p, err)
	}
	if err := ctx.Err(); err != nil {
		return file{}, fmt.Errorf("%s: %s %s: %w", driverName, op, p, err)
	}
	d.mu.RLock()
	f, ok := d.files[p]
	d.mu.RUnlock()
	if !ok {
		return file{}, fmt.Errorf("%s: %s %s: %w", driverName, op, p, drivers.ErrNotFound)
	}
	return f, nil
}
