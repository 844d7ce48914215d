package integration

// Locking: two runs on the same registry storage never overlap. A second
// backup or restore fails at once (exit 4) naming the holder, or waits with
// --wait; a run killed with SIGKILL leaves no lock behind; check runs
// beside other checks; dry runs, verify and list take no lock.

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/regbackup/regbackup/integration/sample"
	"github.com/regbackup/regbackup/integration/servers"
)

// bgRun is a regbackup process running in the background.
type bgRun struct {
	cmd  *exec.Cmd
	w    *lineWatcher
	done chan struct{} // closed when the process was waited for
	err  error         // cmd.Wait's result, once done
}

// startRegbackup starts regbackup with extra environment variables and
// waits until its stderr shows a line starting with prefix.
func startRegbackup(t *testing.T, env []string, prefix string, args ...string) *bgRun {
	t.Helper()
	cmd := exec.Command(tool(t, "regbackup"), args...)
	cmd.Env = append(os.Environ(), env...)
	pr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := &bgRun{cmd: cmd, w: watchLines(pr, prefix), done: make(chan struct{})}
	go func() {
		<-b.w.done // all of stderr read before Wait closes the pipe
		b.err = cmd.Wait()
		close(b.done)
	}()
	t.Cleanup(func() {
		if b.running() {
			cmd.Process.Kill()
			<-b.done
		}
	})
	select {
	case <-b.w.seen:
	case <-b.done:
		t.Fatalf("regbackup %s exited (%v) before printing %q:\n%s", strings.Join(args, " "), b.err, prefix, b.w.String())
	case <-time.After(time.Minute):
		t.Fatalf("regbackup %s: no %q line after a minute:\n%s", strings.Join(args, " "), prefix, b.w.String())
	}
	return b
}

// wait waits for the process and returns its exit code and stderr.
func (b *bgRun) wait(t *testing.T) (int, string) {
	t.Helper()
	select {
	case <-b.done:
		var ee *exec.ExitError
		switch {
		case b.err == nil:
			return 0, b.w.String()
		case errors.As(b.err, &ee):
			return ee.ExitCode(), b.w.String()
		}
		t.Fatalf("regbackup: %v", b.err)
	case <-time.After(2 * time.Minute):
		t.Fatalf("regbackup still running after 2 minutes:\n%s", b.w.String())
	}
	return -1, ""
}

func (b *bgRun) running() bool {
	select {
	case <-b.done:
		return false
	default:
		return true
	}
}

// lockedJSON is the part of a --json outcome that locking fills in.
type lockedJSON struct {
	Command  string `json:"command"`
	Status   string `json:"status"`
	ExitCode int    `json:"exit_code"`
	Error    string `json:"error"`
	LockedBy []struct {
		User, Host, Command string
		PID                 int
		Started             time.Time
	} `json:"locked_by"`
	StaleLocks []struct {
		PID     int
		Command string
	} `json:"stale_locks"`
}

// slowEnv makes every blob read and write take 40 ms, so a run on a small
// sample registry lasts long enough to be overlapped.
var slowEnv = []string{"REGBACKUP_TEST_IO_DELAY=40ms"}

// TestLockExcludesSecondRun: while a backup runs, a second backup, a
// restore and a check of the same storage (also through a symlink) fail at
// once with exit 4 and a one-line error naming the holder; a dry-run
// restore and verify go ahead; a backup with --wait starts once the first
// is done.
func TestLockExcludesSecondRun(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "src")
	genTree(t, src, sample.Options{Seed: 21, LayerBytes: 4 << 20, SmallFiles: 24})
	locks := filepath.Join(base, "locks")
	t.Setenv("REGBACKUP_LOCK_DIR", locks) // the children inherit it
	arch := filepath.Join(base, "first.tar.zst")
	mustRegbackup(t, 0, "backup", "--from", src, "-o", filepath.Join(base, "ready.tar.zst"), "-q")

	first := startRegbackup(t, slowEnv, "blobs:", "backup", "--from", src, "-o", arch, "--concurrency", "1")
	pid := first.cmd.Process.Pid
	host, _ := os.Hostname()
	link := filepath.Join(base, "link-to-src")
	if err := os.Symlink(src, link); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"backup", "--from", src, "-o", filepath.Join(base, "second.tar.zst")},
		{"backup", "--from", link + "/", "-o", filepath.Join(base, "third.tar.zst")},
		{"restore", filepath.Join(base, "ready.tar.zst"), "--to", src},
		{"check", "--from", src},
	} {
		start := time.Now()
		_, stderr := expectExit(t, 4, args...)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s took %s to fail; it must fail at once", args[0], d)
		}
		line := errorLine(t, stderr)
		for _, want := range []string{"is in use by regbackup backup", "pid " + strconv.Itoa(pid), "user ", "host " + host, "started ", "--wait"} {
			if !strings.Contains(line, want) {
				t.Errorf("%s: error line does not say %q: %s", args[0], want, line)
			}
		}
	}
	if exists(filepath.Join(base, "second.tar.zst")) {
		t.Errorf("the refused backup wrote an archive")
	}
	stdout, _ := expectExit(t, 4, "backup", "--from", src, "-o", filepath.Join(base, "second.tar.zst"), "--json")
	var j lockedJSON
	if err := json.Unmarshal([]byte(stdout), &j); err != nil {
		t.Fatalf("--json of a locked run: %v\n%s", err, stdout)
	}
	if j.Status != "locked" || j.ExitCode != 4 || len(j.LockedBy) != 1 || j.LockedBy[0].PID != pid ||
		j.LockedBy[0].Command != "backup" || j.LockedBy[0].Host != host || j.LockedBy[0].User == "" || j.LockedBy[0].Started.IsZero() {
		t.Errorf("--json of a locked run: %+v", j)
	}

	// Reading archives and dry runs take no lock.
	expectExit(t, 0, "restore", filepath.Join(base, "ready.tar.zst"), "--to", src, "--dry-run", "-q")
	expectExit(t, 0, "verify", filepath.Join(base, "ready.tar.zst"), "-q")
	if !first.running() {
		t.Fatalf("the first backup finished before the checks were done; make it slower\n%s", first.w.String())
	}

	// --wait: the second backup waits, then runs.
	waiter := startRegbackup(t, nil, "waiting up to", "backup", "--from", src, "-o", filepath.Join(base, "waited.tar.zst"), "--wait", "2m")
	if code, stderr := first.wait(t); code != 0 {
		t.Fatalf("first backup: exit %d\n%s", code, stderr)
	}
	if code, stderr := waiter.wait(t); code != 0 || !strings.Contains(stderr, "backup: ") {
		t.Errorf("backup --wait: exit %d, want 0 after the first finished\n%s", code, stderr)
	}
	expectExit(t, 0, "verify", filepath.Join(base, "waited.tar.zst"), "-q")

	// A --wait that runs out fails naming the holder.
	holder := startRegbackup(t, slowEnv, "blobs:", "backup", "--from", src, "-o", filepath.Join(base, "h.tar.zst"), "--concurrency", "1", "--force")
	start := time.Now()
	_, stderr := expectExit(t, 4, "restore", filepath.Join(base, "ready.tar.zst"), "--to", src, "--wait", "1s", "--lock-dir", locks)
	if d := time.Since(start); d < time.Second {
		t.Errorf("--wait 1s gave up after %s", d)
	}
	if line := errorLine(t, stderr); !strings.Contains(line, "still in use after waiting 1s") || !strings.Contains(line, "pid "+strconv.Itoa(holder.cmd.Process.Pid)) {
		t.Errorf("error line after --wait: %s", line)
	}
	holder.wait(t)
}

// TestLockSIGKILL: a backup killed with SIGKILL holds no lock: the next
// backup starts at once and reports that the earlier run did not finish.
func TestLockSIGKILL(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "src")
	genTree(t, src, sample.Options{Seed: 22, LayerBytes: 2 << 20, SmallFiles: 4})
	locks := filepath.Join(base, "locks")
	killed := startRegbackup(t, slowEnv, "blobs:", "backup", "--from", src, "-o", filepath.Join(base, "killed.tar.zst"), "--lock-dir", locks, "--concurrency", "1")
	pid := killed.cmd.Process.Pid
	if err := killed.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed.wait(t)

	start := time.Now()
	stdout, stderr := expectExit(t, 0, "backup", "--from", src, "-o", filepath.Join(base, "next.tar.zst"), "--lock-dir", locks, "--json")
	t.Logf("the next backup took %s", time.Since(start).Round(time.Millisecond))
	want := "notice: an earlier regbackup backup (pid " + strconv.Itoa(pid)
	if !strings.Contains(stderr, want) || !strings.Contains(stderr, "did not finish") {
		t.Errorf("stderr does not report the killed run (%q):\n%s", want, stderr)
	}
	var j lockedJSON
	if err := json.Unmarshal([]byte(stdout), &j); err != nil {
		t.Fatal(err)
	}
	if len(j.StaleLocks) != 1 || j.StaleLocks[0].PID != pid {
		t.Errorf("stale_locks = %+v, want the killed pid %d", j.StaleLocks, pid)
	}
	// Reported once only.
	_, stderr = expectExit(t, 0, "backup", "--from", src, "-o", filepath.Join(base, "again.tar.zst"), "--lock-dir", locks)
	if strings.Contains(stderr, "did not finish") {
		t.Errorf("the killed run is reported again:\n%s", stderr)
	}
	// Lock files live in the lock folder, never in the registry storage.
	for _, p := range treeListing(t, src) {
		if strings.Contains(p, "lock") || strings.Contains(p, "holder") {
			t.Errorf("lock litter in the registry storage: %s", p)
		}
	}
}

// TestCheckSharedLock: checks run beside each other, but a backup waits
// for them.
func TestCheckSharedLock(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "src")
	genTree(t, src, sample.Options{Seed: 23, LayerBytes: 2 << 20, SmallFiles: 8})
	locks := filepath.Join(base, "locks")
	first := startRegbackup(t, slowEnv, "hash:", "check", "--from", src, "--read-data", "--lock-dir", locks, "--concurrency", "1")
	expectExit(t, 0, "check", "--from", src, "--lock-dir", locks, "-q")
	_, stderr := expectExit(t, 4, "backup", "--from", src, "-o", filepath.Join(base, "b.tar.zst"), "--lock-dir", locks)
	if line := errorLine(t, stderr); !strings.Contains(line, "in use by regbackup check (pid "+strconv.Itoa(first.cmd.Process.Pid)) {
		t.Errorf("backup beside a check: %s", line)
	}
	if !first.running() {
		t.Errorf("the first check ended before the others ran; make it slower")
	}
	if code, stderr := first.wait(t); code != 0 {
		t.Errorf("check --read-data: exit %d\n%s", code, stderr)
	}
}

// TestLockObjectStorage: locks work the same for an S3 location (the lock
// lives in the local lock folder, nothing in the bucket): while a backup
// of s3://bucket/reg runs, a second backup and a check of it exit 4; once
// it is done, check (with --read-data) runs on the bucket.
func TestLockObjectStorage(t *testing.T) {
	gw := servers.StartVersityGW(t)
	bucket := gw.NewBucket(t)
	loc := gw.Location(bucket, "reg")
	base := t.TempDir()
	src := filepath.Join(base, "src")
	genTree(t, src, sample.Options{Seed: 24, LayerBytes: 2 << 20, SmallFiles: 8})
	arch := filepath.Join(base, "seed.tar.zst")
	mustRegbackup(t, 0, "backup", "--from", src, "-o", arch, "-q")
	locks := filepath.Join(base, "locks")
	regbackupS3(t, gw, 0, "restore", arch, "--to", loc, "-q", "--lock-dir", locks)

	first := startRegbackup(t, append(slowEnv, gw.Env()...), "blobs:", "backup", "--from", loc, "-o", filepath.Join(base, "first.tar.zst"),
		"--concurrency", "1", "--lock-dir", locks)
	for _, args := range [][]string{
		{"backup", "--from", loc, "-o", filepath.Join(base, "second.tar.zst"), "--lock-dir", locks},
		{"check", "--from", loc, "--lock-dir", locks},
	} {
		_, stderr := regbackupS3(t, gw, 4, args...)
		line := errorLine(t, stderr)
		if !strings.Contains(line, "s3://"+bucket) || !strings.Contains(line, "in use by regbackup backup (pid "+strconv.Itoa(first.cmd.Process.Pid)) {
			t.Errorf("%s of a locked bucket: %s", args[0], line)
		}
		if strings.Contains(stderr, gw.SecretKey) {
			t.Errorf("%s shows the secret key:\n%s", args[0], stderr)
		}
	}
	if code, stderr := first.wait(t); code != 0 {
		t.Fatalf("first backup: exit %d\n%s", code, stderr)
	}
	stdout, _ := regbackupS3(t, gw, 0, "check", "--from", loc, "--read-data", "--json", "--lock-dir", locks)
	o := parseOutcome(t, stdout)
	if o.Status != "ok" || !strings.HasPrefix(o.Source, "s3://"+bucket) || strings.Contains(stdout, gw.SecretKey) {
		t.Errorf("check of the bucket: %+v", o)
	}
	for _, k := range gw.Keys(t, bucket) {
		if !strings.HasPrefix(k, "reg/docker/registry/v2/") {
			t.Errorf("bucket holds %q besides the registry (a lock?)", k)
		}
	}
}
