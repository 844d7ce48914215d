package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/regbackup/regbackup/internal/atomicfile"
)

// ErrFolder is returned (wrapped) by LocalStore.Open for a folder.
var ErrFolder = errors.New("is a folder, not an archive")

// LocalStore keeps archives in a local folder. Files are written to a
// partial file ".NAME.partial-XXXXXXXXXXXX" beside NAME, mode 0600,
// locked while written, fsynced and renamed into place on Commit; the
// partial files of killed runs are removed by RemovePartials.
type LocalStore struct {
	Dir string
}

var _ ArchiveStore = (*LocalStore)(nil)

// NewLocalStore is the store of folder dir ("" is the current folder).
func NewLocalStore(dir string) *LocalStore {
	if dir == "" {
		dir = "."
	}
	return &LocalStore{Dir: dir}
}

// String is the folder.
func (s *LocalStore) String() string { return s.Dir }

// Where is the path of name.
func (s *LocalStore) Where(name string) string { return filepath.Join(s.Dir, name) }

// List returns the regular files in the folder.
func (s *LocalStore) List(ctx context.Context) ([]ArchiveInfo, error) {
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil, err
	}
	var out []ArchiveInfo
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, ArchiveInfo{Name: e.Name(), Size: fi.Size(), ModTime: fi.ModTime()})
	}
	return out, nil
}

// Stat reports on name, following symlinks.
func (s *LocalStore) Stat(ctx context.Context, name string) (ArchiveInfo, error) {
	fi, err := os.Stat(s.Where(name))
	if err != nil {
		return ArchiveInfo{}, err
	}
	return ArchiveInfo{Name: name, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Open opens name; a folder is refused.
func (s *LocalStore) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	f, err := os.Open(s.Where(name))
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s %w", s.Where(name), ErrFolder)
	}
	return f, nil
}

// Delete removes name.
func (s *LocalStore) Delete(ctx context.Context, name string) error {
	return os.Remove(s.Where(name))
}

// Create opens a new partial file beside name, locked while it is written
// (see PartialRemover).
func (s *LocalStore) Create(ctx context.Context, name string) (ArchiveWriter, error) {
	f, err := createPartial(s.Dir, name)
	if err != nil {
		return nil, err
	}
	return localWriter{atomicfile.Adopt(f, s.Where(name))}, nil
}

// localWriter writes a partial file and renames it, durably, on Commit.
type localWriter struct{ *atomicfile.File }

// Commit syncs the partial file, renames it into place and syncs the
// folder. atomicfile renames before it closes: closing releases the lock,
// and an unlocked partial file is fair game for RemovePartials.
func (w localWriter) Commit() error {
	if err := w.File.Commit(); err != nil {
		return fmt.Errorf("writing %s: %w", w.Target(), err)
	}
	return nil
}
