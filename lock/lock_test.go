package lock

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const loc = "file:///var/lib/registry"

// The test binary doubles as a lock holder in another process:
// LOCK_HELPER=dir,location,mode,hold runs helperMain instead of the tests.
func TestMain(m *testing.M) {
	if spec := os.Getenv("LOCK_HELPER"); spec != "" {
		os.Exit(helperMain(spec))
	}
	os.Exit(m.Run())
}

// helperMain takes the lock, prints "locked" (or "busy: <error>"), holds it
// for the given duration and exits without releasing it.
func helperMain(spec string) int {
	f := strings.Split(spec, ",")
	hold, _ := time.ParseDuration(f[3])
	wait, _ := time.ParseDuration(f[4])
	l, err := Acquire(context.Background(), f[1], Me("backup", f[1]), Options{Dir: f[0], Shared: f[2] == "shared", Wait: wait})
	if err != nil {
		fmt.Printf("busy: %v\n", err)
		return 4
	}
	fmt.Printf("locked stale=%d\n", len(l.Stale))
	time.Sleep(hold)
	return 0
}

// holder is a helper process.
type holder struct {
	cmd  *exec.Cmd
	line string // its first line
}

// startHolder starts a helper and waits for its first line.
func startHolder(t *testing.T, dir, mode string, hold, wait time.Duration) *holder {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("LOCK_HELPER=%s,%s,%s,%s,%s", dir, loc, mode, hold, wait))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	return &holder{cmd: cmd, line: strings.TrimSpace(line)}
}

func acquire(t *testing.T, dir string, o Options) (*Lock, error) {
	t.Helper()
	o.Dir = dir
	return Acquire(context.Background(), loc, Me("restore", loc), o)
}

// TestExclusive: a second run fails at once with an error naming the
// holder's user, host, pid, command and start time, and gets the lock once
// the holder is done.
func TestExclusive(t *testing.T) {
	dir := t.TempDir()
	h := startHolder(t, dir, "exclusive", time.Hour, 0)
	if !strings.HasPrefix(h.line, "locked") {
		t.Fatalf("helper: %q", h.line)
	}
	start := time.Now()
	_, err := acquire(t, dir, Options{})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second exclusive lock: %v, want ErrLocked", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("failing took %s; it must fail at once", d)
	}
	host, _ := os.Hostname()
	msg := err.Error()
	for _, want := range []string{loc + " is in use by regbackup backup", "pid " + strconv.Itoa(h.cmd.Process.Pid),
		"user ", "host " + host, "started 20", "ago"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if _, err := acquire(t, dir, Options{Shared: true}); !errors.Is(err, ErrLocked) {
		t.Errorf("shared lock beside an exclusive one: %v, want ErrLocked", err)
	}
	h.cmd.Process.Signal(syscall.SIGTERM)
	h.cmd.Wait()
	l, err := acquire(t, dir, Options{})
	if err != nil {
		t.Fatalf("after the holder exited: %v", err)
	}
	l.Release()
}

// TestSIGKILLedHolder: a holder killed with SIGKILL leaves its record but
// not its lock; the next run gets the lock at once and reports the dead
// run as stale, once.
func TestSIGKILLedHolder(t *testing.T) {
	dir := t.TempDir()
	h := startHolder(t, dir, "exclusive", time.Hour, 0)
	pid := h.cmd.Process.Pid
	h.cmd.Process.Kill()
	h.cmd.Wait()
	l, err := acquire(t, dir, Options{})
	if err != nil {
		t.Fatalf("after SIGKILL: %v", err)
	}
	if len(l.Stale) != 1 || l.Stale[0].PID != pid || l.Stale[0].Command != "backup" {
		t.Errorf("Stale = %+v, want the killed backup (pid %d)", l.Stale, pid)
	}
	l.Release()
	l, err = acquire(t, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Stale) != 0 {
		t.Errorf("stale record reported twice: %+v", l.Stale)
	}
	l.Release()
	if recs := readRecords(l.Path); len(recs) != 0 {
		t.Errorf("records left after release: %+v", recs)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("lock folder not empty after the last release: %v", ents)
	}
}

// TestRaceAfterCrash: many runs start at once over a lock left by a
// SIGKILLed run; exactly one gets it, every other names the winner, and
// the stale record is reported by the winner only.
func TestRaceAfterCrash(t *testing.T) {
	dir := t.TempDir()
	dead := startHolder(t, dir, "exclusive", time.Hour, 0)
	dead.cmd.Process.Kill()
	dead.cmd.Wait()
	const n = 6
	hs := make([]*holder, n)
	var wg sync.WaitGroup
	for i := range hs {
		wg.Add(1)
		go func() { defer wg.Done(); hs[i] = startHolder(t, dir, "exclusive", 3*time.Second, 0) }()
	}
	wg.Wait()
	winners, stale := 0, 0
	for _, h := range hs {
		switch {
		case strings.HasPrefix(h.line, "locked"):
			winners++
			if h.line == "locked stale=1" {
				stale++
			}
		case strings.HasPrefix(h.line, "busy: ") && strings.Contains(h.line, "in use by"):
		default:
			t.Errorf("helper said %q", h.line)
		}
	}
	if winners != 1 || stale != 1 {
		t.Errorf("%d runs got the lock and %d reported the stale record; want 1 and 1: %v", winners, stale, hs)
	}
}

// TestWait: --wait gets the lock when the holder finishes in time, and
// fails naming the holder when it does not.
func TestWait(t *testing.T) {
	dir := t.TempDir()
	h := startHolder(t, dir, "exclusive", 700*time.Millisecond, 0)
	if !strings.HasPrefix(h.line, "locked") {
		t.Fatalf("helper: %q", h.line)
	}
	start := time.Now()
	_, err := acquire(t, dir, Options{Wait: 300 * time.Millisecond})
	var he *HeldError
	if !errors.As(err, &he) || he.Waited != 300*time.Millisecond || len(he.Holders) != 1 || he.Holders[0].PID != h.cmd.Process.Pid {
		t.Fatalf("short wait: %v, want a HeldError naming pid %d", err, h.cmd.Process.Pid)
	}
	if !strings.Contains(err.Error(), "still in use after waiting 300ms") {
		t.Errorf("error %q does not say it waited", err)
	}
	l, err := acquire(t, dir, Options{Wait: 10 * time.Second})
	if err != nil {
		t.Fatalf("long wait: %v", err)
	}
	if d := time.Since(start); d < 500*time.Millisecond || d > 5*time.Second {
		t.Errorf("got the lock after %s; the holder held it for 700ms", d)
	}
	l.Release()

	// Cancelling stops the wait.
	startHolder(t, dir, "exclusive", time.Hour, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := Acquire(ctx, loc, Me("check", loc), Options{Dir: dir, Wait: time.Hour}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled wait: %v", err)
	}
}

// TestShared: shared holders coexist; an exclusive run is refused and
// names them all.
func TestShared(t *testing.T) {
	dir := t.TempDir()
	a := startHolder(t, dir, "shared", time.Hour, 0)
	b := startHolder(t, dir, "shared", time.Hour, 0)
	if !strings.HasPrefix(a.line, "locked") || !strings.HasPrefix(b.line, "locked") {
		t.Fatalf("two shared holders: %q, %q", a.line, b.line)
	}
	_, err := acquire(t, dir, Options{})
	var he *HeldError
	if !errors.As(err, &he) || len(he.Holders) != 2 {
		t.Fatalf("exclusive beside two shared: %v, want both named", err)
	}
	l, err := acquire(t, dir, Options{Shared: true})
	if err != nil {
		t.Fatalf("a third shared holder: %v", err)
	}
	l.Release()
	if _, err := os.Stat(l.Path); err != nil {
		t.Errorf("a shared holder removed the lock file while others hold it: %v", err)
	}
	a.cmd.Process.Kill()
	b.cmd.Process.Kill()
	a.cmd.Wait()
	b.cmd.Wait()
	l, err = acquire(t, dir, Options{Shared: true})
	if err != nil {
		t.Fatal(err)
	}
	l.Release()
	if _, err := os.Stat(l.Path); err == nil {
		t.Errorf("the last shared holder left the lock file")
	}
}

// TestLocationsAreIndependent: different locations do not block each
// other, and lock file names are distinct and safe.
func TestLocationsAreIndependent(t *testing.T) {
	dir := t.TempDir()
	l1, err := Acquire(context.Background(), "s3://bucket/reg", Me("backup", ""), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer l1.Release()
	l2, err := Acquire(context.Background(), "s3://bucket/reg2", Me("backup", ""), Options{Dir: dir})
	if err != nil {
		t.Fatalf("another location: %v", err)
	}
	l2.Release()
	for _, s := range []string{"file:///a/b", "file:///a_b", "../../etc/passwd", strings.Repeat("x", 500)} {
		n := fileName(s)
		if strings.ContainsAny(n, "/\\") || strings.HasPrefix(n, ".") || len(n) > 120 {
			t.Errorf("fileName(%q) = %q", s, n)
		}
	}
	if fileName("file:///a/b") == fileName("file:///a_b") {
		t.Errorf("two locations share a lock file")
	}
}

// TestSharedDirMode: a lock folder regbackup creates for all users is
// world-writable with the sticky bit, like /run/lock itself.
func TestSharedDirMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "regbackup")
	if err := ensureDir(dir, true); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSticky == 0 || fi.Mode().Perm() != 0o777 {
		t.Errorf("shared lock folder mode %v, want drwxrwxrwt", fi.Mode())
	}
}

// TestReleaseReportsLeftovers: a lock file that cannot be removed (here a
// folder with a file in it stands at its path) makes Release say so,
// naming the path, instead of returning nil; the lock is released anyway
// and a second Release is a no-op.
func TestReleaseReportsLeftovers(t *testing.T) {
	dir := t.TempDir()
	l, err := acquire(t, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(l.Path, l.Path+".moved"); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(l.Path, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	err = l.Release()
	if err == nil || !strings.Contains(err.Error(), l.Path) {
		t.Errorf("Release with an unremovable lock file: %v, want an error naming %s", err, l.Path)
	}
	if err := l.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
}
