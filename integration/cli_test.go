package integration

// CLI behaviour as a user sees it: usage errors, refusing to overwrite an
// archive, interrupting a backup or a restore, --help and --version.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/regbackup/regbackup/integration/sample"
)

// runCmd runs a program and returns its combined output.
func runCmd(bin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	return string(out), err
}

// dirEntries lists the names in dir (sorted), nil when dir is missing.
func dirEntries(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// TestUsageErrors: mistakes on the command line exit 2 with a one-line
// error, and do nothing: no archive file, no restore target created, no
// file written.
func TestUsageErrors(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "src")
	genTree(t, src, sample.Options{Seed: 7})
	arch := filepath.Join(base, "good.tar.zst")
	mustRegbackup(t, 0, "backup", "--from", src, "-o", arch, "-q")

	cases := []struct {
		name string
		args func(out, to string) []string
	}{
		{"backup-no-from", func(out, to string) []string { return []string{"backup", "-o", out} }},
		{"backup-no-output", func(out, to string) []string { return []string{"backup", "--from", src} }},
		{"backup-unknown-flag", func(out, to string) []string {
			return []string{"backup", "--from", src, "-o", out, "--no-such-flag"}
		}},
		{"backup-unknown-compression", func(out, to string) []string {
			return []string{"backup", "--from", src, "-o", out, "--compression", "lz4"}
		}},
		{"restore-unknown-flag", func(out, to string) []string {
			return []string{"restore", arch, "--to", to, "--no-such-flag"}
		}},
		{"restore-no-to", func(out, to string) []string { return []string{"restore", arch} }},
		{"restore-files-to-and-files-to-original", func(out, to string) []string {
			return []string{"restore", arch, "--to", to, "--files-to", filepath.Join(filepath.Dir(to), "certs"), "--files-to-original"}
		}},
		{"restore-owner-not-numeric", func(out, to string) []string {
			return []string{"restore", arch, "--to", to, "--owner", "registry"}
		}},
		{"restore-owner-bad-gid", func(out, to string) []string {
			return []string{"restore", arch, "--to", to, "--owner", "999:x"}
		}},
		{"restore-owner-negative", func(out, to string) []string {
			return []string{"restore", arch, "--to", to, "--owner", "-1:0"}
		}},
		{"restore-owner-no-colon", func(out, to string) []string {
			return []string{"restore", arch, "--to", to, "--owner", "999"}
		}},
		{"verify-unknown-flag", func(out, to string) []string { return []string{"verify", "--no-such-flag", arch} }},
		{"verify-no-archive", func(out, to string) []string { return []string{"verify"} }},
		{"list-two-archives", func(out, to string) []string { return []string{"list", arch, arch} }},
		{"copy-no-from", func(out, to string) []string { return []string{"copy", "--to", to} }},
		{"copy-no-to", func(out, to string) []string { return []string{"copy", "--from", src} }},
		{"copy-from-and-registry-config", func(out, to string) []string {
			return []string{"copy", "--from", src, "--registry-config", filepath.Join(src, "config.yml"), "--to", to}
		}},
		{"copy-to-and-to-registry-config", func(out, to string) []string {
			return []string{"copy", "--from", src, "--to", to, "--to-registry-config", filepath.Join(src, "config.yml")}
		}},
		{"copy-argument", func(out, to string) []string { return []string{"copy", src, "--to", to} }},
		{"copy-unknown-flag", func(out, to string) []string {
			return []string{"copy", "--from", src, "--to", to, "--no-such-flag"}
		}},
		{"backup-from-without-value", func(out, to string) []string { return []string{"backup", "-o", out, "--from"} }},
		{"copy-repository-without-value", func(out, to string) []string {
			return []string{"copy", "--from", src, "--to", to, "--repository"}
		}},
		{"copy-shard-index-too-large", func(out, to string) []string {
			return []string{"copy", "--from", src, "--to", to, "--shard", "4/4"}
		}},
		{"copy-shard-of-zero", func(out, to string) []string { return []string{"copy", "--from", src, "--to", to, "--shard", "0/0"} }},
		{"copy-shard-no-slash", func(out, to string) []string { return []string{"copy", "--from", src, "--to", to, "--shard", "2"} }},
		{"copy-shard-spaces", func(out, to string) []string { return []string{"copy", "--from", src, "--to", to, "--shard", "1 / 4"} }},
		{"copy-shard-negative", func(out, to string) []string { return []string{"copy", "--from", src, "--to", to, "--shard", "-1/4"} }},
		{"copy-shard-empty", func(out, to string) []string { return []string{"copy", "--from", src, "--to", to, "--shard", ""} }},
		{"unknown-command", func(out, to string) []string { return []string{"bakup", "--from", src, "-o", out} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out.tar.zst")
			to := filepath.Join(dir, "new-root")
			_, stderr := expectExit(t, 2, c.args(out, to)...)
			if l := errorLine(t, stderr); l == "" {
				t.Errorf("no error line on stderr")
			}
			if names := dirEntries(t, dir); len(names) > 0 {
				t.Errorf("a usage error left files behind in %s: %v", dir, names)
			}
		})
	}
}

// TestCLIBackupRefusesToOverwrite: backup over an existing -o file without
// --force exits 1 and leaves the file exactly as it was.
func TestCLIBackupRefusesToOverwrite(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "src")
	genTree(t, src, sample.Options{Seed: 8})
	out := filepath.Join(base, "backups", "registry.tar.zst")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	precious := []byte("last week's backup, which must survive\n")
	if err := os.WriteFile(out, precious, 0o640); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-7 * 24 * time.Hour).Truncate(time.Second)
	if err := os.Chtimes(out, old, old); err != nil {
		t.Fatal(err)
	}
	_, stderr := expectExit(t, 1, "backup", "--from", src, "-o", out)
	if l := errorLine(t, stderr); !strings.Contains(l, out) {
		t.Errorf("error does not name the existing file %s: %q", out, l)
	}
	b, err := os.ReadFile(out)
	if err != nil || !bytes.Equal(b, precious) {
		t.Errorf("existing archive %s changed: %q, %v", out, b, err)
	}
	if fi, err := os.Stat(out); err != nil || !fi.ModTime().Equal(old) || fi.Mode().Perm() != 0o640 {
		t.Errorf("existing archive %s was touched: %v, %v", out, fi, err)
	}
	if names := dirEntries(t, filepath.Dir(out)); len(names) != 1 {
		t.Errorf("files left beside the archive: %v", names)
	}
}

// lineWatcher collects a process's stderr and reports when a line starting
// with a prefix appears.
type lineWatcher struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	prefix string
	seen   chan struct{}
	once   sync.Once
	done   chan struct{}
}

func watchLines(r io.Reader, prefix string) *lineWatcher {
	w := &lineWatcher{prefix: prefix, seen: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			l := sc.Text()
			w.mu.Lock()
			w.buf.WriteString(l + "\n")
			w.mu.Unlock()
			if strings.HasPrefix(l, w.prefix) {
				w.once.Do(func() { close(w.seen) })
			}
		}
	}()
	return w
}

func (w *lineWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// interruptAt starts regbackup, waits for its "blobs:" phase line, sends sig
// and returns the exit code and stderr.
func interruptAt(t *testing.T, sig os.Signal, args ...string) (int, string) {
	t.Helper()
	r := startRegbackup(t, nil, "blobs:", args...)
	time.Sleep(150 * time.Millisecond) // well inside the copy (300 MiB take about a second)
	return r.interrupt(t, sig)
}

// interrupt sends sig to the run and returns its exit code and stderr,
// logging how long it took to exit.
func (b *bgRun) interrupt(t *testing.T, sig os.Signal) (int, string) {
	t.Helper()
	sent := time.Now()
	if err := b.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal: %v", err)
	}
	code, stderr := b.wait(t)
	t.Logf("regbackup %s: exit %d %s after the signal", strings.Join(b.cmd.Args[1:], " "), code, time.Since(sent).Round(time.Millisecond))
	return code, stderr
}

// TestInterrupt: SIGINT during a backup's blob copy exits 130 and leaves
// neither the archive nor its partial file; SIGTERM during a restore into an
// empty root exits 130 and leaves no temp file and no link file.
func TestInterrupt(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "src")
	genTree(t, src, sample.Options{Seed: 9, LayerBytes: 300 << 20})

	t.Run("backup-SIGINT", func(t *testing.T) {
		dir := t.TempDir()
		out := filepath.Join(dir, "registry.tar.zst")
		code, stderr := interruptAt(t, os.Interrupt, "backup", "--from", src, "-o", out)
		if code != 130 {
			t.Errorf("exit %d, want 130\nstderr:\n%s", code, stderr)
		}
		if exists(out) {
			t.Errorf("interrupted backup left the archive %s", out)
		}
		if names := dirEntries(t, dir); len(names) > 0 {
			t.Errorf("interrupted backup left files in the output folder: %v", names)
		}
	})

	t.Run("restore-SIGTERM", func(t *testing.T) {
		dir := t.TempDir()
		arch := filepath.Join(dir, "registry.tar")
		mustRegbackup(t, 0, "backup", "--from", src, "-o", arch, "--compression", "none", "-q")
		root := filepath.Join(dir, "root")
		if err := os.Mkdir(root, 0o755); err != nil {
			t.Fatal(err)
		}
		code, stderr := interruptAt(t, syscall.SIGTERM, "restore", arch, "--to", root)
		if code != 130 {
			t.Errorf("exit %d, want 130\nstderr:\n%s", code, stderr)
		}
		if left := tempFilesUnder(t, root); len(left) > 0 {
			t.Errorf("interrupted restore left temp files: %v", left)
		}
		if m := markersAt(t, root); len(m) > 0 {
			t.Errorf("interrupted restore left its marker (it ended, so the next run must not walk): %v", m)
		}
		if links := linkFiles(t, root); len(links) > 0 {
			t.Errorf("interrupted restore wrote %d link files", len(links))
		}
		blobs := checkOnlyIntactBlobs(t, root)
		t.Logf("the interrupted restore had committed %d intact blobs", len(blobs))
	})
}

// TestHelp: --help of every subcommand exits 0 and shows an example.
func TestHelp(t *testing.T) {
	for _, cmd := range []string{"backup", "verify", "list", "restore", "prune", "copy"} {
		t.Run(cmd, func(t *testing.T) {
			stdout, stderr := expectExit(t, 0, cmd, "--help")
			if !strings.Contains(stdout, "Example") || !strings.Contains(stdout, "regbackup "+cmd+" ") {
				t.Errorf("regbackup %s --help shows no example:\n%s%s", cmd, stdout, stderr)
			}
		})
	}
	t.Run("top-level", func(t *testing.T) {
		stdout, _ := expectExit(t, 0, "--help")
		for _, cmd := range []string{"backup", "verify", "list", "restore", "prune", "copy"} {
			if !strings.Contains(stdout, cmd) {
				t.Errorf("regbackup --help does not list %s:\n%s", cmd, stdout)
			}
		}
	})
}

// TestCLIVersion: --version exits 0 and prints the version.
func TestCLIVersion(t *testing.T) {
	for _, flag := range []string{"--version", "-v"} {
		stdout, _ := expectExit(t, 0, flag)
		if !strings.HasPrefix(stdout, "regbackup version ") || strings.TrimSpace(strings.TrimPrefix(stdout, "regbackup version ")) == "" {
			t.Errorf("regbackup %s printed %q", flag, stdout)
		}
	}
}

// TestPruneMistypedFolder: a cron line whose prune folder is mistyped must
// not report success having looked at nothing.
func TestPruneMistypedFolder(t *testing.T) {
	missingDir := filepath.Join(t.TempDir(), "backups")
	_, stderr, code := Regbackup(t, "prune", missingDir, "--keep-last", "3")
	if code != 1 || !strings.Contains(stderr, "is not a folder") || !strings.Contains(stderr, "{date}") {
		t.Fatalf("prune of a missing folder: exit %d, stderr %q; want exit 1 saying it is not a folder and how to give a pattern", code, stderr)
	}
}
