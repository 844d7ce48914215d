package filesystem_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// failAfter yields n bytes, then err.
type failAfter struct {
	n   int
	err error
}

func (r *failAfter) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, r.err
	}
	m := min(len(p), r.n)
	clear(p[:m])
	r.n -= m
	return m, nil
}

func TestFailedPutLeavesNoTempFile(t *testing.T) {
	root := t.TempDir()
	d := newDriver(t, root)
	putString(t, d, "keep/old", "old content")
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		ctx  context.Context
		r    io.Reader
		size int64
	}{
		{"short", t.Context(), &failAfter{n: 50, err: io.EOF}, 100},
		{"long", t.Context(), &failAfter{n: 3 << 20, err: io.EOF}, 100},
		{"failing", t.Context(), &failAfter{n: 3 << 20, err: boom}, -1},
		{"cancelled", cancelled, &failAfter{n: 10, err: io.EOF}, 10},
	} {
		for _, p := range []string{"keep/old", "keep/new", "fresh/sub/new"} {
			if err := d.Put(tc.ctx, p, tc.r, tc.size); err == nil {
				t.Fatalf("%s Put(%q) succeeded", tc.name, p)
			}
			noTempFiles(t, root)
		}
	}
	// Folders created by the failed Puts are gone again; the old file stays.
	checkTree(t, root, "keep/", "keep/old")
	if got := readFile(t, filepath.Join(root, "keep/old")); got != "old content" {
		t.Fatalf("keep/old = %q after failed Puts", got)
	}
}

func TestPutOverFolderFails(t *testing.T) {
	root := t.TempDir()
	d := newDriver(t, root)
	putString(t, d, "a/b/c", "x")
	if err := d.Put(t.Context(), "a/b", strings.NewReader("y"), 1); err == nil {
		t.Fatal("Put over a folder succeeded")
	}
	if err := d.Put(t.Context(), "a/b/c/d", strings.NewReader("y"), 1); err == nil {
		t.Fatal("Put below a file succeeded")
	}
	checkTree(t, root, "a/", "a/b/", "a/b/c")
}

func TestPutReplacesSymlinkWithoutFollowing(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	target := filepath.Join(dir, "target")
	writeFile(t, target, "keep")
	writeFile(t, filepath.Join(root, "a", "placeholder"), "")
	if err := os.Symlink(target, filepath.Join(root, "a", "link")); err != nil {
		t.Fatal(err)
	}
	d := newDriver(t, root)
	putString(t, d, "a/link", "new")
	if got := readFile(t, target); got != "keep" {
		t.Fatalf("symlink target was written through: %q", got)
	}
	fi, err := os.Lstat(filepath.Join(root, "a", "link"))
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("a/link after Put: %v, %v; want a regular file", fi, err)
	}
	if got := readFile(t, filepath.Join(root, "a", "link")); got != "new" {
		t.Fatalf("a/link = %q, want %q", got, "new")
	}
}

func TestPutModes(t *testing.T) {
	root := t.TempDir()
	d := newDriver(t, root)
	putString(t, d, "a/b/f", "x")
	for p, want := range map[string]os.FileMode{"a": 0o755 | os.ModeDir, "a/b": 0o755 | os.ModeDir, "a/b/f": 0o644} {
		fi, err := os.Stat(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("mode of %s = %v, want %v", p, fi.Mode(), want)
		}
	}
}

func TestBadPathsNeverTouchDisk(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	d := newDriver(t, root)
	for _, p := range []string{"../escape", "a/../../escape", "/abs", "a//b", "a\x00b", ""} {
		if err := d.Put(t.Context(), p, strings.NewReader("x"), 1); err == nil {
			t.Fatalf("Put(%q) succeeded", p)
		} else if !strings.Contains(err.Error(), "filesystem") {
			t.Errorf("Put(%q) error %q does not name the driver", p, err)
		}
	}
	checkTree(t, dir, "root/")
}

// blockingReader gives one byte, then blocks until release is closed.
type blockingReader struct {
	sent    bool
	release chan struct{}
}

func (r *blockingReader) Read(p []byte) (int, error) {
	if !r.sent {
		r.sent = true
		p[0] = 'x'
		return 1, nil
	}
	<-r.release
	return 0, io.EOF
}

func TestCleanupRemovesInFlightTempFiles(t *testing.T) {
	root := t.TempDir()
	d := newDriver(t, root)
	r := &blockingReader{release: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- d.Put(t.Context(), "a/f", r, -1) }()

	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(strings.Join(tree(t, root), " "), ".regbackup-") {
		if time.Now().After(deadline) {
			t.Fatalf("no temp file appeared; tree %q", tree(t, root))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := d.Cleanup(); err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	noTempFiles(t, root)
	close(r.release)
	if err := <-done; err == nil {
		t.Fatal("Put interrupted by Cleanup succeeded")
	}
	checkTree(t, root)
	if err := d.Put(t.Context(), "b", bytes.NewReader(nil), 0); err == nil {
		t.Fatal("Put after Cleanup succeeded")
	}
	checkTree(t, root)
}
