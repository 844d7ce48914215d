package lock

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/regbackup/regbackup/internal/atomicfile"
)

// Holder describes a run that holds (or held) a lock.
type Holder struct {
	User     string    `json:"user"`
	Host     string    `json:"host"`
	PID      int       `json:"pid"`
	Command  string    `json:"command"`  // "backup", "restore", "check"
	Location string    `json:"location"` // the storage location locked
	Started  time.Time `json:"started"`
	Shared   bool      `json:"shared,omitempty"`
}

// Me describes the calling process running command on location, started now.
func Me(command, location string) Holder {
	h := Holder{PID: os.Getpid(), Command: command, Location: location, Started: time.Now().UTC().Truncate(time.Second)}
	if u, err := user.Current(); err == nil {
		h.User = u.Username
	} else {
		h.User = strconv.Itoa(os.Getuid())
	}
	h.Host, _ = os.Hostname()
	return h
}

// String names the holder for people: "backup (pid 1234, user root, host
// h1, started 2026-11-23T02:15:00Z, 3m12s ago)".
func (h Holder) String() string {
	s := fmt.Sprintf("regbackup %s (pid %d, user %s, host %s, started %s", h.Command, h.PID, h.User, h.Host,
		h.Started.UTC().Format(time.RFC3339))
	if !h.Started.IsZero() {
		s += fmt.Sprintf(", %s ago", time.Since(h.Started).Round(time.Second))
	}
	return s + ")"
}

// alive reports whether the holder's process may still run: always true for
// another host, whose processes cannot be checked from here.
func (h Holder) alive(host string) bool {
	if h.Host != host || h.PID <= 0 {
		return true
	}
	if h.PID == os.Getpid() {
		return false // a record with our own pid is from a dead process that had it
	}
	err := unix.Kill(h.PID, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

// recordPrefix is the name records of lock file base start with; a record
// is recordPrefix + pid.
func recordPrefix(base string) string { return base + ".holder." }

// record is one holder record found beside a lock file.
type record struct {
	path   string
	holder Holder
	ok     bool // parsed
}

// readRecords returns the holder records beside lock file base.
func readRecords(base string) []record {
	paths, _ := filepath.Glob(recordPrefix(base) + "*")
	var out []record
	for _, p := range paths {
		if strings.HasSuffix(p, ".tmp") {
			continue
		}
		r := record{path: p}
		if b, err := readNoFollow(p); err == nil && json.Unmarshal(b, &r.holder) == nil {
			r.ok = true
		}
		out = append(out, r)
	}
	return out
}

func readNoFollow(p string) ([]byte, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, 4096)
	n, err := f.Read(b)
	if n > 0 {
		return b[:n], nil
	}
	return nil, err
}

// writeRecord writes h's record beside lock file base and returns its
// path. It goes through a temp file and a rename, so a reader never sees
// half a record, and never follows a symlink planted in a shared folder.
func writeRecord(base string, h Holder) (string, error) {
	b, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	p := recordPrefix(base) + strconv.Itoa(h.PID)
	tmp := p + ".tmp" // one name per holder: a killed run's is removed by its next
	os.Remove(tmp)
	f, err := atomicfile.CreateTemp(p, tmp, 0o644)
	if err != nil {
		return "", err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Abort()
		return "", err
	}
	if err := f.Commit(); err != nil {
		return "", err
	}
	return p, nil
}
