package integration

// Progress for people: in a real terminal (tmux) backup, restore and check
// --read-data draw a one-line bar redrawn in place, with the phase, bytes
// and blobs done of their totals, the rate and the time left; the bar is
// gone before problems, the summary and errors are printed; --json and
// --quiet draw none.

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/regbackup/regbackup/integration/sample"
)

// barRE is one progress bar line: phase [====>   ]  42%  1.2 MiB/3.4 MiB  12/40 blobs  1.1 MiB/s  ETA 2s
var barRE = regexp.MustCompile(`^(\w+) \[[= >]*\] +(\d+)%  [\d.]+ [KMGT]?i?B/[\d.]+ [KMGT]?i?B  (\d+)/(\d+) blobs  [\d.]+ [KMGT]?i?B/s  ETA \S+`)

// terminal runs commands in a 120x10 tmux window, each in a tmux server
// of its own (its own socket), stopped when the command is done.
type terminal struct {
	t    *testing.T
	tmux string
}

func newTerminal(t *testing.T) *terminal {
	t.Helper()
	return &terminal{t: t, tmux: tool(t, "tmux")}
}

func shellQuote(args []string) string {
	var q []string
	for _, a := range args {
		q = append(q, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
	}
	return strings.Join(q, " ")
}

// run runs regbackup in a new tmux session with env ("K=V") and returns
// every distinct screen seen while it ran (scrollback included) and the
// exit code; the last screen is the final one.
func (term *terminal) run(env []string, args ...string) (screens []string, code int) {
	t := term.t
	t.Helper()
	// A socket in the test's temp folder: removed with it.
	session, socket := uniqueName("s"), filepath.Join(t.TempDir(), "tmux.sock")
	cmdline := "env " + shellQuote(env) + " " + shellQuote(append([]string{tool(t, "regbackup")}, args...)) +
		`; echo "EXIT=$?"; sleep 600`
	out, err := exec.Command(term.tmux, "-S", socket, "-f", "/dev/null", "new-session", "-d", "-s", session,
		"-x", "120", "-y", "10", cmdline).CombinedOutput()
	if err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	defer exec.Command(term.tmux, "-S", socket, "kill-server").Run()
	exitRE := regexp.MustCompile(`(?m)^EXIT=(\d+)$`)
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		b, err := exec.Command(term.tmux, "-S", socket, "capture-pane", "-p", "-J", "-S", "-", "-t", session).Output()
		if err != nil {
			t.Fatalf("tmux capture-pane: %v", err)
		}
		s := strings.TrimRight(string(b), "\n ")
		if len(screens) == 0 || screens[len(screens)-1] != s {
			screens = append(screens, s)
		}
		if m := exitRE.FindStringSubmatch(s); m != nil {
			fmt.Sscan(m[1], &code)
			t.Logf("regbackup %s in a terminal: exit %d, %d distinct screens; final screen:\n%s", strings.Join(args, " "), code, len(screens), s)
			return screens, code
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("regbackup %s did not finish in a terminal within 2 minutes; screen:\n%s", strings.Join(args, " "), screens[len(screens)-1])
	return nil, -1
}

// bars returns the bar lines seen on any screen for phase.
func bars(screens []string, phase string) []string {
	var out []string
	for _, s := range screens {
		for _, l := range strings.Split(s, "\n") {
			if m := barRE.FindStringSubmatch(l); m != nil && m[1] == phase && !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	return out
}

// checkFinalScreen fails unless the last screen holds no trace of a bar
// (a line printed over a bar that was not cleared keeps the bar's start or
// tail) and has a line starting with each of wantLines.
func checkFinalScreen(t *testing.T, screens []string, wantLines ...string) {
	t.Helper()
	final := screens[len(screens)-1]
	for _, l := range strings.Split(final, "\n") {
		if strings.Contains(l, "ETA ") || strings.Contains(l, "[==") || strings.Contains(l, " blobs  ") {
			t.Errorf("a progress bar is left on the final screen: %q", l)
		}
	}
	for _, w := range wantLines {
		found := false
		for _, l := range strings.Split(final, "\n") {
			found = found || strings.HasPrefix(l, w)
		}
		if !found {
			t.Errorf("final screen has no line starting with %q:\n%s", w, final)
		}
	}
}

// checkBars fails unless at least two different bars were drawn for phase
// (it moved), with sane numbers.
func checkBars(t *testing.T, screens []string, phase string) {
	t.Helper()
	bs := bars(screens, phase)
	t.Logf("%d distinct %q bars, e.g. %q", len(bs), phase, bs[min(len(bs)-1, 1):min(len(bs), 2)])
	if len(bs) < 2 {
		t.Fatalf("want a moving %q progress bar in the terminal, saw %d bar lines; screens:\n%s", phase, len(bs), strings.Join(screens, "\n----\n"))
	}
	for _, b := range bs {
		m := barRE.FindStringSubmatch(b)
		var pct, done, total int
		fmt.Sscan(m[2], &pct)
		fmt.Sscan(m[3], &done)
		fmt.Sscan(m[4], &total)
		if pct > 100 || done > total || total == 0 || len(b) >= 120 {
			t.Errorf("bar with wrong numbers or too wide: %q", b)
		}
	}
}

func TestProgressBarInTerminal(t *testing.T) {
	term := newTerminal(t)
	base := t.TempDir()
	src := filepath.Join(base, "src")
	reg := genTree(t, src, sample.Options{Seed: 31, LayerBytes: 6 << 20, SmallFiles: 24})
	slow := []string{"REGBACKUP_TEST_IO_DELAY=25ms", "REGBACKUP_LOCK_DIR=" + filepath.Join(base, "locks")}
	arch := filepath.Join(base, "r.tar.zst")

	t.Run("backup", func(t *testing.T) {
		term.t = t
		screens, code := term.run(slow, "backup", "--from", src, "-o", arch, "--concurrency", "1")
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		checkBars(t, screens, "blobs")
		checkFinalScreen(t, screens, "backup: ", "archive: ")
	})

	t.Run("restore", func(t *testing.T) {
		term.t = t
		screens, code := term.run(slow, "restore", arch, "--to", filepath.Join(base, "restored"))
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		checkBars(t, screens, "blobs")
		checkFinalScreen(t, screens, "restore: ", "restored into ")
	})

	t.Run("check-read-data", func(t *testing.T) {
		term.t = t
		screens, code := term.run(slow, "check", "--from", src, "--read-data", "--concurrency", "1")
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		checkBars(t, screens, "hash")
		checkFinalScreen(t, screens, "check: ")
	})

	t.Run("no-bar-with-json-or-quiet", func(t *testing.T) {
		term.t = t
		for _, flag := range []string{"--json", "--quiet"} {
			screens, code := term.run(slow, "backup", "--from", src, "-o", filepath.Join(base, "q"+flag+".tar.zst"), "--concurrency", "1", flag)
			if code != 0 {
				t.Fatalf("%s: exit %d", flag, code)
			}
			if bs := bars(screens, "blobs"); len(bs) > 0 {
				t.Errorf("%s: a progress bar was drawn: %q", flag, bs[0])
			}
		}
	})

	// A problem found mid-copy is printed on its own line above the bar,
	// and the error line after the bar is gone.
	t.Run("damage-above-the-bar", func(t *testing.T) {
		term.t = t
		digests := make([]string, 0, len(reg.Blobs))
		for dg := range reg.Blobs {
			digests = append(digests, dg)
		}
		sort.Strings(digests)
		victim := ""
		for _, im := range reg.Tags {
			_, layers := manifestLayers(t, src, im.Digest)
			for _, l := range layers {
				// The layer nearest the middle of the copy order.
				if victim == "" || absDiff(slices.Index(digests, l), len(digests)/2) < absDiff(slices.Index(digests, victim), len(digests)/2) {
					victim = l
				}
			}
		}
		if err := sample.Corrupt(t.Context(), fsDriver(t, src), victim); err != nil {
			t.Fatal(err)
		}
		screens, code := term.run(slow, "backup", "--from", src, "-o", filepath.Join(base, "damaged.tar.zst"), "--concurrency", "1")
		if code != 3 {
			t.Fatalf("exit %d, want 3", code)
		}
		checkBars(t, screens, "blobs")
		checkFinalScreen(t, screens, "damage: docker/registry/v2/blobs/sha256/"+victim[7:9]+"/"+victim[7:], "backup: ", "regbackup: ")
	})
}

func absDiff(a, b int) int {
	if a > b {
		return a - b
	}
	return b - a
}
