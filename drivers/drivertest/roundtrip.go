package drivertest

import (
	"fmt"
	"testing"
)

// testRoundTrip stores and reads back files from empty to above any
// multipart threshold.
func testRoundTrip(t *testing.T, newDriver Factory) {
	for _, size := range []int{0, 1, 1 << 20, 17 << 20} {
		t.Run(fmt.Sprintf("%dB", size), func(t *testing.T) {
			d := fresh(t, newDriver)
			data := randomBytes(uint64(size), size)
			p := blobPath(data)
			put(t, d, p, data)
			checkContent(t, d, p, data)
			got := walkAll(t, d, "")
			if len(got) != 1 || got[0].Path != p || got[0].Size != int64(size) {
				t.Fatalf("%s: Walk(\"\") = %+v, want exactly %q with size %d", d, got, p, size)
			}
			checkMD5(t, d, "Walk", got[0], data)
		})
	}
}

// testUnknownSize stores with size -1.
func testUnknownSize(t *testing.T, newDriver Factory) {
	d := fresh(t, newDriver)
	for _, size := range []int{0, 3<<20 + 7} {
		data := randomBytes(2, size)
		p := fmt.Sprintf("unknown/%d", size)
		if err := d.Put(t.Context(), p, &chunkReader{data: data}, -1); err != nil {
			t.Fatalf("%s: Put(%q, %d bytes, size -1): %v", d, p, size, err)
		}
		checkContent(t, d, p, data)
	}
}

// testPutReplaces overwrites a file with shorter, then longer content.
func testPutReplaces(t *testing.T, newDriver Factory) {
	d := fresh(t, newDriver)
	const p = "docker/registry/v2/repositories/a/_manifests/tags/latest/current/link"
	for i, data := range [][]byte{randomBytes(1, 5000), link(1), randomBytes(3, 70000)} {
		put(t, d, p, data)
		checkContent(t, d, p, data)
		got := walkAll(t, d, "")
		if len(got) != 1 || got[0].Path != p {
			t.Fatalf("%s: after Put #%d Walk(\"\") = %+v, want only %q", d, i+1, got, p)
		}
		checkMD5(t, d, "Walk", got[0], data)
	}
	put(t, d, p, nil)
	checkContent(t, d, p, nil)
}
