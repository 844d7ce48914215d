package filesystem_test

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWalkLeftovers: the temp files a killed run's Puts left (made here by
// hand, with the names Put uses) are removed wherever they are below the
// prefix; the registry's temp files, look-alikes, files keep accepts, and
// the temp file of a Put still in flight on this Driver stay.
func TestWalkLeftovers(t *testing.T) {
	root := t.TempDir()
	d := newDriver(t, root)
	stale := []string{
		"docker/registry/v2/blobs/sha256/ab/abcd/.data.regbackup-0123456789abcdef.tmp",
		"docker/registry/v2/repositories/r/_manifests/tags/t/current/.link.regbackup-fedcba9876543210.tmp",
		".top.regbackup-00000000000000ff.tmp",
	}
	kept := []string{
		"docker/registry/v2/blobs/sha256/ab/abcd/data",
		"docker/registry/v2/repositories/r/_uploads/u/.data.regbackup-0123456789abcdef.tmp",     // keep says so
		"docker/registry/v2/blobs/sha256/ab/abcd/data.3f2504e0-4f89-11d3-9a0c-0305e82c3301.tmp", // the registry's
		".x.regbackup-0123.tmp",              // too short
		"x.regbackup-0123456789abcdef.tmp",   // no leading dot
		".x.regbackup-0123456789ABCDEF.tmp",  // upper-case hex: not ours
		".x.regbackup-0123456789abcdef.tmpx", // not the suffix
	}
	for _, p := range append(append([]string(nil), stale...), kept...) {
		writeFile(t, filepath.Join(root, filepath.FromSlash(p)), "x")
	}

	// A Put in flight: blocked reading a pipe until the removal is done.
	pr, pw := io.Pipe()
	putDone := make(chan error, 1)
	go func() { putDone <- d.Put(context.Background(), "live/file", pr, 2) }()
	if _, err := pw.Write([]byte("a")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return strings.Contains(strings.Join(tree(t, root), " "), "live/.file.regbackup-") })

	n, err := d.WalkLeftovers(t.Context(), "", func(p string) bool { return strings.Contains(p, "/_uploads/") })
	if err != nil || n != len(stale) {
		t.Errorf("WalkLeftovers = %d, %v; want %d, nil", n, err, len(stale))
	}
	pw.Write([]byte("b"))
	pw.Close()
	if err := <-putDone; err != nil {
		t.Fatalf("the Put in flight failed after WalkLeftovers: %v", err)
	}
	want := []string{"live/", "live/file"}
	for _, p := range kept {
		for dir := filepath.ToSlash(filepath.Dir(p)); dir != "."; dir = filepath.ToSlash(filepath.Dir(dir)) {
			want = append(want, dir+"/")
		}
		want = append(want, p)
	}
	// The stale files' own folders stay (only the files go).
	want = append(want, "docker/registry/v2/repositories/r/_manifests/", "docker/registry/v2/repositories/r/_manifests/tags/",
		"docker/registry/v2/repositories/r/_manifests/tags/t/", "docker/registry/v2/repositories/r/_manifests/tags/t/current/")
	checkTree(t, root, dedup(want)...)

	if n, err := d.WalkLeftovers(t.Context(), "docker", nil); err != nil || n != 1 {
		t.Errorf("WalkLeftovers(docker, no keep) = %d, %v; want the _uploads one, 1", n, err)
	}
}

func dedup(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("condition not met within 10 s")
		}
	}
}
