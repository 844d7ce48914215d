package store

import (
	"context"
	"io"
	"time"
)

// ArchiveStore is where archives and their sidecars live: a local folder
// (LocalStore) or a folder-like prefix of an object store (DriverStore).
// Names are plain file names directly in the folder, never paths. Every
// method may be called concurrently. A missing name gives an error wrapping
// os.ErrNotExist (fs.ErrNotExist), whatever the backend.
type ArchiveStore interface {
	// String describes the folder for people, without secrets.
	String() string
	// Where names one archive of the store for people (a path or a URL).
	Where(name string) string
	// List returns the files directly in the folder (not below it), in no
	// particular order. A missing folder gives an error wrapping
	// os.ErrNotExist on a local disk and an empty list on an object store.
	List(ctx context.Context) ([]ArchiveInfo, error)
	// Stat reports on one file.
	Stat(ctx context.Context, name string) (ArchiveInfo, error)
	// Open opens a file for sequential reading; the caller closes it.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	// Create starts writing name. Nothing appears under name until Commit
	// returns nil; Abort (or a failed Commit) leaves name as it was and
	// nothing else behind. An existing file is replaced on Commit.
	Create(ctx context.Context, name string) (ArchiveWriter, error)
	// Delete removes one file.
	Delete(ctx context.Context, name string) error
}

// ArchiveInfo describes one file of an ArchiveStore.
type ArchiveInfo struct {
	Name    string
	Size    int64
	ModTime time.Time // zero when the backend does not say
}

// ArchiveWriter is a file being written to an ArchiveStore. Exactly one of
// Commit and Abort must be called, once, after the last Write.
type ArchiveWriter interface {
	io.Writer
	// Commit makes everything written appear under the name, at once and
	// durably. On error nothing appears.
	Commit() error
	// Abort discards what was written; nothing appears under the name.
	Abort() error
}

// ArchiveRef names one archive: the store that holds it and its name there.
type ArchiveRef struct {
	Store ArchiveStore
	Name  string
}

// String is where the archive is, for people.
func (r ArchiveRef) String() string { return r.Store.Where(r.Name) }

// Open opens the archive for reading.
func (r ArchiveRef) Open(ctx context.Context) (io.ReadCloser, error) {
	return r.Store.Open(ctx, r.Name)
}

// Same reports whether r and o name the same archive: the same name in
// stores that describe themselves alike (a local store also compares
// files, so that two spellings of one path match).
func (r ArchiveRef) Same(o ArchiveRef) bool {
	if a, ok := r.Store.(*LocalStore); ok {
		if b, ok := o.Store.(*LocalStore); ok {
			return SameFile(a.Where(r.Name), b.Where(o.Name))
		}
		return false
	}
	return r.Store.String() == o.Store.String() && r.Name == o.Name
}
