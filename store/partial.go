package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/regbackup/regbackup/drivers"
)

// A LocalStore writes NAME through the partial file ".NAME.partial-<12
// hex>" and holds flock(2) on it while it writes, so that a later run can
// tell the partial file of a live writer (locked) from one a killed run
// left (unlocked: the kernel released the lock when the writer died).
const partialMarker = ".partial-"

// PartialRemover is implemented by stores in which a write killed half way
// leaves something behind: a partial file (LocalStore), an unfinished
// multipart upload (DriverStore on S3).
type PartialRemover interface {
	// RemovePartials removes what killed writers left, and returns how many
	// it removed: a LocalStore every partial file in its folder that no
	// live writer holds locked (whatever archive it was for); a DriverStore
	// the unfinished uploads of name and of its sidecar only, since it
	// cannot tell a live upload from a dead one: the caller holds an
	// exclusive lock on Where(name), so that no other run on this host
	// writes name.
	RemovePartials(ctx context.Context, name string) (int, error)
}

var (
	_ PartialRemover = (*LocalStore)(nil)
	_ PartialRemover = (*DriverStore)(nil)
)

// RemovePartials aborts the unfinished uploads to name and its sidecar, on
// a driver that has such things (drivers.LeftoverRemover).
func (s *DriverStore) RemovePartials(ctx context.Context, name string) (int, error) {
	lr, ok := drivers.Underlying(s.D).(drivers.LeftoverRemover)
	if !ok {
		return 0, nil
	}
	side := sidecarOf(ArchiveRef{Store: s, Name: name}).Name
	return lr.RemoveLeftovers(ctx, "", func(p string) bool { return p != name && p != side })
}

// partialName returns a fresh partial file name for name.
func partialName(name string) string {
	var rnd [6]byte
	rand.Read(rnd[:])
	return "." + name + partialMarker + hex.EncodeToString(rnd[:])
}

// isPartialName reports whether a file name is one partialName returns.
func isPartialName(n string) bool {
	i := strings.LastIndex(n, partialMarker)
	if !strings.HasPrefix(n, ".") || i < 1 {
		return false
	}
	h := n[i+len(partialMarker):]
	_, err := hex.DecodeString(h)
	return len(h) == 12 && err == nil && strings.ToLower(h) == h
}

// createPartial creates and locks a new partial file for name in dir. A
// file removed by RemovePartials between its creation and the lock (the
// lock then finds another file, or none, at the path) is made again.
func createPartial(dir, name string) (*os.File, error) {
	for attempt := 0; ; attempt++ {
		tmp := filepath.Join(dir, partialName(name))
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, err
		}
		if err := flock(f, unix.LOCK_EX); err != nil {
			f.Close()
			os.Remove(tmp)
			return nil, fmt.Errorf("locking %s: %w", tmp, err)
		}
		if isAt(f, tmp) {
			return f, nil
		}
		f.Close()
		if attempt == 3 {
			return nil, fmt.Errorf("creating %s: removed as soon as created, again and again", tmp)
		}
	}
}

// RemovePartials removes the partial files in the folder that no writer
// holds locked: those of runs that were killed or crashed.
func (s *LocalStore) RemovePartials(ctx context.Context, _ string) (int, error) {
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, nil
		}
		return 0, err
	}
	var removed int
	var errs []error
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		if !e.Type().IsRegular() || !isPartialName(e.Name()) {
			continue
		}
		ok, err := removeUnlocked(filepath.Join(s.Dir, e.Name()))
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			removed++
		}
	}
	return removed, errors.Join(errs...)
}

// removeUnlocked removes the file at p unless a writer holds its lock.
func removeUnlocked(p string) (bool, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil // renamed into place or removed meanwhile
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	switch err := flock(f, unix.LOCK_EX|unix.LOCK_NB); {
	case errors.Is(err, unix.EWOULDBLOCK):
		return false, nil // being written
	case err != nil:
		return false, fmt.Errorf("locking %s: %w", p, err)
	}
	if !isAt(f, p) {
		return false, nil
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, err
	}
	return true, nil
}

// isAt reports whether the open file f is still the file at path p.
func isAt(f *os.File, p string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Lstat(p)
	return err == nil && os.SameFile(a, b)
}

// flock is unix.Flock on f, retried when a signal interrupts it.
func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
