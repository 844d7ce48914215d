package lock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// ErrLocked is wrapped by the error Acquire returns when another run holds
// the lock (a *HeldError).
var ErrLocked = errors.New("locked by another regbackup run")

// HeldError says which run holds a lock another run wanted.
type HeldError struct {
	Location string
	Holders  []Holder      // the live holders on record; empty when they left none yet
	Waited   time.Duration // how long Acquire retried (Options.Wait)
}

func (e *HeldError) Error() string {
	who := "another regbackup run (it has not recorded who it is yet)"
	if len(e.Holders) > 0 {
		var hs []string
		for _, h := range e.Holders {
			hs = append(hs, h.String())
		}
		who = strings.Join(hs, " and ")
	}
	s := fmt.Sprintf("%s is in use by %s", e.Location, who)
	if e.Waited > 0 {
		s += fmt.Sprintf("; still in use after waiting %s", e.Waited)
	}
	return s
}

func (e *HeldError) Unwrap() error { return ErrLocked }

// Options configure Acquire.
type Options struct {
	// Dir is the lock folder; "" is DefaultDir(), created shared (1777).
	Dir string
	// Shared takes a reader's lock: any number of shared holders at once,
	// none beside an exclusive holder.
	Shared bool
	// Wait is how long to retry while the lock is held by others; 0 fails
	// at once.
	Wait time.Duration
}

// pollInterval is how often a waiting Acquire retries. Every Acquire also
// retries graceTries times graceInterval apart before it gives up, so that
// a lock held for an instant (a shared holder checking whether it is the
// last one on its way out) or a holder that has not written its record yet
// does not fail a run or its message.
const (
	pollInterval  = 200 * time.Millisecond
	graceTries    = 3
	graceInterval = 20 * time.Millisecond
)

// Lock is a held lock. Release it when done; the kernel releases it anyway
// when the process exits.
type Lock struct {
	f      *os.File
	shared bool
	record string // our holder record, "" if it could not be written
	// Stale lists the runs that died holding this lock (their records were
	// left behind, e.g. after SIGKILL or a power cut). Their locks were
	// released by the kernel; Acquire removed their records.
	Stale []Holder
	// Path is the lock file.
	Path string
}

// Acquire takes the lock on location for me. When others hold it, it
// retries every 200 ms for opts.Wait and then returns a *HeldError naming
// them; ctx cancels the wait.
func Acquire(ctx context.Context, location string, me Holder, opts Options) (*Lock, error) {
	dir := opts.Dir
	if dir == "" {
		dir = DefaultDir()
	}
	if err := ensureDir(dir, opts.Dir == ""); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, fileName(location))
	me.Shared = opts.Shared
	start := time.Now()
	for tries := 1; ; tries++ {
		f, err := tryLock(path, opts.Shared)
		if err == nil {
			return held(f, path, me, opts.Shared), nil
		}
		if !errors.Is(err, errBusy) {
			return nil, err
		}
		if tries >= graceTries && time.Since(start) >= opts.Wait {
			return nil, &HeldError{Location: location, Holders: liveHolders(path), Waited: opts.Wait}
		}
		pause := pollInterval
		if tries < graceTries {
			pause = graceInterval
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pause):
		}
	}
}

var errBusy = errors.New("lock busy")

// tryLock opens the lock file and flocks it without blocking. It returns
// errBusy when others hold it.
func tryLock(path string, shared bool) (*os.File, error) {
	how := unix.LOCK_EX | unix.LOCK_NB
	if shared {
		how = unix.LOCK_SH | unix.LOCK_NB
	}
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW, 0o644)
		if errors.Is(err, os.ErrPermission) {
			// Another user's lock file in the shared folder: flock
			// works on a read-only descriptor too.
			f, err = os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
		}
		if err != nil {
			return nil, fmt.Errorf("opening lock file: %w (set another lock folder with --lock-dir)", err)
		}
		for {
			err = unix.Flock(int(f.Fd()), how)
			if !errors.Is(err, unix.EINTR) {
				break
			}
		}
		if errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, errBusy
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		// The file locked must still be the one at path: its last holder
		// removes it on release (and a cleaner may have), and a lock on a
		// removed file excludes nobody. Then start again with a new file.
		fi, serr := f.Stat()
		pi, perr := os.Lstat(path)
		if serr == nil && perr == nil && os.SameFile(fi, pi) {
			now := time.Now()
			os.Chtimes(path, now, now) // keep age-based temp cleaners away
			return f, nil
		}
		f.Close()
	}
}

// held finishes a successful Acquire: records of runs that died holding
// the lock are removed and reported, and ours is written.
func held(f *os.File, path string, me Holder, shared bool) *Lock {
	l := &Lock{f: f, Path: path, shared: shared}
	for _, r := range readRecords(path) {
		// Holding it exclusively, every other record is stale; holding it
		// shared, only those of processes that are gone.
		if !shared || !r.ok || !r.holder.alive(me.Host) {
			if os.Remove(r.path) == nil && r.ok {
				l.Stale = append(l.Stale, r.holder)
			}
		}
	}
	l.record, _ = writeRecord(path, me) // best effort: it only improves messages
	return l
}

// liveHolders lists the recorded holders of lock file path whose process
// may still run.
func liveHolders(path string) []Holder {
	host, _ := os.Hostname()
	var out []Holder
	for _, r := range readRecords(path) {
		if r.ok && r.holder.alive(host) {
			out = append(out, r.holder)
		}
	}
	return out
}

// Release removes the holder record and releases the lock. The last
// holder also removes the lock file, so lock files do not pile up; this is
// safe because tryLock makes sure the file it locked is still the one at
// the path. It may be called more than once. The lock is released however
// it ends; an error says what was left behind (a record or lock file that
// could not be removed, naming its path) or that closing the lock failed.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	var errs []error
	remove := func(p string) {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if l.record != "" {
		remove(l.record)
	}
	// A shared holder is the last one if it can turn its lock exclusive.
	if !l.shared || unix.Flock(int(l.f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
		remove(l.Path)
	}
	if err := l.f.Close(); err != nil {
		errs = append(errs, fmt.Errorf("closing lock file %s: %w", l.Path, err))
	}
	l.f = nil
	if len(errs) > 0 {
		return fmt.Errorf("releasing lock %s: %w", l.Path, errors.Join(errs...))
	}
	return nil
}
