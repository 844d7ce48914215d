package drivertest

import (
	"errors"
	"slices"
	"testing"

	"github.com/regbackup/regbackup/drivers"
)

// testDeleteThenWalk deletes files one by one and checks Walk, Stat and a
// second Delete after each, then writes into the emptied folder again.
func testDeleteThenWalk(t *testing.T, newDriver Factory) {
	d := fresh(t, newDriver)
	all := []string{"a/b/1", "a/b/2", "a/c/3", "d"}
	for _, p := range all {
		put(t, d, p, []byte(p))
	}
	for i, p := range all {
		if err := d.Delete(t.Context(), p); err != nil {
			t.Fatalf("%s: Delete(%q): %v", d, p, err)
		}
		checkGone(t, d, p)
		if err := d.Delete(t.Context(), p); !errors.Is(err, drivers.ErrNotFound) {
			t.Fatalf("%s: second Delete(%q) = %v, want an error wrapping ErrNotFound", d, p, err)
		}
		if got := walkPaths(t, d, ""); !slices.Equal(got, all[i+1:]) {
			t.Fatalf("%s: Walk(\"\") after deleting %q = %q, want %q", d, p, got, all[i+1:])
		}
	}
	put(t, d, "a/b/1", []byte("again"))
	checkContent(t, d, "a/b/1", []byte("again"))
}

// testTeardown deletes everything Walk finds; afterwards Walk("") is empty.
func testTeardown(t *testing.T, newDriver Factory) {
	d := fresh(t, newDriver)
	for p, data := range walkLayout() {
		put(t, d, p, data)
	}
	for _, p := range walkPaths(t, d, "") {
		if err := d.Delete(t.Context(), p); err != nil {
			t.Fatalf("%s: Delete(%q): %v", d, p, err)
		}
	}
	checkEmpty(t, d)
}
