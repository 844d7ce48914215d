package snapshot

import (
	"fmt"
	"testing"
)

// BlobSizes answers as the map it replaced did, while the snapshot is
// taken and once the interner is frozen (sealed: by digest), empty blobs
// and deleted ones included; strings that are no digest (a tag beside
// them in the interner) are no blob.
func TestBlobSizes(t *testing.T) {
	in := newInterner()
	bs := newBlobSizes(in)
	want := map[string]int64{}
	dg := func(i int) string { return fmt.Sprintf("sha256:%064x", i) }
	for i := 5000; i >= 0; i-- {
		in.put(fmt.Sprintf("tag-%d", i)) // handles that are no blob
		bs.set(dg(i), int64(i%3))        // 0: an empty blob is a blob
		want[dg(i)] = int64(i % 3)
	}
	bs.set(dg(7), 77) // again: replaced, counted once
	want[dg(7)] = 77
	for _, i := range []int{0, 2500, 4999} {
		bs.delete(dg(i))
		delete(want, dg(i))
	}
	bs.delete(dg(99999)) // never held
	check := func(when string) {
		t.Helper()
		if bs.Len() != len(want) {
			t.Errorf("%s: Len = %d, want %d", when, bs.Len(), len(want))
		}
		for i := range 5002 {
			size, ok := bs.Size(dg(i))
			if w, held := want[dg(i)]; ok != held || size != w {
				t.Errorf("%s: Size(%d) = %d, %v; want %d, %v", when, i, size, ok, w, held)
			}
		}
		if bs.Has("tag-1") {
			t.Errorf("%s: a tag is a blob", when)
		}
		n := 0
		for d, size := range bs.All() {
			if want[d] != size {
				t.Errorf("%s: All gives %s of %d bytes, want %d", when, d, size, want[d])
			}
			n++
		}
		if n != len(want) {
			t.Errorf("%s: All yields %d blobs, want %d", when, n, len(want))
		}
	}
	check("while taken")
	in.freeze()
	check("sealed")
	last := ""
	for d := range bs.All() {
		if d <= last {
			t.Fatalf("sealed All: %s after %s", d, last)
		}
		last = d
	}
	var none *BlobSizes
	if none.Len() != 0 || none.Has(dg(1)) {
		t.Errorf("a nil set holds something")
	}
}
