package filesystem

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"strings"
	"sync"
)

// Temp file names. Ours: ".<base>.regbackup-<16 hex>.tmp". The registry's
// (distribution's filesystem driver, PutContent): "<base>.<uuid>.tmp".
const (
	tempMarker = ".regbackup-"
	tempSuffix = ".tmp"
)

// errCleanedUp is returned by Put once Cleanup has run.
var errCleanedUp = errors.New("driver was cleaned up (interrupted); no more writes")

// tempName returns a fresh temp file name for a file named base.
func tempName(base string) string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return "." + base + tempMarker + hex.EncodeToString(b[:]) + tempSuffix
}

// isTempName reports whether a file name is a temp file of ours or of the
// registry's, which Walk never reports.
func isTempName(name string) bool {
	if !strings.HasSuffix(name, tempSuffix) {
		return false
	}
	if strings.HasPrefix(name, ".") && strings.Contains(name, tempMarker) {
		return true
	}
	// <base>.<8>-<4>-<4>-<4>-<12 hex>.tmp
	const uuidLen = 36
	stem := strings.TrimSuffix(name, tempSuffix)
	if len(stem) < uuidLen+2 || stem[len(stem)-uuidLen-1] != '.' {
		return false
	}
	return isUUID(stem[len(stem)-uuidLen:])
}

func isUUID(s string) bool {
	for i := range len(s) {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// tempSet tracks the temp files of Puts in flight, so Cleanup can remove
// them when the process is interrupted.
type tempSet struct {
	mu     sync.Mutex
	names  map[string]struct{}
	closed bool
}

// add records a temp file just created; it fails once Cleanup has run (the
// caller then removes the file itself).
func (s *tempSet) add(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errCleanedUp
	}
	if s.names == nil {
		s.names = map[string]struct{}{}
	}
	s.names[name] = struct{}{}
	return nil
}

// snapshot returns the temp files in flight now.
func (s *tempSet) snapshot() map[string]struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]struct{}, len(s.names))
	for n := range s.names {
		out[n] = struct{}{}
	}
	return out
}

// done forgets a temp file that was renamed or removed.
func (s *tempSet) done(name string) {
	s.mu.Lock()
	delete(s.names, name)
	s.mu.Unlock()
}

// Cleanup removes the temp files of Puts still in flight and makes every
// later Put fail. It is meant for a signal handler, after cancelling the
// context of running work and before exiting: the interrupted Puts then fail
// (their files are gone) and leave nothing behind. It is safe to call
// concurrently with other methods and more than once. The error lists temp
// files that could not be removed.
func (d *Driver) Cleanup() error {
	s := &d.temps
	s.mu.Lock()
	s.closed = true
	names := s.names
	s.names = nil
	s.mu.Unlock()
	var errs []error
	for name := range names {
		if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, wrapErr("cleanup", name, err))
		}
	}
	return errors.Join(errs...)
}
