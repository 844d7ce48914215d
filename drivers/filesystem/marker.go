package filesystem

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/regbackup/regbackup/internal/atomicfile"
)

// markPrefix starts the name of a marker file: ".regbackup-writing-<16
// hex>" at the root, beside docker/, where the registry never looks (it
// reads and writes only below docker/registry/v2).
const markPrefix = ".regbackup-writing-"

// Mark is what a marker file says: a run that is writing below the root, or
// was and did not end (killed, crashed, the machine lost). Host is empty when
// the file could not be read or parsed.
type Mark struct {
	File    string // absolute path of the marker
	Host    string
	PID     int
	Started time.Time
}

// String describes the run for people: "pid 1234 on host h1, started ...".
func (m Mark) String() string {
	if m.Host == "" {
		return "a run (its marker " + m.File + " is unreadable)"
	}
	return fmt.Sprintf("pid %d on host %s, started %s", m.PID, m.Host, m.Started.UTC().Format(time.RFC3339))
}

// BeginWrites durably writes a marker file at the root saying that this
// process is about to write below it, so that the next run's
// RemoveLeftovers knows to walk the tree for temp files when this one is
// killed before EndWrites. Call it once the storage's exclusive lock is
// held and before the first Put; a second call does nothing. An error
// (read-only or full disk) leaves no marker: the run may go on, but
// nothing then tells a later run to look for what this one leaves, so
// WalkLeftovers is the way to look.
func (d *Driver) BeginWrites() error {
	d.markMu.Lock()
	defer d.markMu.Unlock()
	if d.mark != "" {
		return nil
	}
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	name := filepath.Join(d.root, markPrefix+hex.EncodeToString(b[:]))
	if err := writeMark(name); err != nil {
		_ = os.Remove(name)
		return wrapErr("write marker", name, err)
	}
	d.mark = name
	return nil
}

// writeMark creates the marker file and makes it durable, folder entry
// included: a temp file must never be on disk without it.
func writeMark(name string) error {
	host, _ := os.Hostname()
	content := fmt.Sprintf("host: %s\npid: %d\nstarted: %s\n\n"+
		"A regbackup restore or copy is writing below this folder. The file goes when it ends; if it\n"+
		"stays, that run was killed, and the next restore or copy removes the temp files it left, then this.\n",
		host, os.Getpid(), time.Now().UTC().Format(time.RFC3339))
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return atomicfile.SyncDir(filepath.Dir(name))
}

// EndWrites removes the marker of BeginWrites. Call it when the run's
// writes are over, however they ended: every Put returned (a failed Put
// removes its own temp file). It does nothing when no marker was written
// and is safe to call more than once. A marker it cannot remove only makes
// the next run walk the tree.
func (d *Driver) EndWrites() error {
	d.markMu.Lock()
	defer d.markMu.Unlock()
	if d.mark == "" {
		return nil
	}
	if err := os.Remove(d.mark); err != nil && !isNotFound(err) {
		return wrapErr("remove marker", d.mark, err)
	}
	d.mark = ""
	return nil
}

// UnfinishedRuns returns the markers at the root other than this Driver's
// own: runs writing now (on another host: the lock is host-local) or that
// were killed. An error means the root could not be listed.
func (d *Driver) UnfinishedRuns() ([]Mark, error) {
	entries, err := os.ReadDir(d.root)
	if err != nil {
		return nil, wrapErr("list markers", d.root, err)
	}
	d.markMu.Lock()
	own := d.mark
	d.markMu.Unlock()
	var marks []Mark
	for _, e := range entries {
		p := filepath.Join(d.root, e.Name())
		if !strings.HasPrefix(e.Name(), markPrefix) || !e.Type().IsRegular() || p == own {
			continue
		}
		marks = append(marks, readMark(p))
	}
	return marks, nil
}

// readMark parses a marker file; what it cannot read stays zero.
func readMark(name string) Mark {
	m := Mark{File: name}
	f, err := os.Open(name)
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, value, _ := strings.Cut(sc.Text(), ": ")
		switch key {
		case "host":
			m.Host = value
		case "pid":
			m.PID, _ = strconv.Atoi(value)
		case "started":
			m.Started, _ = time.Parse(time.RFC3339, value)
		}
	}
	return m
}

// clearMarks removes the markers of runs that are over for sure, once their
// leftovers are gone: those of this host (the caller holds the exclusive
// lock, so no run here writes) and unreadable ones. A marker of another
// host stays: that run may be live, and only its own end removes it.
func clearMarks(marks []Mark) error {
	host, _ := os.Hostname()
	var errs []error
	for _, m := range marks {
		if m.Host != "" && m.Host != host {
			continue
		}
		if err := os.Remove(m.File); err != nil && !isNotFound(err) {
			errs = append(errs, wrapErr("remove marker", m.File, err))
		}
	}
	return errors.Join(errs...)
}
