package sample

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/regbackup/regbackup/drivers"
)

// memDriver is a map-backed drivers.Driver for these tests only.
type memDriver struct {
	mu    sync.Mutex
	files map[string][]byte
}

var _ drivers.Driver = (*memDriver)(nil)

func newMemDriver() *memDriver { return &memDriver{files: map[string][]byte{}} }

func (m *memDriver) Name() string   { return "memtest" }
func (m *memDriver) String() string { return "memtest://" }

func (m *memDriver) Stat(ctx context.Context, p string) (drivers.FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[p]
	if !ok {
		return drivers.FileInfo{}, fmt.Errorf("memtest: stat %s: %w", p, drivers.ErrNotFound)
	}
	return drivers.FileInfo{Path: p, Size: int64(len(b))}, nil
}

func (m *memDriver) Reader(ctx context.Context, p string) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[p]
	if !ok {
		return nil, fmt.Errorf("memtest: read %s: %w", p, drivers.ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (m *memDriver) Put(ctx context.Context, p string, r io.Reader, size int64) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("memtest: put %s: %w", p, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if size >= 0 && int64(len(b)) != size {
		return fmt.Errorf("memtest: put %s: got %d bytes, want %d", p, len(b), size)
	}
	m.mu.Lock()
	m.files[p] = b
	m.mu.Unlock()
	return nil
}

func (m *memDriver) Walk(ctx context.Context, prefix string, fn drivers.WalkFunc) error {
	prefix = strings.TrimSuffix(prefix, "/")
	m.mu.Lock()
	var infos []drivers.FileInfo
	for p, b := range m.files {
		if prefix == "" || p == prefix || strings.HasPrefix(p, prefix+"/") {
			infos = append(infos, drivers.FileInfo{Path: p, Size: int64(len(b))})
		}
	}
	m.mu.Unlock()
	sort.Slice(infos, func(i, j int) bool { return infos[i].Path < infos[j].Path })
	for _, fi := range infos {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(fi); err != nil {
			return err
		}
	}
	return nil
}

func (m *memDriver) Delete(ctx context.Context, p string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.files[p]; !ok {
		return fmt.Errorf("memtest: delete %s: %w", p, drivers.ErrNotFound)
	}
	delete(m.files, p)
	return nil
}
