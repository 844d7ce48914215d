package drivertest

import (
	"errors"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/drivers"
)

// testNotFound checks that Stat, Reader and Delete of a missing file, and of
// a path that is only a folder, wrap ErrNotFound and name driver and path.
func testNotFound(t *testing.T, newDriver Factory) {
	d := fresh(t, newDriver)
	const (
		folder = "docker/registry/v2/repositories/a"
		file   = folder + "/_layers/sha256/0123/link"
	)
	missing := []string{"nope", "docker/registry/v2/nope/data", folder, folder + "/_layers"}
	check := func(op, p string, err error) {
		t.Helper()
		if !errors.Is(err, drivers.ErrNotFound) {
			t.Errorf("%s: %s(%q) error = %v, want one wrapping ErrNotFound", d, op, p, err)
			return
		}
		if msg := err.Error(); !strings.Contains(msg, d.Name()) || !strings.Contains(msg, p) {
			t.Errorf("%s: %s(%q) error %q should name the driver %q and the path", d, op, p, msg, d.Name())
		}
	}
	run := func() {
		t.Helper()
		for _, p := range missing {
			_, err := d.Stat(t.Context(), p)
			check("Stat", p, err)
			rc, err := d.Reader(t.Context(), p)
			if err == nil {
				rc.Close()
			}
			check("Reader", p, err)
			check("Delete", p, d.Delete(t.Context(), p))
		}
	}
	run() // empty driver
	put(t, d, file, link(1))
	run() // folders now exist on backends that have them
	checkContent(t, d, file, link(1))
}
