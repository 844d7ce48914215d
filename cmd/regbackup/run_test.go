package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/regbackup/regbackup/lock"
)

// failingWriter fails every write, like a closed stdout pipe.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// testRun is a run of command as finish sees it, with --json set as asked.
func testRun(t *testing.T, asJSON bool) *run {
	t.Helper()
	set := flag.NewFlagSet("test", flag.ContinueOnError)
	set.Bool("json", asJSON, "")
	set.Bool("quiet", true, "")
	set.String("metrics-file", "", "")
	c := cli.NewContext(newApp(), set, nil)
	c.Context = context.Background()
	return newRun(c, "backup")
}

// TestFinishDropsNothing: a --json outcome that cannot be written and a
// lock that cannot be released cleanly fail a run that otherwise
// succeeded (exit 1, the error says what), instead of being dropped.
func TestFinishDropsNothing(t *testing.T) {
	r := testRun(t, true)
	r.stdout = failingWriter{}
	err := r.finish(nil)
	if err == nil || !strings.Contains(err.Error(), "writing the --json outcome: broken pipe") || exitCode(context.Background(), err) != exitError {
		t.Errorf("finish with a stdout that fails: %v, want exit 1 naming the --json outcome", err)
	}

	r = testRun(t, false)
	dir := t.TempDir()
	l, err := lock.Acquire(context.Background(), "file:///reg", lock.Me("backup", "file:///reg"), lock.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	r.locks = append(r.locks, l)
	// A folder with a file in it where the lock file was: it cannot be removed.
	if err := os.Rename(l.Path, l.Path+".moved"); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(l.Path, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	err = r.finish(nil)
	if err == nil || !strings.Contains(err.Error(), l.Path) || r.out.ExitCode != exitError || r.out.OK {
		t.Errorf("finish with a lock that cannot be released: %v (outcome exit %d), want exit 1 naming %s", err, r.out.ExitCode, l.Path)
	}

	// A failed command keeps its own error.
	r = testRun(t, true)
	r.stdout = failingWriter{}
	cause := usagef("bad flag")
	if err := r.finish(cause); !errors.Is(err, cause) {
		t.Errorf("finish(%v) = %v, want the command's own error", cause, err)
	}
}
