package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/regbackup/regbackup/lock"
	"github.com/regbackup/regbackup/problem"
	"github.com/regbackup/regbackup/store"
)

// outcome is what a command did, however it ended: printed by --json on
// stdout, and the source of --metrics-file.
type outcome struct {
	Command         string            `json:"command"` // backup, restore, verify, check
	Status          string            `json:"status"`  // ok, error, usage, damaged, locked, interrupted
	ExitCode        int               `json:"exit_code"`
	OK              bool              `json:"ok"` // exit code 0
	Error           string            `json:"error,omitempty"`
	Started         time.Time         `json:"started"`
	DurationSeconds float64           `json:"duration_seconds"`
	Source          string            `json:"source,omitempty"`  // backup, check: the storage read
	Target          string            `json:"target,omitempty"`  // restore: the storage written
	Archive         string            `json:"archive,omitempty"` // the archive file, - for stdin/stdout
	ArchiveBytes    int64             `json:"archive_bytes,omitempty"`
	DryRun          bool              `json:"dry_run,omitempty"`
	Blobs           int               `json:"blobs"` // blobs written, restored or verified; in storage for check
	Bytes           int64             `json:"bytes"` // their bytes
	Damage          int               `json:"damage"`
	Notices         int               `json:"notices"`
	Problems        []problem.Problem `json:"problems"`
	LockedBy        []lock.Holder     `json:"locked_by,omitempty"`   // locked: who holds the storage
	StaleLocks      []lock.Holder     `json:"stale_locks,omitempty"` // earlier runs that died holding the lock
	Report          any               `json:"report"`                // the command's full report; null if it did not get that far
	// backup: the base of --incremental (or why there was none), and what
	// --keep-* pruned afterwards.
	Incremental map[string]any     `json:"incremental,omitempty"`
	Prune       *store.PruneReport `json:"prune,omitempty"`

	location string // metrics label: the storage location, without secrets
	extra    []metric
}

// run is one command's life: progress and problems on stderr, the locks on
// the storage it works on (copy's source and target), and its outcome, reported however it ends.
// Actions start with
//
//	r := newRun(c, "backup")
//	defer func() { err = r.finish(err) }()
type run struct {
	c     *cli.Context
	rep   *reporter
	out   outcome
	locks []*lock.Lock
}

func newRun(c *cli.Context, command string) *run {
	quiet, asJSON := c.Bool("quiet"), c.Bool("json")
	r := &run{c: c, out: outcome{Command: command, Started: time.Now().UTC(), Problems: []problem.Problem{}}}
	r.rep = newReporterTo(os.Stderr, quiet, !quiet && !asJSON && isTerminal(os.Stderr))
	return r
}

// setLocation names the storage the command works on, for the outcome
// and the metrics label.
func (r *run) setLocation(field *string, loc string) {
	*field = loc
	r.out.location = loc
}

// report records the command's report (rep, summed up in sum; nothing
// when sum is nil) and prints its closing line for people (not under
// --quiet or --json).
func (r *run) report(verb string, rep any, sum *summary) {
	if sum == nil {
		return
	}
	r.out.Report = rep
	r.out.Blobs, r.out.Bytes = sum.Blobs, sum.BlobBytes
	if !r.c.Bool("json") {
		r.rep.summary(verb, sum)
	}
}

// finish ends the run: clears the progress bar, releases the locks, and
// reports the outcome of err (the action's result) as JSON (--json) and
// metrics (--metrics-file). It returns err, or the error writing the
// metrics when the command itself succeeded.
func (r *run) finish(err error) error {
	r.rep.stop()
	for i := len(r.locks) - 1; i >= 0; i-- {
		r.locks[i].Release()
	}
	o := &r.out
	o.ExitCode = exitCode(r.c.Context, err)
	o.Status, o.OK = statusOf(o.ExitCode), o.ExitCode == exitOK
	if err != nil {
		o.Error = message(r.c.Context, err)
	}
	o.DurationSeconds = time.Since(o.Started).Seconds()
	o.Problems = append(o.Problems, r.rep.Problems()...)
	for _, p := range o.Problems {
		if p.Severity == problem.Damage {
			o.Damage++
		} else {
			o.Notices++
		}
	}
	if f := r.c.String("metrics-file"); f != "" {
		if merr := writeMetrics(f, o, time.Now()); merr != nil {
			// A metrics file that cannot be written leaves monitoring
			// blind: that fails a run that otherwise succeeded.
			merr = fmt.Errorf("writing --metrics-file: %w", merr)
			if err == nil {
				err = merr
				o.ExitCode, o.Status, o.OK, o.Error = exitError, statusOf(exitError), false, merr.Error()
			} else {
				fmt.Fprintf(os.Stderr, "regbackup: %v\n", merr)
			}
		}
	}
	if r.c.Bool("json") {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(o)
	}
	return err
}

// statusOf names an exit code in the JSON outcome.
func statusOf(code int) string {
	switch code {
	case exitOK:
		return "ok"
	case exitUsage:
		return "usage"
	case exitIntegrity:
		return "damaged"
	case exitLocked:
		return "locked"
	case exitParent:
		return "missing_parent"
	case exitKey:
		return "no_key"
	case exitInterrupted:
		return "interrupted"
	}
	return "error"
}

// redactLocation is a location as typed, for a label when the driver could
// not be opened: user info and query parameters (which may hold keys) go.
func redactLocation(loc string) string {
	if !strings.Contains(loc, "://") {
		return loc
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "(unparsable location)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}
