package filesystem_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/regbackup/regbackup/drivers"
)

func TestWalkSkipsTempFilesAndSymlinks(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	for _, p := range []string{
		"a/data",
		"a/link.1234abcd-12ab-34cd-56ef-1234567890ab.tmp", // registry temp file
		"a/.data.regbackup-0123456789abcdef.tmp",          // ours
		"a/notes.tmp",                                     // an ordinary file
		"a/x.not-a-uuid.tmp",                              // an ordinary file
	} {
		writeFile(t, filepath.Join(root, p), "x")
	}
	writeFile(t, filepath.Join(dir, "outside", "secret"), "s")
	for link, target := range map[string]string{"a/filelink": "outside/secret", "dirlink": "outside"} {
		if err := os.Symlink(filepath.Join(dir, target), filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	d := newDriver(t, root)
	want := []string{"a/data", "a/notes.tmp", "a/x.not-a-uuid.tmp"}
	for _, prefix := range []string{"", "a"} {
		if got := walkPaths(t, d, prefix); !slices.Equal(got, want) {
			t.Errorf("Walk(%q) = %q, want %q", prefix, got, want)
		}
	}
	if got := walkPaths(t, d, "dirlink"); len(got) != 0 {
		t.Errorf("Walk(\"dirlink\") followed the symlink: %q", got)
	}
	if _, err := d.Stat(t.Context(), "a/filelink"); !errors.Is(err, drivers.ErrNotFound) {
		t.Errorf("Stat of a symlink = %v, want ErrNotFound", err)
	}
	if rc, err := d.Reader(t.Context(), "a/filelink"); !errors.Is(err, drivers.ErrNotFound) {
		if err == nil {
			rc.Close()
		}
		t.Errorf("Reader of a symlink = %v, want ErrNotFound", err)
	}
}

func TestWalkOrderIsLexicalByFullPath(t *testing.T) {
	root := t.TempDir()
	d := newDriver(t, root)
	want := []string{"a-b", "a.b", "a/x", "a0", "b/c-d/e", "b/c.d/e", "b/c/e"}
	for _, p := range []string{"b/c/e", "a/x", "b/c.d/e", "a0", "a.b", "b/c-d/e", "a-b"} {
		putString(t, d, p, p)
	}
	if got := walkPaths(t, d, ""); !slices.Equal(got, want) {
		t.Fatalf("Walk(\"\") = %q, want %q", got, want)
	}
}

func TestWalkOfAFileReportsIt(t *testing.T) {
	d := newDriver(t, t.TempDir())
	putString(t, d, "a/b", "x")
	putString(t, d, "a/bc", "y")
	if got := walkPaths(t, d, "a/b"); !slices.Equal(got, []string{"a/b"}) {
		t.Fatalf("Walk(\"a/b\") = %q, want [a/b]", got)
	}
	if got := walkPaths(t, d, "a/b/c"); len(got) != 0 {
		t.Fatalf("Walk below a file = %q, want nothing", got)
	}
}
