package drivertest

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"

	"github.com/regbackup/regbackup/drivers"
)

// testConcurrent has 8 goroutines Put and read back 32 files sharing parent
// folders, then all read all of them at once.
func testConcurrent(t *testing.T, newDriver Factory) {
	d := fresh(t, newDriver)
	const files, workers = 32, 8
	paths := make([]string, files)
	data := make([][]byte, files)
	for i := range files {
		paths[i] = fmt.Sprintf("%sr%d/_layers/sha256/%064x/link", repos, i%5, i)
		data[i] = randomBytes(uint64(100+i), (i*40961)%300000)
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < files; i += workers {
				if err := d.Put(t.Context(), paths[i], bytes.NewReader(data[i]), int64(len(data[i]))); err != nil {
					t.Errorf("%s: concurrent Put(%q): %v", d, paths[i], err)
					continue
				}
				readBack(t, d, paths[i], data[i])
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for w := range workers {
		wg.Go(func() {
			for i := range files {
				j := (i + w*files/workers) % files
				readBack(t, d, paths[j], data[j])
			}
		})
	}
	wg.Wait()
	want := slices.Clone(paths)
	slices.Sort(want)
	if got := walkPaths(t, d, ""); !slices.Equal(got, want) {
		t.Fatalf("%s: Walk(\"\") after concurrent Puts:\n got  %q\n want %q", d, got, want)
	}
}

// testConcurrentSamePath has 8 goroutines Put different content at one
// path; what remains is one of them, whole.
func testConcurrentSamePath(t *testing.T, newDriver Factory) {
	d := fresh(t, newDriver)
	const workers = 8
	candidates := make([][]byte, workers)
	for w := range workers {
		candidates[w] = randomBytes(uint64(200+w), 100000+w*50000)
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			if err := d.Put(t.Context(), victim, bytes.NewReader(candidates[w]), int64(len(candidates[w]))); err != nil {
				t.Errorf("%s: concurrent Put #%d of %q: %v", d, w, victim, err)
			}
		})
	}
	wg.Wait()
	got := get(t, d, victim)
	if !slices.ContainsFunc(candidates, func(c []byte) bool { return bytes.Equal(c, got) }) {
		t.Fatalf("%s: after concurrent Puts, %q holds %d bytes matching none of the 8 contents written", d, victim, len(got))
	}
	if paths := walkPaths(t, d, ""); len(paths) != 1 {
		t.Fatalf("%s: after concurrent Puts to one path, Walk(\"\") = %q", d, paths)
	}
}

// readBack is get for goroutines: it reports with t.Errorf.
func readBack(t *testing.T, d drivers.Driver, p string, want []byte) {
	rc, err := d.Reader(t.Context(), p)
	if err != nil {
		t.Errorf("%s: concurrent Reader(%q): %v", d, p, err)
		return
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Errorf("%s: concurrent read of %q: %v", d, p, err)
		return
	}
	if diff := compare(want, got); diff != "" {
		t.Errorf("%s: concurrent read of %q: %s", d, p, diff)
	}
}
