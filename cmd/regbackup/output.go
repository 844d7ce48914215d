package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/regbackup/regbackup/backup"
	"github.com/regbackup/regbackup/problem"
	"github.com/regbackup/regbackup/progress"
	"github.com/regbackup/regbackup/restore"
)

// reporter prints what the core reports on stderr. On a terminal it draws
// a progress bar redrawn in place (progressbar.go) and prints each phase
// and problem above it; otherwise (cron, a log) one line per phase and per
// problem, and a progress line every 30 s during long phases. --quiet keeps
// only damage and errors, and --json draws no bar. Every problem is also
// kept for the JSON outcome and the metrics.
type reporter struct {
	w        io.Writer
	quiet    bool
	prog     progress.Progress
	mu       sync.Mutex
	stopTick chan struct{}
	stopOnce sync.Once
	start    time.Time
	phase    string
	bar      *bar // nil: no bar
	problems []problem.Problem
}

// newReporterTo reports on w, drawing a progress bar when withBar (w must
// then be a terminal).
func newReporterTo(w *os.File, quiet, withBar bool) *reporter {
	r := &reporter{w: w, quiet: quiet, start: time.Now(), stopTick: make(chan struct{})}
	r.prog.Phase = r.onPhase
	r.prog.Problem = r.onProblem
	switch {
	case withBar:
		r.bar = &bar{f: w, prog: &r.prog}
		go r.tick(barInterval)
	case !quiet:
		go r.tick(30 * time.Second)
	}
	return r
}

// printf prints a line, above the progress bar if there is one.
func (r *reporter) printf(format string, args ...any) {
	r.fprintf(r.w, format, args...)
}

// fprintf prints to w (stdout or stderr, often the same terminal) without
// mixing the text into the bar: the bar is cleared first and redrawn after.
func (r *reporter) fprintf(w io.Writer, format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		r.bar.clear()
	}
	fmt.Fprintf(w, format, args...)
	if r.bar != nil {
		r.bar.draw()
	}
}

func (r *reporter) onPhase(name, detail string) {
	r.mu.Lock()
	r.phase = name
	if r.bar != nil {
		r.bar.setPhase(name, detail)
	}
	r.mu.Unlock()
	if !r.quiet {
		r.printf("%s: %s\n", name, detail)
	}
}

func (r *reporter) onProblem(p problem.Problem) {
	r.mu.Lock()
	r.problems = append(r.problems, p)
	r.mu.Unlock()
	if p.Severity == problem.Damage || !r.quiet {
		r.printf("%s\n", p)
	}
}

// tick redraws the bar, or prints a progress line, every interval.
func (r *reporter) tick(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-r.stopTick:
			return
		case <-t.C:
			if r.bar != nil {
				r.mu.Lock()
				r.bar.draw()
				r.mu.Unlock()
				continue
			}
			total := r.prog.BytesTotal.Load()
			if total == 0 {
				continue
			}
			done := r.prog.Bytes.Load()
			el := time.Since(r.start).Seconds()
			r.printf("  %d/%d blobs, %s/%s (%.0f%%), %s/s\n", r.prog.Blobs.Load(), r.prog.BlobsTotal.Load(),
				human(done), human(total), 100*float64(done)/float64(total), human(int64(float64(done)/el)))
		}
	}
}

// stop ends the progress output and clears the bar, so that what follows
// (the summary, an error) starts on a clean line. It may be called more
// than once.
func (r *reporter) stop() {
	r.stopOnce.Do(func() {
		close(r.stopTick)
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.bar != nil {
			r.bar.clear()
			r.bar = nil
		}
	})
}

// Problems returns every problem reported so far.
func (r *reporter) Problems() []problem.Problem {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]problem.Problem(nil), r.problems...)
}

// summary is what the closing line of backup, restore and verify says of
// their reports (backup.Report, restore.Report, restore.VerifyReport).
type summary struct {
	Repositories, Tags, Blobs, Links, Files int
	Skipped, Removed                        int // restore only
	BlobBytes                               int64
	Duration                                time.Duration
	Problems                                []problem.Problem
}

// backupSummary sums up a backup's report; nil for none.
func backupSummary(rep *backup.Report) *summary {
	if rep == nil {
		return nil
	}
	return &summary{Repositories: rep.Repositories, Tags: rep.Tags, Blobs: rep.Blobs, Links: rep.Links,
		Files: rep.Files, BlobBytes: rep.BlobBytes, Duration: rep.Duration, Problems: rep.Problems}
}

// restoreSummary sums up a restore's report; nil for none.
func restoreSummary(rep *restore.Report) *summary {
	if rep == nil {
		return nil
	}
	return &summary{Repositories: rep.Repositories, Tags: rep.Tags, Blobs: rep.Blobs, Links: rep.Links,
		Files: rep.Files, Skipped: rep.Skipped, Removed: rep.Removed, BlobBytes: rep.BlobBytes,
		Duration: rep.Duration, Problems: rep.Problems}
}

// verifySummary sums up a verify's report; nil for none.
func verifySummary(rep *restore.VerifyReport) *summary {
	if rep == nil {
		return nil
	}
	return &summary{Repositories: rep.Repositories, Tags: rep.Tags, Blobs: rep.Blobs, Links: rep.Links,
		Files: rep.Files, BlobBytes: rep.BlobBytes, Duration: rep.Duration, Problems: rep.Problems}
}

// summary prints the closing line of a command for people.
func (r *reporter) summary(verb string, rep *summary) {
	if rep == nil || r.quiet {
		return
	}
	damaged := 0
	for _, p := range rep.Problems {
		if p.Severity == problem.Damage {
			damaged++
		}
	}
	line := fmt.Sprintf("%s: %d repositories, %d tags, %d blobs (%s), %d links, %d files",
		verb, rep.Repositories, rep.Tags, rep.Blobs, human(rep.BlobBytes), rep.Links, rep.Files)
	if rep.Skipped > 0 {
		line += fmt.Sprintf(", %d blobs already present", rep.Skipped)
	}
	if rep.Removed > 0 {
		line += fmt.Sprintf(", %d removed", rep.Removed)
	}
	line += fmt.Sprintf(" in %s", rep.Duration.Round(time.Millisecond))
	if damaged > 0 {
		line += fmt.Sprintf("; %d problem(s)", damaged)
	}
	r.printf("%s\n", line)
}

func human(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
