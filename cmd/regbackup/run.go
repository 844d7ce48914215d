package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/regbackup/regbackup/drivers/filesystem"
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
	// LeftoversRemoved counts the temp files, partial archives and
	// unfinished uploads of killed runs that this run removed.
	LeftoversRemoved int `json:"leftovers_removed,omitempty"`
	Report           any `json:"report"` // the command's full report; null if it did not get that far
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
	// writing are the filesystem targets this run marked as being
	// written (beginWrites); finish removes the markers.
	writing []*filesystem.Driver
	stdout  io.Writer // where --json goes: os.Stdout
}

func newRun(c *cli.Context, command string) *run {
	quiet, asJSON := c.Bool("quiet"), c.Bool("json")
	r := &run{c: c, out: outcome{Command: command, Started: time.Now().UTC(), Problems: []problem.Problem{}}, stdout: os.Stdout}
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

// finish ends the run: clears the progress bar, removes the markers of
// beginWrites, releases the locks, and
// reports the outcome of err (the action's result) as JSON (--json) and
// metrics (--metrics-file, --metrics-push: a failed push only warns). It returns err; when the command itself
// succeeded, a lock that could not be released cleanly, a metrics file or
// a JSON outcome that could not be written is the run's error instead
// (exit 1): nothing that went wrong is dropped. After a failed command such
// a later failure is printed on a line of its own.
func (r *run) finish(err error) error {
	r.rep.stop()
	r.endWrites() // every write has returned: the action is over
	for i := len(r.locks) - 1; i >= 0; i-- {
		err = r.alsoFailed(err, r.locks[i].Release())
	}
	r.locks = nil
	o := &r.out
	r.settle(err)
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
			err = r.alsoFailed(err, fmt.Errorf("writing --metrics-file: %w", merr))
			r.settle(err)
		}
	}
	if u := r.c.String("metrics-push"); u != "" {
		// Monitoring notices a push that did not arrive (the last push
		// time stops moving); the run's own result stands.
		if perr := pushMetrics(r.c.Context, u, o, time.Now()); perr != nil {
			fmt.Fprintf(os.Stderr, "regbackup: warning: --metrics-push: %v (the %s itself is not affected)\n", perr, o.Command)
		}
	}
	if r.c.Bool("json") {
		enc := json.NewEncoder(r.stdout)
		enc.SetIndent("", "  ")
		if jerr := enc.Encode(o); jerr != nil {
			err = r.alsoFailed(err, fmt.Errorf("writing the --json outcome: %w", jerr))
		}
	}
	return err
}

// settle sets the outcome's exit code, status and error from err.
func (r *run) settle(err error) {
	o := &r.out
	o.ExitCode = exitCode(r.c.Context, err)
	o.Status, o.OK = statusOf(o.ExitCode), o.ExitCode == exitOK
	o.Error = ""
	if err != nil {
		o.Error = message(r.c.Context, err)
	}
}

// alsoFailed folds later, a failure after the command's own work, into
// err: it becomes the error when err is nil; else it is printed on stderr
// and err stays the one reported.
func (r *run) alsoFailed(err, later error) error {
	switch {
	case later == nil:
		return err
	case err == nil:
		return later
	}
	fmt.Fprintf(os.Stderr, "regbackup: %v\n", later)
	return err
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
