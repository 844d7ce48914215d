package restore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
	"unsafe"

	"github.com/regbackup/regbackup/archive"
)

func testDigest(i int) string {
	return fmt.Sprintf("sha256:%064x", i)
}

// An imageTable gives back each tag's repository, name and digest, a
// digest that is no sha256 digest too, sorted by repository name then
// tag, in 56 bytes a row.
func TestImageTable(t *testing.T) {
	if s := unsafe.Sizeof(imageRow{}); s != 56 {
		t.Errorf("an image row takes %d bytes, want 56", s)
	}
	repos := []RepositorySummary{{Name: "zeta"}, {Name: "alpha"}, {Name: "alpha"}}
	var tb imageTable
	adds := []struct {
		repo      int
		tag, dg   string
		wantOrder int
	}{
		{0, "v1", testDigest(1), 4},
		{0, "latest", "sha512:not-one-we-parse", 3},
		{1, "b", testDigest(2), 1},
		{2, "a", testDigest(3), 0}, // a later piece of alpha
		{1, "é", "", 2},
	}
	for _, a := range adds {
		if err := tb.add(a.repo, a.tag, a.dg); err != nil {
			t.Fatal(err)
		}
	}
	tb.sort(repos)
	if len(tb.rows) != len(adds) {
		t.Fatalf("%d rows, want %d", len(tb.rows), len(adds))
	}
	for _, a := range adds {
		r := &tb.rows[a.wantOrder]
		if got := repos[r.repo].Name + ":" + tb.name(r) + "@" + tb.digest(r); got != repos[a.repo].Name+":"+a.tag+"@"+a.dg {
			t.Errorf("row %d: %s, want %s:%s@%s", a.wantOrder, got, repos[a.repo].Name, a.tag, a.dg)
		}
		if _, ok := tb.sumOf(r); ok != (a.dg == testDigest(1) || a.dg == testDigest(2) || a.dg == testDigest(3)) {
			t.Errorf("%s: sumOf says sha256 = %v", a.dg, ok)
		}
	}
}

// listingFixture is a listing of a small hand-made catalog: an image, an
// index of two images sharing a layer, a tag naming no manifest, one
// naming no sha256 digest and a repository without tags.
func listingFixture(t *testing.T) *archive.Catalog {
	t.Helper()
	cat := &archive.Catalog{Source: "file:///reg", Manifests: []archive.Manifest{
		{Digest: testDigest(10), MediaType: "application/vnd.oci.image.manifest.v1+json", References: []string{testDigest(1), testDigest(2)}},
		{Digest: testDigest(11), MediaType: "application/vnd.oci.image.manifest.v1+json", References: []string{testDigest(1), testDigest(3)}},
		{Digest: testDigest(12), MediaType: "application/vnd.oci.image.index.v1+json", References: []string{testDigest(10), testDigest(11)}},
	}}
	for i, size := range map[int]int64{1: 100, 2: 20, 3: 30, 10: 5, 11: 6, 12: 7} {
		cat.Blobs = append(cat.Blobs, archive.Blob{Digest: testDigest(i), Size: size})
	}
	cat.Repositories = []archive.Repository{
		{Name: "team/app<&>", Tags: []archive.Tag{{Name: "v2", Current: testDigest(12)}, {Name: "v1", Current: testDigest(10)}}},
		{Name: "team/empty", Manifests: []string{testDigest(11)}},
		{Name: "team/odd", Tags: []archive.Tag{{Name: "x", Current: "sha512:abc"}, {Name: "y", Current: testDigest(99)}, {Name: "gone"}}},
	}
	return cat
}

// WriteJSON writes what json.Encoder with SetIndent("", "  ") wrote of
// the listing whole, byte for byte, from the compact table and from
// Images, and MarshalJSON agrees.
func TestWriteJSONIsEncoders(t *testing.T) {
	whole := ListCatalog(listingFixture(t))
	if len(whole.Images) != 4 || whole.Images[0].Size != 5+100+20 || whole.Images[1].Size != 7+5+6+100+20+30 || whole.Images[1].MediaType == "" {
		t.Fatalf("fixture's images: %+v", whole.Images)
	}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetIndent("", "  ")
	if err := enc.Encode((*listingFields)(whole)); err != nil {
		t.Fatal(err)
	}
	scan := NewListScan()
	scan.replay(listingFixture(t))
	compact := listScan(listingFixture(t), scan, func(sum [32]byte) int64 {
		for _, b := range whole.Catalog.Blobs {
			if s, _ := archive.ParseSum(b.Digest); s == sum {
				return b.Size
			}
		}
		return 0
	})
	if compact.Images != nil || compact.ImageCount() != 4 {
		t.Fatalf("ListScan's listing holds Images %v, %d images", compact.Images, compact.ImageCount())
	}
	for name, l := range map[string]*Listing{"Images": whole, "compact": compact} {
		var got bytes.Buffer
		if err := l.WriteJSON(&got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%s: WriteJSON wrote\n%s\njson.Encoder\n%s", name, got.Bytes(), want.Bytes())
		}
		m, err := json.MarshalIndent(l, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(append(m, '\n'), want.Bytes()) {
			t.Errorf("%s: MarshalIndent differs from json.Encoder", name)
		}
	}
	// No images: null, as before; an empty Images: [].
	for _, images := range [][]Image{nil, {}} {
		l := &Listing{Catalog: whole.Catalog, Images: images}
		want.Reset()
		enc.Encode((*listingFields)(l))
		var got bytes.Buffer
		if err := l.WriteJSON(&got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("Images %#v: WriteJSON wrote\n%s\njson.Encoder\n%s", images, got.Bytes(), want.Bytes())
		}
	}
}

// bigCatalog is a hand-made catalog of n tags, each its own image of
// two blobs, as a Synth registry lays them out: eight tags a repository.
func bigCatalog(n int) *archive.Catalog {
	cat := &archive.Catalog{Source: "synth://"}
	for i := range n {
		if i%8 == 0 {
			cat.Repositories = append(cat.Repositories, archive.Repository{Name: fmt.Sprintf("synth/r%07d", i/8)})
		}
		r := &cat.Repositories[len(cat.Repositories)-1]
		m := testDigest(3 * i)
		r.Tags = append(r.Tags, archive.Tag{Name: fmt.Sprintf("t%05d", i%8), Current: m})
		cat.Manifests = append(cat.Manifests, archive.Manifest{Digest: m, MediaType: "application/vnd.oci.image.manifest.v1+json",
			References: []string{testDigest(3*i + 1), testDigest(3*i + 2)}})
		for k := range 3 {
			cat.Blobs = append(cat.Blobs, archive.Blob{Digest: testDigest(3*i + k), Size: int64(100 + k)})
		}
	}
	return cat
}

// liveHeap is the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// heapWatcher is a writer that discards what it is given, noting the
// most the heap held live at each write.
type heapWatcher struct {
	peak  uint64
	bytes int
}

func (w *heapWatcher) Write(p []byte) (int, error) {
	w.peak = max(w.peak, liveHeap())
	w.bytes += len(p)
	return len(p), nil
}

// A listing of ListScan keeps some 60 bytes a tag, and WriteJSON holds
// none of its output: 50,000 tags' 14 MB of JSON written with the heap
// never 2 MB over what the listing holds (json.Encoder held the whole
// output twice).
func TestListingMemoryPerTag(t *testing.T) {
	const n = 50000
	cat := bigCatalog(n)
	sizes := map[[32]byte]int64{}
	for _, b := range cat.Blobs {
		s, _ := archive.ParseSum(b.Digest)
		sizes[s] = b.Size
	}
	scan := NewListScan()
	scan.replay(cat)
	l := listScan(&archive.Catalog{}, scan, func(sum [32]byte) int64 { return sizes[sum] })
	scan, cat, sizes = nil, nil, nil
	held := liveHeap()
	if l.ImageCount() != n {
		t.Fatalf("%d images, want %d", l.ImageCount(), n)
	}
	w := &heapWatcher{}
	if err := l.WriteJSON(w); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(l)
	l = nil
	perTag := (int64(held) - int64(liveHeap())) / n
	t.Logf("%d tags: the listing holds %d bytes a tag after its scan's lists went; %d MB of JSON written at most %d KB over",
		n, perTag, w.bytes>>20, (int64(w.peak)-int64(held))>>10)
	if perTag > 80 {
		t.Errorf("the listing holds %d bytes a tag, want at most 80", perTag)
	}
	if over := int64(w.peak) - int64(held); over > 2<<20 {
		t.Errorf("WriteJSON held %d KB more than the listing while writing %d MB", over>>10, w.bytes>>20)
	}
}
