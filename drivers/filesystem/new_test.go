package filesystem_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/filesystem"
)

func TestNewCreatesMissingRootOnly(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "x", "root")
	d := newDriver(t, root)
	if !d.Created() {
		t.Error("Created() = false for a root New made")
	}
	if d := newDriver(t, root); d.Created() {
		t.Error("Created() = true for an existing root")
	}
	file := filepath.Join(dir, "file")
	writeFile(t, file, "x")
	if _, err := filesystem.New(file, filesystem.Options{Create: true}); err == nil {
		t.Error("New on a regular file succeeded")
	}
	if got := readFile(t, file); got != "x" {
		t.Errorf("New changed the file at root: %q", got)
	}
	if _, err := filesystem.New(filepath.Join(file, "sub"), filesystem.Options{Create: true}); err == nil {
		t.Error("New below a regular file succeeded")
	}
}

func TestNewMakesRootAbsolute(t *testing.T) {
	t.Chdir(t.TempDir())
	d := newDriver(t, "rel")
	if !filepath.IsAbs(d.Root()) || filepath.Base(d.Root()) != "rel" {
		t.Fatalf("Root() = %q", d.Root())
	}
	if !strings.HasPrefix(d.String(), "file:///") {
		t.Fatalf("String() = %q", d.String())
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for loc, want := range map[string]string{
		"file://" + filepath.ToSlash(dir) + "/u": filepath.Join(dir, "u"),
		filepath.Join(dir, "plain"):              filepath.Join(dir, "plain"),
		"relative":                               filepath.Join(dir, "relative"),
	} {
		if _, err := drivers.Open(t.Context(), loc); err == nil {
			t.Fatalf("Open(%q) of a missing folder succeeded; a mistyped source must be an error", loc)
		}
		if err := os.MkdirAll(want, 0o755); err != nil {
			t.Fatal(err)
		}
		d, err := drivers.Open(t.Context(), loc)
		if err != nil {
			t.Fatalf("Open(%q): %v", loc, err)
		}
		fd, ok := d.(*filesystem.Driver)
		if !ok || fd.Root() != want {
			t.Fatalf("Open(%q) = %v, want a filesystem driver at %s", loc, d, want)
		}
	}
	for _, loc := range []string{"file://host/x", "file:///x?owner=1", "file://"} {
		if _, err := drivers.Open(t.Context(), loc); err == nil {
			t.Errorf("Open(%q) succeeded, want an error", loc)
		}
	}
}

func TestNotFoundErrors(t *testing.T) {
	root := t.TempDir()
	d := newDriver(t, root)
	putString(t, d, "a/file", "x")
	for _, p := range []string{"missing", "a", "a/file/below", "a/missing/deeper"} {
		_, err := d.Stat(t.Context(), p)
		if !errors.Is(err, drivers.ErrNotFound) {
			t.Errorf("Stat(%q) = %v, want ErrNotFound", p, err)
			continue
		}
		full := filepath.Join(root, filepath.FromSlash(p))
		if msg := err.Error(); !strings.Contains(msg, "filesystem") || !strings.Contains(msg, full) {
			t.Errorf("Stat(%q) error %q should name the driver and %s", p, msg, full)
		}
	}
}

func TestReaderRefusesFIFO(t *testing.T) {
	root := t.TempDir()
	if err := mkfifo(filepath.Join(root, "fifo")); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	d := newDriver(t, root)
	if rc, err := d.Reader(t.Context(), "fifo"); !errors.Is(err, drivers.ErrNotFound) {
		if err == nil {
			rc.Close()
		}
		t.Fatalf("Reader of a FIFO = %v, want ErrNotFound (and no hang)", err)
	}
	if got := walkPaths(t, d, ""); len(got) != 0 {
		t.Fatalf("Walk reported a FIFO: %q", got)
	}
	_ = os.Remove(filepath.Join(root, "fifo"))
}
