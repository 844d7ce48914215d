package filesystem

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/drivers"
)

// bigTree writes a tree of more than walkSplit folders at several depths,
// with files beside folders whose names sort around "/" ("x-", "x.",
// "x0"), and returns its root and every file's slash path in walk order.
func bigTree(t *testing.T) (root string, want []string) {
	t.Helper()
	root = t.TempDir()
	var files []string
	for r := range 40 {
		repo := fmt.Sprintf("ns%d/repo%02d", r%3, r)
		files = append(files, repo+"-readme", repo+".x", repo+"0")
		for tag := range 12 {
			files = append(files,
				fmt.Sprintf("%s/_manifests/tags/t%d/current/link", repo, tag),
				fmt.Sprintf("%s/_manifests/tags/t%d/index/sha256/%04x/link", repo, tag, tag*7),
				fmt.Sprintf("%s/_manifests/tags/t%d.x", repo, tag))
		}
		files = append(files, repo+"/_layers/sha256/aa/link")
	}
	files = append(files, "top", "ns1-x")
	for i, p := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, make([]byte, i%5), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(files) // lexical order of full paths is the walk order
	return root, files
}

func collect(t *testing.T, walk func(drivers.WalkFunc) error) ([]string, map[string]int64) {
	t.Helper()
	var paths []string
	sizes := map[string]int64{}
	if err := walk(func(fi drivers.FileInfo) error {
		paths = append(paths, fi.Path)
		sizes[fi.Path] = fi.Size
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return paths, sizes
}

func TestParallelWalkMatchesSerial(t *testing.T) {
	root, want := bigTree(t)
	d, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"", "ns1", "ns1/repo04/_manifests"} {
		full := d.full(prefix)
		serial, serialSizes := collect(t, func(fn drivers.WalkFunc) error { return walkSerial(t.Context(), prefix, full, fn) })
		got, sizes := collect(t, func(fn drivers.WalkFunc) error { return d.Walk(t.Context(), prefix, fn) })
		if prefix == "" && !slices.Equal(serial, want) {
			t.Fatalf("serial walk:\n got  %q\n want %q", serial, want)
		}
		if !slices.Equal(got, serial) {
			t.Fatalf("Walk(%q) differs from a serial walk:\n got  %q\n want %q", prefix, got, serial)
		}
		for p, s := range serialSizes {
			if sizes[p] != s {
				t.Fatalf("Walk(%q) reports %s with size %d, want %d", prefix, p, sizes[p], s)
			}
		}
	}
}

func TestParallelWalkStopsAtFnError(t *testing.T) {
	root, want := bigTree(t)
	d, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop here")
	for _, n := range []int{1, 7, len(want) / 2, len(want) - 1} {
		var got []string
		err := d.Walk(t.Context(), "", func(fi drivers.FileInfo) error {
			got = append(got, fi.Path)
			if len(got) == n {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || !slices.Equal(got, want[:n]) {
			t.Fatalf("Walk stopped at call %d = %v after %q, want %v after %q", n, err, got, stop, want[:n])
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	err = d.Walk(ctx, "", func(drivers.FileInfo) error {
		if calls++; calls == 100 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls != 100 {
		t.Fatalf("Walk cancelled at call 100 = %v after %d calls, want context.Canceled after 100", err, calls)
	}
}

// TestParallelWalkFolderErrorComesInOrder checks that a folder that could
// not be read fails the walk after the files before it, as a serial walk
// would, and that no file after it is given.
func TestParallelWalkFolderErrorComesInOrder(t *testing.T) {
	root, _ := bigTree(t)
	bad := errors.New("unreadable")
	entries := []walkEntry{
		{file: drivers.FileInfo{Path: "a"}},
		{dir: &subtree{rel: "ns0", full: filepath.Join(root, "ns0")}},
		{dir: &subtree{rel: "ns1", full: filepath.Join(root, "ns1"), err: bad}},
		{file: drivers.FileInfo{Path: "z"}},
	}
	var got []string
	err := walkSubtrees(t.Context(), root, entries, func(fi drivers.FileInfo) error {
		got = append(got, fi.Path)
		return nil
	})
	if !errors.Is(err, bad) {
		t.Fatalf("walk = %v, want %v", err, bad)
	}
	if len(got) < 2 || got[0] != "a" {
		t.Fatalf("walk gave %d files starting %q: want a, then ns0's files", len(got), got[:min(len(got), 2)])
	}
	for _, p := range got[1:] {
		if !strings.HasPrefix(p, "ns0/") {
			t.Fatalf("walk gave %q after a: want only ns0's files, nothing after the failed folder", p)
		}
	}
}
