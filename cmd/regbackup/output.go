package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/regbackup/regbackup/backup"
)

// reporter prints what the core reports: one line per phase and per
// problem on stderr, and a progress line every few seconds during long
// phases. --quiet keeps only damage and errors.
type reporter struct {
	w        io.Writer
	quiet    bool
	prog     backup.Progress
	mu       sync.Mutex
	stopTick chan struct{}
	start    time.Time
	phase    string
}

func newReporter(quiet bool) *reporter {
	r := &reporter{w: os.Stderr, quiet: quiet, start: time.Now(), stopTick: make(chan struct{})}
	r.prog.Phase = r.onPhase
	r.prog.Problem = r.onProblem
	if !quiet {
		go r.tick(progressInterval())
	}
	return r
}

// progressInterval is 2 s on a terminal, 30 s in a log.
func progressInterval() time.Duration {
	if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		return 2 * time.Second
	}
	return 30 * time.Second
}

func (r *reporter) printf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.w, format, args...)
}

func (r *reporter) onPhase(name, detail string) {
	r.mu.Lock()
	r.phase = name
	r.mu.Unlock()
	if !r.quiet {
		r.printf("%s: %s\n", name, detail)
	}
}

func (r *reporter) onProblem(p backup.Problem) {
	if p.Severity == backup.Damage || !r.quiet {
		r.printf("%s\n", p)
	}
}

func (r *reporter) tick(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-r.stopTick:
			return
		case <-t.C:
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

func (r *reporter) stop() { close(r.stopTick) }

// summary prints the closing line of a command, or its JSON report.
func (r *reporter) summary(asJSON bool, verb string, rep *backup.Report, extra map[string]any) {
	if rep == nil {
		return
	}
	if asJSON {
		out := map[string]any{"command": verb, "report": rep}
		for k, v := range extra {
			out[k] = v
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(out)
		return
	}
	if r.quiet {
		return
	}
	damaged := 0
	for _, p := range rep.Problems {
		if p.Severity == backup.Damage {
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
