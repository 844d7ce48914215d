// Package atomicfile replaces a file so that a reader sees the old content
// or the new, never half of either, and the new content survives a crash
// once Commit returns: a temp file in the target's folder, written, synced,
// renamed over the target, and the folder synced (the rename is durable
// only then).
//
// Every file regbackup writes whole — an archive in a local folder, its
// sidecar, the metrics file, a lock's holder record, an included file put
// back by restore — goes through here. Blobs and link files go through the
// filesystem driver, which syncs them in its own phase.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// File is a temp file that becomes its target on Commit. Write to it as
// to any *os.File (Chmod and Chown apply to what Commit puts in place).
// Exactly one of Commit and Abort must be called.
type File struct {
	*os.File
	target string
	done   bool
}

// TempName is the default temp file beside target:
// ".<base>.regbackup-<12 hex>.tmp" (hidden, and ignored by whatever reads
// the folder for files ending in the target's extension).
func TempName(target string) string {
	var rnd [6]byte
	rand.Read(rnd[:])
	return filepath.Join(filepath.Dir(target), tempPrefix(target)+hex.EncodeToString(rnd[:])+".tmp")
}

// tempPrefix is what every TempName of target starts with, without its folder.
func tempPrefix(target string) string { return "." + filepath.Base(target) + ".regbackup-" }

// RemoveStale removes the temp files named by TempName beside target that
// a killed run left, and returns how many it removed. The caller must know
// that no live run is writing target (it holds the target's lock).
func RemoveStale(target string) int {
	dir, prefix := filepath.Dir(target), tempPrefix(target)
	entries, _ := os.ReadDir(dir) // a missing folder holds none
	n := 0
	for _, e := range entries {
		h, ok1 := strings.CutPrefix(e.Name(), prefix)
		h, ok2 := strings.CutSuffix(h, ".tmp")
		if !ok1 || !ok2 || !e.Type().IsRegular() || len(h) != 12 {
			continue
		}
		if _, err := hex.DecodeString(h); err != nil {
			continue
		}
		if os.Remove(filepath.Join(dir, e.Name())) == nil {
			n++
		}
	}
	return n
}

// Create starts replacing target through a new temp file named by
// TempName, created with perm.
func Create(target string, perm os.FileMode) (*File, error) {
	return CreateTemp(target, TempName(target), perm)
}

// CreateTemp is Create with the temp file's path chosen by the caller; it
// must be in target's folder. It must not exist: the file is created
// exclusively, and a symlink there is never followed.
func CreateTemp(target, tmp string, perm os.FileMode) (*File, error) {
	if filepath.Dir(tmp) != filepath.Dir(target) {
		return nil, fmt.Errorf("atomicfile: temp file %s is not in the folder of %s", tmp, target)
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, perm)
	if err != nil {
		return nil, err
	}
	return &File{File: f, target: target}, nil
}

// Adopt makes f, a temp file the caller created (exclusively) in target's
// folder, the File that becomes target on Commit: for a temp file held
// locked while it is written (a lock Commit keeps until the rename is done).
func Adopt(f *os.File, target string) *File { return &File{File: f, target: target} }

// Target is the path Commit writes.
func (f *File) Target() string { return f.target }

// Commit syncs the temp file, renames it over the target, closes it and
// syncs the folder. It renames before it closes, so a lock held on the temp
// file lasts until it is in place. On error the temp file is removed and
// the target is as it was (or, when only the close or the folder's sync
// failed, already replaced).
func (f *File) Commit() error {
	if f.done {
		return errors.New("atomicfile: committed or aborted twice")
	}
	f.done = true
	tmp := f.Name()
	err := f.Sync()
	if err == nil {
		err = os.Rename(tmp, f.target)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(f.target))
}

// syncDir is SyncDir; tests count its calls.
var syncDir = SyncDir

// Abort removes the temp file; the target stays as it was.
func (f *File) Abort() error {
	if f.done {
		return nil
	}
	f.done = true
	err := os.Remove(f.Name()) // before the close, which releases a lock on it
	f.Close()
	return err
}

// WriteFile replaces target with data, mode perm.
func WriteFile(target string, data []byte, perm os.FileMode) error {
	f, err := Create(target, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	// The umask applies at creation: set the mode asked for.
	if err := f.Chmod(perm); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// SyncDir makes the entries of folder dir durable: a rename or a new file
// in it survives a crash once SyncDir returns.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("syncing folder %s: %w", dir, err)
	}
	return nil
}
