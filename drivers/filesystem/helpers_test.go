package filesystem_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/drivers"
)

// tree lists everything below root (not following symlinks), slash paths,
// folders with a trailing "/".
func tree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if e.IsDir() {
			rel += "/"
		}
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatalf("listing %s: %v", root, err)
	}
	return out
}

// checkTree asserts the exact content of root's tree.
func checkTree(t *testing.T, root string, want ...string) {
	t.Helper()
	got := tree(t, root)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("tree of %s:\n got  %q\n want %q", root, got, want)
	}
}

// noTempFiles asserts that no temp file of ours is left below root.
func noTempFiles(t *testing.T, root string) {
	t.Helper()
	for _, p := range tree(t, root) {
		if strings.Contains(p, ".regbackup-") {
			t.Fatalf("temp file left behind: %s (tree: %q)", p, tree(t, root))
		}
	}
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func putString(t *testing.T, d drivers.Driver, p, content string) {
	t.Helper()
	if err := d.Put(t.Context(), p, bytes.NewReader([]byte(content)), int64(len(content))); err != nil {
		t.Fatalf("Put(%q): %v", p, err)
	}
}

func walkPaths(t *testing.T, d drivers.Driver, prefix string) []string {
	t.Helper()
	var got []string
	err := d.Walk(t.Context(), prefix, func(fi drivers.FileInfo) error {
		got = append(got, fi.Path)
		return nil
	})
	if err != nil {
		t.Fatalf("Walk(%q): %v", prefix, err)
	}
	return got
}
