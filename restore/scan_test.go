package restore

import (
	"bytes"
	"encoding/json"
	"os"
	"runtime"
	"sort"
	"testing"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/integration/sample"
	"github.com/regbackup/regbackup/internal/regtest"
)

// chunkedArchive is an archive of a registry of many small tags whose
// catalog is written in parts of 8 KiB, so that repositories come in
// pieces and the lists are streamed across parts.
func chunkedArchive(t *testing.T, tags int) (*sample.Registry, []byte) {
	t.Helper()
	old := archive.PartSize
	archive.PartSize = 8 << 10
	t.Cleanup(func() { archive.PartSize = old })
	_, reg, data := sampleArchive(t, sample.Options{Seed: 11, SmallFiles: tags}, archive.None)
	return reg, data
}

// listReference is List as it was when it decoded the whole catalog
// (before CatalogScan): the listing a streamed scan must give byte for
// byte.
func listReference(cat *archive.Catalog) *Listing {
	l := &Listing{Catalog: cat, Source: cat.Source, Created: cat.Created.Format("2006-01-02T15:04:05Z07:00"),
		Blobs: len(cat.Blobs), Parents: cat.Parents, Metadata: cat.Metadata, Database: cat.Database}
	sizes := map[string]int64{}
	for _, b := range cat.Blobs {
		sizes[b.Digest] = b.Size
		l.BlobBytes += b.Size
		if b.Archive == "" {
			l.OwnBlobs++
			l.OwnBlobBytes += b.Size
		}
	}
	manifests := map[string]archive.Manifest{}
	for _, m := range cat.Manifests {
		manifests[m.Digest] = m
	}
	imageSize := func(dg string) int64 {
		seen := map[string]bool{}
		var total int64
		var walk func(string)
		walk = func(d string) {
			if seen[d] {
				return
			}
			seen[d] = true
			total += sizes[d]
			for _, r := range manifests[d].References {
				walk(r)
			}
		}
		walk(dg)
		return total
	}
	for _, r := range cat.Repositories {
		l.Repositories = append(l.Repositories, RepositorySummary{Name: r.Name, Tags: len(r.Tags), Manifests: len(r.Manifests)})
		for _, t := range r.Tags {
			if t.Current == "" {
				continue
			}
			l.Images = append(l.Images, Image{Repository: r.Name, Tag: t.Name, Digest: t.Current,
				MediaType: manifests[t.Current].MediaType, Size: imageSize(t.Current)})
		}
	}
	sort.Slice(l.Images, func(i, j int) bool {
		if l.Images[i].Repository != l.Images[j].Repository {
			return l.Images[i].Repository < l.Images[j].Repository
		}
		return l.Images[i].Tag < l.Images[j].Tag
	})
	for _, f := range cat.Files {
		l.Files = append(l.Files, f.Path)
	}
	return l
}

func listJSON(t *testing.T, l *Listing) []byte {
	t.Helper()
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The streamed listing is the one the whole catalog gave, byte for byte,
// at many tags, with a catalog in parts and images with child manifests.
func TestListStreamedIsUnchanged(t *testing.T) {
	reg, data := chunkedArchive(t, 3000)
	ar, err := archive.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	cat := ar.Catalog()
	ar.Close()
	if cat.Format != archive.FormatChunked {
		t.Fatalf("catalog format %s: the test needs one in parts", cat.Format)
	}
	want := listJSON(t, listReference(cat))
	got, err := List(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if g := listJSON(t, got); !bytes.Equal(g, want) {
		t.Fatalf("streamed listing differs from the whole catalog's (%d bytes vs %d)", len(g), len(want))
	}
	if g := listJSON(t, ListCatalog(cat)); !bytes.Equal(g, want) {
		t.Fatal("ListCatalog differs from the reference")
	}
	if len(got.Images) != len(reg.Tags) {
		t.Errorf("%d images listed, the registry has %d tags", len(got.Images), len(reg.Tags))
	}
	sized := 0
	for _, im := range got.Images {
		if im.Size > 0 && im.MediaType != "" {
			sized++
		}
	}
	if sized != len(got.Images) {
		t.Errorf("%d of %d images have a size and a media type", sized, len(got.Images))
	}
}

// Verify's counts from a streamed catalog are those of the whole one.
func TestVerifyStreamedCounts(t *testing.T) {
	reg, data := chunkedArchive(t, 500)
	rep, _, err := Verify(t.Context(), bytes.NewReader(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	ar, err := archive.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	whole, err := VerifyArchive(t.Context(), ar, VerifyOptions{})
	ar.Close()
	if err != nil {
		t.Fatal(err)
	}
	rep.Duration, whole.Duration = 0, 0
	if g, w := listJSONAny(t, rep), listJSONAny(t, whole); !bytes.Equal(g, w) {
		t.Errorf("streamed verify reports\n%s\nthe whole catalog's\n%s", g, w)
	}
	if rep.Tags != len(reg.Tags) || rep.Repositories != len(reg.Repositories) {
		t.Errorf("verify counts %d tags in %d repositories, the registry has %d in %d",
			rep.Tags, rep.Repositories, len(reg.Tags), len(reg.Repositories))
	}
}

func listJSONAny(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A restore of some repositories from a catalog in parts, its links and
// the digests they link to spilled to disk, restores those repositories'
// tags and the blobs they need, and nothing of the others, and leaves no
// temp file.
func TestRestoreSubsetStreamedSpilled(t *testing.T) {
	old, oldRoots := restoreSpoolLinks, rootsMemory
	restoreSpoolLinks, rootsMemory = 50, 1<<10
	t.Cleanup(func() { restoreSpoolLinks, rootsMemory = old, oldRoots })
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	defer func() {
		if left, _ := os.ReadDir(tmp); len(left) > 0 {
			t.Errorf("%d temp files left behind, %s first", len(left), left[0].Name())
		}
	}()
	reg, data := chunkedArchive(t, 400)
	dst := regtest.Mem(t)
	rep, err := Restore(t.Context(), bytes.NewReader(data), dst, Options{Repositories: []string{"small/r000*"}})
	if err != nil {
		t.Fatal(err)
	}
	got := regtest.Tags(t, dst)
	want := 0
	for _, im := range reg.Tags {
		sel := len(im.Repo) == len("small/r0000") && im.Repo[:len("small/r000")] == "small/r000"
		if sel {
			want++
		}
		if _, ok := got[im.Repo+":"+im.Tag]; ok != sel {
			t.Errorf("%s:%s restored = %v, want %v", im.Repo, im.Tag, ok, sel)
		}
	}
	if want == 0 || rep.Tags != want {
		t.Errorf("report counts %d tags, %d selected", rep.Tags, want)
	}
	for p, c := range regtest.Files(t, dst, archive.RegistryRoot+"repositories/") {
		if _, err := dst.Stat(t.Context(), archive.BlobPath(c)); err != nil {
			t.Errorf("%s links to %s, which was not restored", p, c)
		}
	}
	// Every tag, links spilled: the same as the registry.
	all := regtest.Mem(t)
	if _, err := Restore(t.Context(), bytes.NewReader(data), all, Options{}); err != nil {
		t.Fatal(err)
	}
	regtest.SameTags(t, all, reg)
}

// What a scan keeps of a catalog is a small part of the decoded catalog:
// for a restore of everything or a verify, the repositories' names and
// counts (the blobs are in the Reader's own plan either way); for a
// listing, the tags and the manifests' compact references.
func TestScanMemoryPerTag(t *testing.T) {
	const tags = 3000
	_, data := chunkedArchive(t, tags)
	heap := func() int64 {
		runtime.GC()
		runtime.GC() // and what sync.Pools kept past the first
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	// held is what reading the catalog keeps, the Reader still open.
	held := func(v *archive.CatalogVisitor) int64 {
		before := heap()
		ar, err := archive.NewReaderOptions(bytes.NewReader(data), archive.ReaderOptions{Visitor: v})
		if err != nil {
			t.Fatal(err)
		}
		n := heap() - before
		ar.Close()
		return n
	}
	base := held(&archive.CatalogVisitor{}) // the plan, the decoder
	whole := held(nil) - base
	restoreScan, _ := NewScan(nil)
	restoring := held(restoreScan.Visitor()) - base
	listScan := NewListScan()
	listing := held(listScan.Visitor()) - base
	oldRoots := rootsMemory
	rootsMemory = 64 << 10 // a fixed cost, however many tags: spilled past it
	defer func() { rootsMemory = oldRoots }()
	someScan, _ := NewScan([]string{"*/*"})
	defer someScan.Close()
	some := held(someScan.Visitor()) - base
	runtime.KeepAlive(someScan)
	t.Logf("a tag: %d bytes for a restore of some repositories' scan", some/tags)
	// The manifests' graph; the digests the repositories link to are
	// spilled to temp files.
	if some/tags > 400 {
		t.Errorf("the scan of a restore of some repositories keeps %d bytes a tag", some/tags)
	}
	runtime.KeepAlive(restoreScan)
	runtime.KeepAlive(listScan)
	t.Logf("a tag: %d bytes for the whole catalog, %d for a restore's scan, %d for a listing's",
		whole/tags, restoring/tags, listing/tags)
	if restoring > whole/10 || restoring/tags > 100 {
		t.Errorf("a restore's scan keeps %d bytes a tag, the whole catalog %d", restoring/tags, whole/tags)
	}
	// 309 bytes a tag here: the tags in an imageTable, the manifests in a
	// manifestGraph, both in blocks (333 before them).
	if listing > whole/2 || listing/tags > 360 {
		t.Errorf("a listing's scan keeps %d bytes a tag, the whole catalog %d", listing/tags, whole/tags)
	}
}
