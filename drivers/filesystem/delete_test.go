package filesystem_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/regbackup/regbackup/drivers"
)

func TestDeleteKeepsRootRemovesEmptyParents(t *testing.T) {
	root := filepath.Join(t.TempDir(), "root")
	d := newDriver(t, root)
	putString(t, d, "a/b/c/f1", "1")
	putString(t, d, "a/b/f2", "2")
	putString(t, d, "top", "3")

	if err := d.Delete(t.Context(), "a/b/c/f1"); err != nil {
		t.Fatal(err)
	}
	checkTree(t, root, "a/", "a/b/", "a/b/f2", "top") // c went, b is not empty
	if err := d.Delete(t.Context(), "a/b/f2"); err != nil {
		t.Fatal(err)
	}
	checkTree(t, root, "top")
	if err := d.Delete(t.Context(), "top"); err != nil {
		t.Fatal(err)
	}
	checkTree(t, root)
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		t.Fatalf("root after deleting its last file: %v, %v", fi, err)
	}
}

func TestDeleteLeavesFoldersAndSymlinks(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	writeFile(t, filepath.Join(root, "a", "f"), "x")
	writeFile(t, filepath.Join(dir, "target"), "t")
	if err := os.Symlink(filepath.Join(dir, "target"), filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	d := newDriver(t, root)
	for _, p := range []string{"a", "link", "a/f/g"} {
		if err := d.Delete(t.Context(), p); !errors.Is(err, drivers.ErrNotFound) {
			t.Errorf("Delete(%q) = %v, want ErrNotFound", p, err)
		}
	}
	checkTree(t, root, "a/", "a/f", "link")
	if got := readFile(t, filepath.Join(dir, "target")); got != "t" {
		t.Fatalf("symlink target changed: %q", got)
	}
}
