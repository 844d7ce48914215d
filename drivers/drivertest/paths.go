package drivertest

import (
	"bytes"
	"testing"

	"github.com/regbackup/regbackup/drivers"
)

// badPaths are not canonical slash-separated relative file paths.
var badPaths = []string{
	"", "/", "/abs", "/docker/registry/v2/x", "..", "../x", "a/../../b", "a/..",
	".", "./a", "a/./b", "a//b", "a/", "a\x00b",
}

// testBadPaths checks that every method rejects bad paths, and Put writes
// nothing.
func testBadPaths(t *testing.T, newDriver Factory) {
	d := fresh(t, newDriver)
	ctx := t.Context()
	for _, p := range badPaths {
		if err := d.Put(ctx, p, bytes.NewReader([]byte("x")), 1); err == nil {
			t.Errorf("%s: Put(%q) succeeded, want an error", d, p)
		}
		if _, err := d.Stat(ctx, p); err == nil {
			t.Errorf("%s: Stat(%q) succeeded, want an error", d, p)
		}
		if rc, err := d.Reader(ctx, p); err == nil {
			rc.Close()
			t.Errorf("%s: Reader(%q) succeeded, want an error", d, p)
		}
		if err := d.Delete(ctx, p); err == nil {
			t.Errorf("%s: Delete(%q) succeeded, want an error", d, p)
		}
	}
	for _, prefix := range []string{"/", "/abs", "../x", "a/../../b", "a//", "a\x00b"} {
		if err := d.Walk(ctx, prefix, func(drivers.FileInfo) error { return nil }); err == nil {
			t.Errorf("%s: Walk(%q) succeeded, want an error", d, prefix)
		}
	}
	checkEmpty(t, d)
}
