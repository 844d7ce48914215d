package filesystem_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regbackup/regbackup/drivers/filesystem"
)

const staleTemp = "docker/registry/v2/blobs/sha256/ab/abcd/.data.regbackup-0123456789abcdef.tmp"

// markers lists the marker files at root.
func markers(t *testing.T, root string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(root, ".regbackup-writing-*"))
	return m
}

// TestRemoveLeftoversWithoutMarkerDoesNotWalk: with no marker at the root
// no run was killed since the markers came, so RemoveLeftovers does not
// walk: a temp file planted by hand stays (a walk would remove it, as
// WalkLeftovers then shows).
func TestRemoveLeftoversWithoutMarkerDoesNotWalk(t *testing.T) {
	root := t.TempDir()
	d := newDriver(t, root)
	writeFile(t, filepath.Join(root, filepath.FromSlash(staleTemp)), "x")
	if err := d.BeginWrites(); err != nil { // its own marker is no reason to walk
		t.Fatal(err)
	}
	if n, err := d.RemoveLeftovers(t.Context(), "", nil); err != nil || n != 0 {
		t.Fatalf("RemoveLeftovers without a marker = %d, %v; want 0, nil", n, err)
	}
	if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(staleTemp))); err != nil {
		t.Fatalf("RemoveLeftovers walked without a marker: %v", err)
	}
	if n, err := d.WalkLeftovers(t.Context(), "", nil); err != nil || n != 1 {
		t.Fatalf("WalkLeftovers = %d, %v; want 1, nil", n, err)
	}
}

// TestMarkerOfKilledRun: a run that began writing and never ended (killed:
// no EndWrites) leaves its marker and a temp file; the next run sees the
// marker, walks, removes the temp file and that marker, keeps its own until
// EndWrites, after which the root holds no marker at all.
func TestMarkerOfKilledRun(t *testing.T) {
	root := t.TempDir()
	killed := newDriver(t, root)
	if err := killed.BeginWrites(); err != nil {
		t.Fatal(err)
	}
	if err := killed.BeginWrites(); err != nil { // twice: still one marker
		t.Fatal(err)
	}
	putString(t, killed, "docker/registry/v2/blobs/sha256/ab/abcd/data", "x")
	writeFile(t, filepath.Join(root, filepath.FromSlash(staleTemp)), "half") // the Put it was killed in
	if m := markers(t, root); len(m) != 1 {
		t.Fatalf("markers after BeginWrites: %q; want one", m)
	}

	next := newDriver(t, root)
	runs, err := next.UnfinishedRuns()
	host, _ := os.Hostname()
	if err != nil || len(runs) != 1 || runs[0].PID != os.Getpid() || runs[0].Host != host ||
		time.Since(runs[0].Started) > time.Minute {
		t.Fatalf("UnfinishedRuns = %+v, %v; want this process's marker", runs, err)
	}
	if err := next.BeginWrites(); err != nil {
		t.Fatal(err)
	}
	if n, err := next.RemoveLeftovers(t.Context(), "", nil); err != nil || n != 1 {
		t.Fatalf("RemoveLeftovers after a killed run = %d, %v; want 1, nil", n, err)
	}
	if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(staleTemp))); !os.IsNotExist(err) {
		t.Fatalf("the killed run's temp file is still there (%v)", err)
	}
	if m := markers(t, root); len(m) != 1 {
		t.Fatalf("markers while the next run writes: %q; want its own only", m)
	}
	if runs, err := next.UnfinishedRuns(); err != nil || len(runs) != 0 {
		t.Fatalf("UnfinishedRuns after the cleanup = %+v, %v; want none", runs, err)
	}
	if err := next.EndWrites(); err != nil {
		t.Fatal(err)
	}
	if err := next.EndWrites(); err != nil { // twice: nothing to do
		t.Fatal(err)
	}
	if m := markers(t, root); len(m) != 0 {
		t.Fatalf("markers after EndWrites: %q; want none", m)
	}
	if got := readFile(t, filepath.Join(root, "docker/registry/v2/blobs/sha256/ab/abcd/data")); got != "x" {
		t.Fatalf("the file Put wrote: %q", got)
	}
}

// TestMarkerOfAnotherHostStays: a marker of a run on another host makes
// RemoveLeftovers walk as before the markers came, but stays (the lock is
// host-local: that run may be live, and only its end removes it); an
// unreadable marker goes with the leftovers.
func TestMarkerOfAnotherHostStays(t *testing.T) {
	root := t.TempDir()
	d := newDriver(t, root)
	foreign := filepath.Join(root, ".regbackup-writing-00000000000000aa")
	writeFile(t, foreign, "host: some-other-host.invalid\npid: 42\nstarted: 2020-01-02T03:04:05Z\n")
	garbage := filepath.Join(root, ".regbackup-writing-00000000000000bb")
	writeFile(t, garbage, "\x00\x01")
	writeFile(t, filepath.Join(root, filepath.FromSlash(staleTemp)), "x")
	runs, err := d.UnfinishedRuns()
	if err != nil || len(runs) != 2 {
		t.Fatalf("UnfinishedRuns = %+v, %v; want 2", runs, err)
	}
	for _, r := range runs {
		if r.File == foreign && !strings.Contains(r.String(), "pid 42 on host some-other-host.invalid, started 2020-01-02T03:04:05Z") {
			t.Errorf("Mark.String() = %q", r.String())
		}
	}
	if n, err := d.RemoveLeftovers(t.Context(), "", nil); err != nil || n != 1 {
		t.Fatalf("RemoveLeftovers = %d, %v; want 1, nil", n, err)
	}
	if m := markers(t, root); len(m) != 1 || m[0] != foreign {
		t.Fatalf("markers after RemoveLeftovers: %q; want the other host's only", m)
	}
}

// TestMarkerStaysWhenLeftoversStay: a temp file that cannot be removed (its
// folder is read-only) keeps the marker, so the next run tries again.
func TestMarkerStaysWhenLeftoversStay(t *testing.T) {
	if os.Geteuid() == 0 {
		runAsNobody(t, "TestMarkerStaysWhenLeftoversStay")
		return
	}
	root := t.TempDir()
	killed := newDriver(t, root)
	if err := killed.BeginWrites(); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(root, filepath.FromSlash(staleTemp))
	writeFile(t, tmp, "x")
	if err := os.Chmod(filepath.Dir(tmp), 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Dir(tmp), 0o755) })
	if _, err := newDriver(t, root).RemoveLeftovers(t.Context(), "", nil); err == nil {
		t.Fatal("RemoveLeftovers of an unremovable temp file: no error")
	}
	if m := markers(t, root); len(m) != 1 {
		t.Fatalf("markers after a failed cleanup: %q; want the killed run's", m)
	}
}

// TestBeginWritesOnReadOnlyRoot: no marker can be written; BeginWrites says
// so and leaves nothing, and RemoveLeftovers still works.
func TestBeginWritesOnReadOnlyRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		runAsNobody(t, "TestBeginWritesOnReadOnlyRoot")
		return
	}
	root := t.TempDir()
	d, err := filesystem.New(root, filesystem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(root, 0o755) })
	if err := d.BeginWrites(); err == nil || !strings.Contains(err.Error(), root) {
		t.Fatalf("BeginWrites on a read-only root = %v; want an error naming it", err)
	}
	if m := markers(t, root); len(m) != 0 {
		t.Fatalf("markers: %q", m)
	}
	if err := d.EndWrites(); err != nil {
		t.Fatalf("EndWrites after a failed BeginWrites: %v", err)
	}
	if n, err := d.RemoveLeftovers(t.Context(), "", nil); err != nil || n != 0 {
		t.Fatalf("RemoveLeftovers = %d, %v", n, err)
	}
}
