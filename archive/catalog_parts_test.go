package archive

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// smallParts makes catalog parts tiny for one test.
func smallParts(t *testing.T, n int) {
	old := PartSize
	PartSize = n
	t.Cleanup(func() { PartSize = old })
}

func fakeDigest(i int) string { return fmt.Sprintf("sha256:%064x", i) }

// partsSample is an archive with a catalog of every kind of element: a
// repository of 10,000 layers (split into pieces in a regbackup/3
// catalog), tags with a history, manifests, own and inherited blobs, and
// links in the order Writer requires of a regbackup/3 archive.
type partsSample struct {
	cat   *Catalog
	blobs map[string][]byte
	links [][2]string // path, digest, in order
}

func newPartsSample() *partsSample {
	s := &partsSample{blobs: map[string][]byte{}}
	c := &Catalog{Source: "test", Created: time.Unix(1700000000, 0).UTC(),
		Parents: []Parent{{Name: "base.tar.zst", CatalogSHA256: strings.Repeat("ab", 32), Created: time.Unix(1690000000, 0).UTC()}}}
	for i := range 20 {
		b := []byte(fmt.Sprintf("blob %d", i))
		s.blobs[digestOf(b)] = b
	}
	own := slices.Sorted(func(yield func(string) bool) {
		for d := range s.blobs {
			if !yield(d) {
				return
			}
		}
	})
	big := Repository{Name: "big", Manifests: []string{}}
	for i := range 10000 {
		big.Layers = append(big.Layers, fakeDigest(i))
	}
	small := Repository{Name: "small/app", Layers: own[:3], Manifests: own[3:5],
		Tags: []Tag{{Name: "latest", Current: own[3], Index: own[3:5]}, {Name: "v1", Current: own[4], Index: own[4:5]}}}
	c.Repositories = []Repository{big, small}
	for i := range 50 {
		c.Manifests = append(c.Manifests, Manifest{Digest: fakeDigest(i), MediaType: "application/vnd.oci.image.manifest.v1+json",
			Size: int64(i), References: []string{fakeDigest(i + 1)}})
	}
	var all []Blob
	for _, d := range own {
		all = append(all, Blob{Digest: d, Size: int64(len(s.blobs[d]))})
	}
	for i := range 10000 {
		all = append(all, Blob{Digest: fakeDigest(i), Size: 1, Archive: "base.tar.zst"})
	}
	slices.SortFunc(all, func(a, b Blob) int { return strings.Compare(a.Digest, b.Digest) })
	c.Blobs = all
	s.cat = c
	for _, d := range own[:3] {
		s.links = append(s.links, [2]string{LinkPath(KindLayerLink, "small/app", "", d), d})
	}
	for _, d := range own[3:5] {
		s.links = append(s.links, [2]string{LinkPath(KindRevisionLink, "small/app", "", d), d})
	}
	return s
}

func (s *partsSample) write(t *testing.T) ([]byte, *Writer) {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{Compression: Zstd})
	must(t, err)
	must(t, w.WriteCatalog(s.cat))
	for _, b := range s.cat.Blobs {
		if b.Archive == "" {
			_, err := w.WriteBlob(b.Digest, b.Size, bytes.NewReader(s.blobs[b.Digest]), false)
			must(t, err)
		}
	}
	for _, l := range s.links {
		must(t, w.WriteLink(l[0], l[1]))
	}
	must(t, w.Close())
	return buf.Bytes(), w
}

// A catalog bigger than PartSize goes into parts and reads back the same;
// its sha256 covers every part.
func TestChunkedCatalogRoundTrip(t *testing.T) {
	smallParts(t, 4096)
	s := newPartsSample()
	data, w := s.write(t)
	if s.cat.Format != FormatChunked {
		t.Fatalf("format = %q, want %q", s.cat.Format, FormatChunked)
	}
	got, r, err := readAll(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(s.blobs) {
		t.Errorf("read %d blobs, want %d", len(got), len(s.blobs))
	}
	if r.CatalogSHA256() != w.CatalogSHA256() || r.Trailer().CatalogSHA256 != w.CatalogSHA256() {
		t.Errorf("catalog sha256: reader %s, writer %s", r.CatalogSHA256(), w.CatalogSHA256())
	}
	if g := r.Catalog(); !reflect.DeepEqual(g, s.cat) {
		for i := range g.Repositories {
			if !reflect.DeepEqual(g.Repositories[i], s.cat.Repositories[i]) {
				t.Errorf("repository %d differs: %d/%d layers %v/%v tags", i, len(g.Repositories[i].Layers),
					len(s.cat.Repositories[i].Layers), g.Repositories[i].Tags == nil, s.cat.Repositories[i].Tags == nil)
			}
		}
		g2 := *g
		g2.Repositories, g2.Manifests, g2.Blobs = nil, nil, nil
		w2 := *s.cat
		w2.Repositories, w2.Manifests, w2.Blobs = nil, nil, nil
		t.Errorf("catalog read back differs:\n got %+v\nwant %+v\n%v %v", g2, w2,
			reflect.DeepEqual(g.Manifests, s.cat.Manifests), reflect.DeepEqual(g.Blobs, s.cat.Blobs))
	}
	names := entryNames(t, data)
	parts := 0
	for _, n := range names {
		if isPart(n) {
			parts++
		}
	}
	if names[0] != CatalogName || !isPart(names[1]) || parts < 100 {
		t.Errorf("entries start %v, %d parts; want the head then parts", names[:3], parts)
	}
	// The big repository came in pieces of at most pieceItems.
	var pieces int
	_, err = NewReaderOptions(bytes.NewReader(data), ReaderOptions{Visitor: &CatalogVisitor{
		Repository: func(r *Repository) error {
			if r.Name == "big" {
				pieces++
				if len(r.Layers) > pieceItems {
					t.Errorf("a piece of %d layers", len(r.Layers))
				}
			}
			return nil
		}}})
	must(t, err)
	if pieces != 3 {
		t.Errorf("big repository in %d pieces, want 3", pieces)
	}
}

// A catalog that fits in one part is written as before: one document, the
// older formats, the bytes appendCatalog gives.
func TestSmallCatalogKeepsTheOldFormat(t *testing.T) {
	s := newPartsSample()
	data, _ := s.write(t)
	if s.cat.Format != FormatIncremental {
		t.Fatalf("format = %q, want %q", s.cat.Format, FormatIncremental)
	}
	want, err := appendCatalog(nil, s.cat)
	must(t, err)
	tr := tar.NewReader(decompressed(t, data))
	h, err := tr.Next()
	must(t, err)
	doc, err := io.ReadAll(tr)
	must(t, err)
	if h.Name != CatalogName || !bytes.Equal(doc, want) {
		t.Errorf("catalog entry %s is not appendCatalog's bytes", h.Name)
	}
	if names := entryNames(t, data); isPart(names[1]) {
		t.Errorf("a part in an archive whose catalog fits in one")
	}
}

// Damage to the parts is found: a part missing, parts swapped, a part cut
// short, and a head that holds lists.
func TestChunkedCatalogDamage(t *testing.T) {
	smallParts(t, 4096)
	s := newPartsSample()
	data, _ := s.write(t)
	entries := rawEntries(t, data)
	drop := func(name string) []rawEntry {
		var out []rawEntry
		for _, e := range entries {
			if e.hdr.Name != name {
				out = append(out, e)
			}
		}
		return out
	}
	swapped := slices.Clone(entries)
	swapped[2], swapped[3] = swapped[3], swapped[2]
	cut := slices.Clone(entries)
	cut[2].data = cut[2].data[:100]
	cut[2].hdr.Size = 100
	for name, es := range map[string][]rawEntry{
		"missing part":   drop(partName(2)),
		"last part gone": drop(lastPart(entries)),
		"swapped":        swapped,
		"cut short":      cut,
	} {
		_, _, err := readAll(tarOf(t, es))
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
}

// In a regbackup/3 archive links come in order of kind and path: Writer
// refuses others, so Reader can find a duplicate without remembering names.
func TestChunkedCatalogLinksInOrder(t *testing.T) {
	smallParts(t, 4096)
	s := newPartsSample()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{})
	must(t, err)
	must(t, w.WriteCatalog(s.cat))
	for _, b := range s.cat.Blobs {
		if b.Archive == "" {
			_, err := w.WriteBlob(b.Digest, b.Size, bytes.NewReader(s.blobs[b.Digest]), false)
			must(t, err)
		}
	}
	must(t, w.WriteLink(s.links[1][0], s.links[1][1]))
	if err := w.WriteLink(s.links[0][0], s.links[0][1]); err == nil {
		t.Error("a link out of order was written")
	}
	if err := w.WriteLink(s.links[1][0], s.links[1][1]); err == nil {
		t.Error("a link written twice")
	}
}

type rawEntry struct {
	hdr  *tar.Header
	data []byte
}

func decompressed(t *testing.T, data []byte) io.Reader {
	t.Helper()
	dec, _, err := decompressor(bytes.NewReader(data))
	must(t, err)
	t.Cleanup(func() { dec.Close() })
	return dec
}

func rawEntries(t *testing.T, data []byte) []rawEntry {
	t.Helper()
	tr := tar.NewReader(decompressed(t, data))
	var out []rawEntry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		must(t, err)
		b, err := io.ReadAll(tr)
		must(t, err)
		out = append(out, rawEntry{h, b})
	}
}

func entryNames(t *testing.T, data []byte) []string {
	var names []string
	for _, e := range rawEntries(t, data) {
		names = append(names, e.hdr.Name)
	}
	return names
}

func lastPart(es []rawEntry) string {
	last := ""
	for _, e := range es {
		if isPart(e.hdr.Name) {
			last = e.hdr.Name
		}
	}
	return last
}

// tarOf writes entries as an uncompressed tar.
func tarOf(t *testing.T, es []rawEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		h := *e.hdr
		h.Size = int64(len(e.data))
		must(t, tw.WriteHeader(&h))
		_, err := tw.Write(e.data)
		must(t, err)
	}
	must(t, tw.Close())
	return buf.Bytes()
}
