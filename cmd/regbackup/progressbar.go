package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/regbackup/regbackup/progress"
	"golang.org/x/sys/unix"
)

// barInterval is how often the progress bar is redrawn.
const barInterval = 200 * time.Millisecond

// isTerminal reports whether f is a terminal (a person is watching).
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// termWidth is f's width in columns, 80 when unknown.
func termWidth(f *os.File) int {
	if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col > 0 {
		return int(ws.Col)
	}
	return 80
}

// bar draws one line of progress in place on a terminal: the phase, a bar,
// bytes and blobs done of their totals, the rate and the time left. Only
// the reporter's goroutines call it, under the reporter's lock.
type bar struct {
	f       *os.File
	prog    *progress.Progress
	phase   string
	detail  string
	since   time.Time // the phase's start
	samples []sample  // bytes done over the last seconds, for the rate
	shown   bool      // a bar is on screen (the cursor is at its end)
}

type sample struct {
	at    time.Time
	bytes int64
}

// rateWindow is how far back the rate looks: recent enough to follow a
// change of speed, long enough not to jitter.
const rateWindow = 5 * time.Second

func (b *bar) setPhase(name, detail string) {
	b.phase, b.detail, b.since, b.samples = name, detail, time.Now(), nil
}

// clear removes the bar from the screen, so that a line can be printed.
func (b *bar) clear() {
	if b.shown {
		fmt.Fprint(b.f, "\r\x1b[K")
		b.shown = false
	}
}

// draw redraws the bar.
func (b *bar) draw() {
	line := b.line(time.Now(), termWidth(b.f)-1)
	if line == "" {
		b.clear()
		return
	}
	fmt.Fprint(b.f, "\r\x1b[K"+line)
	b.shown = true
}

// line is the bar's text at now, at most width columns (the bar must not
// wrap, or \r would no longer return to its start).
func (b *bar) line(now time.Time, width int) string {
	if b.phase == "" {
		return ""
	}
	total, blobsTotal := b.prog.BytesTotal.Load(), b.prog.BlobsTotal.Load()
	if total == 0 && blobsTotal == 0 {
		// A phase without totals (the snapshot): what it does, for how long.
		return fit(fmt.Sprintf("%s: %s  %s", b.phase, b.detail, now.Sub(b.since).Round(time.Second)), width)
	}
	done, blobs := b.prog.Bytes.Load(), b.prog.Blobs.Load()
	rate := b.rate(now, done)
	pct := 100.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	eta := "--"
	if rate > 0 && total > done {
		eta = fmtETA(time.Duration(float64(total-done) / rate * float64(time.Second)))
	} else if total > 0 && done >= total {
		eta = "0s"
	}
	stats := fmt.Sprintf(" %3.0f%%  %s/%s  %d/%d blobs  %s/s  ETA %s",
		pct, human(done), human(total), blobs, blobsTotal, human(int64(rate)), eta)
	head := b.phase + " "
	room := width - len(head) - len(stats) - 2
	if room < 10 {
		return fit(head+strings.TrimLeft(stats, " "), width)
	}
	room = min(room, 40)
	filled := int(float64(room) * min(pct, 100) / 100)
	arrow := ""
	if filled < room {
		arrow = ">"
	}
	return head + "[" + strings.Repeat("=", filled) + arrow + strings.Repeat(" ", room-filled-len(arrow)) + "]" + stats
}

// rate is bytes per second over the last rateWindow.
func (b *bar) rate(now time.Time, done int64) float64 {
	b.samples = append(b.samples, sample{now, done})
	for len(b.samples) > 2 && now.Sub(b.samples[1].at) > rateWindow {
		b.samples = b.samples[1:]
	}
	first := b.samples[0]
	if dt := now.Sub(first.at).Seconds(); dt > 0.5 {
		return float64(done-first.bytes) / dt
	}
	if dt := now.Sub(b.since).Seconds(); dt > 0 {
		return float64(done) / dt
	}
	return 0
}

func fmtETA(d time.Duration) string {
	d = d.Round(time.Second)
	if d >= time.Hour {
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	if d >= time.Minute {
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return d.String()
}

func fit(s string, width int) string {
	if width > 3 && len(s) > width {
		return s[:width-3] + "..."
	}
	return s
}
