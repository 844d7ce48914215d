package drivertest

import (
	"testing"

	"github.com/regbackup/regbackup/drivers"
)

// RunMD5 checks, for a backend that says it reports content MD5s, that
// Stat and Walk report the MD5 of every small file Put wrote in one
// request (link files: what lets a copy compare a tag's link at the target
// without reading it), including after the file was replaced. Run already
// checks that an MD5, when reported, is the content's.
func RunMD5(t *testing.T, newDriver Factory) {
	t.Helper()
	d := fresh(t, newDriver)
	const tag = repos + "a/_manifests/tags/latest/current/link"
	files := map[string][]byte{
		repos + "a/_layers/sha256/00aa/link": link(1),
		tag:                                  link(2),
		"docker/registry/v2/empty":           {},
	}
	for p, data := range files {
		put(t, d, p, data)
	}
	files[tag] = link(3) // a tag moved
	put(t, d, tag, files[tag])
	for p, data := range files {
		fi, err := d.Stat(t.Context(), p)
		if err != nil {
			t.Fatalf("%s: Stat(%q): %v", d, p, err)
		}
		wantMD5(t, d, "Stat", fi, data)
	}
	got := walkAll(t, d, "")
	if len(got) != len(files) {
		t.Fatalf("%s: Walk(\"\") = %+v, want %d files", d, got, len(files))
	}
	for _, fi := range got {
		wantMD5(t, d, "Walk", fi, files[fi.Path])
	}
}

func wantMD5(t *testing.T, d drivers.Driver, op string, fi drivers.FileInfo, data []byte) {
	t.Helper()
	if want := drivers.MD5Of(data); fi.MD5 != want {
		t.Errorf("%s: %s reports %q with MD5 %q, want %q", d, op, fi.Path, fi.MD5, want)
	}
}
