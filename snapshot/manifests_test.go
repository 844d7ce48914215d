package snapshot

import (
	"fmt"
	"reflect"
	"testing"
	"unsafe"

	"github.com/regbackup/regbackup/archive"
)

// A ManifestSet answers as the map it replaced did, while the snapshot is
// taken (a map of handles) and once sealed and its interner frozen
// (binary search): the same manifests, by digest, deleted ones gone.
func TestManifestSet(t *testing.T) {
	in := newInterner()
	ms := newManifestSet(in)
	want := map[string]*archive.Manifest{}
	dg := func(i int) string { return fmt.Sprintf("sha256:%064x", i) }
	for i := 999; i >= 0; i-- { // not in digest order
		m := &archive.Manifest{Digest: dg(i), MediaType: mtOCIManifest, Size: int64(100 + i),
			References: []string{dg(10000 + i), dg(20000 + i%7)}}
		if i%10 == 0 {
			m.MediaType, m.References = mtOCIIndex, []string{dg(i + 1)}
		}
		if i%100 == 5 {
			m.References = nil
		}
		ms.put(m)
		want[m.Digest] = m
	}
	replaced := &archive.Manifest{Digest: dg(7), MediaType: mtDockerManifest, Size: 7, References: []string{dg(3)}}
	ms.put(replaced)
	want[dg(7)] = replaced
	for _, i := range []int{3, 500, 999} {
		ms.delete(dg(i))
		delete(want, dg(i))
	}
	check := func(when string) {
		t.Helper()
		if ms.Len() != len(want) {
			t.Errorf("%s: Len = %d, want %d", when, ms.Len(), len(want))
		}
		for i := range 1001 {
			w := want[dg(i)]
			if got := ms.Get(dg(i)); !reflect.DeepEqual(got, w) {
				t.Errorf("%s: Get(%d) = %+v, want %+v", when, i, got, w)
			}
			if ms.Has(dg(i)) != (w != nil) {
				t.Errorf("%s: Has(%d) = %v", when, i, !(w != nil))
			}
		}
	}
	check("while taken")
	ms.seal()
	in.freeze()
	check("sealed")
	var last string
	n := 0
	for m := range ms.All() {
		if m.Digest <= last {
			t.Fatalf("All: %s after %s", m.Digest, last)
		}
		last = m.Digest
		n++
	}
	if n != len(want) || len(ms.Slice()) != len(want) {
		t.Errorf("All yields %d, Slice %d, want %d", n, len(ms.Slice()), len(want))
	}
	var none *ManifestSet
	if none.Len() != 0 || none.Get(dg(1)) != nil || none.Slice() != nil {
		t.Errorf("a nil set holds something")
	}
}

// TestManifestRecordIsSmall: a million tags are a million manifests.
func TestManifestRecordIsSmall(t *testing.T) {
	if n := unsafe.Sizeof(manifestRec{}); n > 24 {
		t.Errorf("a manifest record is %d bytes, over 24", n)
	}
}
