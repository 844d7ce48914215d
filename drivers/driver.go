package drivers

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotFound is returned (wrapped) by Stat, Reader and Delete when a path
// does not exist. Callers test it with errors.Is.
var ErrNotFound = errors.New("not found")

// ErrDamaged is returned (wrapped) by Reader, or by a Read of what it
// returned, when the backend can tell that a stored file is damaged and
// would be served short or not at all (a Swift large object whose segments
// are missing). Callers report that file as damage, like content that does
// not match its digest, never as a short file.
var ErrDamaged = errors.New("stored file is damaged")

// FileInfo describes one stored file.
type FileInfo struct {
	Path    string    // slash-separated, relative to the driver's root
	Size    int64     // bytes
	ModTime time.Time // zero when the backend does not report it
	// MD5 is the hex MD5 of the content (32 lower-case digits) when the
	// backend reports one with no extra request (the S3 ETag of a
	// single-part upload, GCS md5Hash, Azure Content-MD5), else "".
	//
	// It proves equality only when it matches: an MD5 equal to that of
	// some content means the file holds that content. A different MD5
	// proves nothing, because some backends report other values in its
	// place (the ETag of an S3 object under SSE-KMS or SSE-C looks like an
	// MD5 but is not): a caller that needs to know then reads the file.
	// It is what the service recorded when the file was written; a file
	// changed behind the service's back (in the folder of a posix-backed
	// gateway) may keep its old one, which only a read reveals.
	MD5 string
}

// WalkFunc is called by Walk once per file. Returning an error stops the walk
// and Walk returns that error.
type WalkFunc func(FileInfo) error

// Driver reads and writes files below a registry's storage root.
//
// Every method may be called concurrently from many goroutines. Every method
// takes ctx first and returns promptly with ctx.Err() (possibly wrapped) once
// ctx is cancelled. Errors carry the driver name and the path that failed.
type Driver interface {
	// Name is the backend's short name ("filesystem", "inmemory", "s3", ...),
	// used in messages.
	Name() string

	// String describes the location for people, without secrets
	// (e.g. "file:///var/lib/registry").
	String() string

	// Stat reports on one file. It returns an error wrapping ErrNotFound when
	// path is missing or names a directory.
	Stat(ctx context.Context, path string) (FileInfo, error)

	// Reader opens a file for sequential reading from its start. The caller
	// must Close it. A missing file gives an error wrapping ErrNotFound.
	Reader(ctx context.Context, path string) (io.ReadCloser, error)

	// Put stores the whole of r at path, all or nothing: the file appears
	// complete, replacing any earlier one, only when r returned io.EOF; if r
	// returns any other error, or ctx is cancelled, Put returns that error and
	// leaves path as it was (no partial file, no temp file behind). Missing
	// parent folders are created. size is the expected length or -1 when
	// unknown; when size >= 0 and r yields a different number of bytes, Put
	// fails and stores nothing.
	Put(ctx context.Context, path string, r io.Reader, size int64) error

	// Walk calls fn for every file below prefix (a folder path, with or
	// without a trailing "/"; "" walks everything), in lexical order of
	// path. Folders themselves are not reported. A missing prefix is not an
	// error: Walk simply calls fn zero times. Backends that have folders skip
	// their own temp files.
	Walk(ctx context.Context, prefix string, fn WalkFunc) error

	// Delete removes one file. A missing file gives an error wrapping
	// ErrNotFound. Backends that have folders also remove the parent folders
	// the delete left empty, up to but never including the root.
	Delete(ctx context.Context, path string) error
}

// Syncer is implemented by backends whose completed Puts may still sit in a
// cache (the filesystem). Sync makes every Put that returned before it
// durable. Callers sync at ordering points, e.g. a restore syncs the blobs
// before it writes the link files that name them, so that after a crash no
// durable link points to a lost blob. Backends without it are durable when
// Put returns.
type Syncer interface {
	Sync(ctx context.Context) error
}

// ConcurrencyHinter is implemented by backends whose requests each wait on a
// network round trip (object stores), so that callers run many at once.
// DefaultConcurrency is how many blobs a backup should read, or a restore
// write, at once when the user did not say (--concurrency). Backends without
// it get a small default suited to local disks.
type ConcurrencyHinter interface {
	DefaultConcurrency() int
}

// DefaultConcurrency returns d's preferred number of blobs in flight, or
// local when d does not say.
func DefaultConcurrency(d Driver, local int) int {
	if h, ok := d.(ConcurrencyHinter); ok {
		if n := h.DefaultConcurrency(); n > 0 {
			return n
		}
	}
	return local
}

// WalkReader is implemented by backends that read small files as they walk
// cheaper than Walk and then a Reader per file (the filesystem). WalkRead
// is Walk that also gives fn the content of each file of at most limit
// bytes, or nil for larger files and files it could not read. The
// snapshot reads link files through it.
type WalkReader interface {
	WalkRead(ctx context.Context, prefix string, limit int64, fn func(fi FileInfo, data []byte) error) error
}

// ErrNoServerCopy is returned (wrapped) by Copier.CopyFrom when this copy
// cannot be done inside the storage service (the source is another service,
// another endpoint or account, or the service refused); the caller then reads
// the file and Puts it.
var ErrNoServerCopy = errors.New("server-side copy not possible")

// Copier is implemented by backends that can copy a file from another
// location of the same service without the bytes passing through this
// process (S3 CopyObject/UploadPartCopy, GCS rewrite, Azure copy from URL).
type Copier interface {
	// CopyFrom copies srcPath of src to dstPath of the receiver, all or
	// nothing like Put: dstPath appears complete or stays as it was. It
	// returns an error wrapping ErrNoServerCopy, having written nothing,
	// when src is not a location of the same service that the receiver's
	// credentials can read, and one wrapping ErrNotFound when srcPath is
	// missing.
	CopyFrom(ctx context.Context, dstPath string, src Driver, srcPath string) error
}

// StorageConfiger is implemented by backends that can say what storage
// section a registry's config.yml needs to serve this location.
type StorageConfiger interface {
	// StorageConfig returns the registry's driver name ("s3", "gcs",
	// "azure", "filesystem") and its parameters as config.yml spells them.
	// Secrets are never included: where the registry needs one, its value
	// is a placeholder naming the REGISTRY_* variable to set instead.
	StorageConfig() (driver string, params map[string]any)
}

// Wrapper is implemented by a Driver that wraps another to watch or slow
// it (a test's I/O delay) without changing what it does. Unwrap returns
// the wrapped driver.
type Wrapper interface {
	Unwrap() Driver
}

// Underlying returns d without its wrappers (Wrapper): backends that look
// at another Driver's concrete type, as a Copier looks at its source, look
// at what Underlying returns.
func Underlying(d Driver) Driver {
	for {
		w, ok := d.(Wrapper)
		if !ok {
			return d
		}
		d = w.Unwrap()
	}
}

// LeftoverRemover is implemented by backends on which a write killed half
// way (SIGKILL, a crash, a lost machine) leaves something behind that is no
// file of the registry: the filesystem's temp files of a Put, an object
// store's unfinished multipart uploads, which cost storage but never show
// as objects.
type LeftoverRemover interface {
	// RemoveLeftovers removes what interrupted writes left below prefix
	// ("" for the whole root), except at the paths for which keep (when not
	// nil) returns true, and returns how many it removed. It never removes a
	// file and keeps the writes in flight of this Driver, but it cannot tell
	// another process's write in flight from a dead one: the caller must
	// hold the storage's exclusive lock (package lock), so that no other
	// regbackup run writes there, and keep what others (the registry) may be
	// writing. Leftovers it could not remove are the error, with the count
	// of those it did remove. A backend may skip looking when the storage
	// says no run was interrupted (the filesystem's markers: a walk of the
	// whole tree takes minutes on a big registry).
	RemoveLeftovers(ctx context.Context, prefix string, keep func(path string) bool) (int, error)
}
