package archive

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// writeIncremental writes an archive holding only own (of s's blobs) and
// naming the others as held by the parent "base.tar.zst"; one layer link
// per blob of s, inherited or not.
func writeIncremental(t testing.TB, s *sample, own map[string]bool, mutate func(*Catalog)) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{Compression: Zstd})
	must(t, err)
	cat := &Catalog{Source: "test", Created: time.Unix(1700086400, 0),
		Parents: []Parent{{Name: "base.tar.zst", CatalogSHA256: strings.Repeat("ab", 32), Created: time.Unix(1700000000, 0)}}}
	for _, d := range s.order {
		b := Blob{Digest: d, Size: int64(len(s.blobs[d]))}
		if !own[d] {
			b.Archive = "base.tar.zst"
		}
		cat.Blobs = append(cat.Blobs, b)
	}
	if mutate != nil {
		mutate(cat)
	}
	if err := w.WriteCatalog(cat); err != nil {
		return nil
	}
	for _, d := range s.order {
		if own[d] {
			_, err := w.WriteBlob(d, int64(len(s.blobs[d])), bytes.NewReader(s.blobs[d]), false)
			must(t, err)
		}
	}
	for _, d := range s.order {
		must(t, w.WriteLink(LinkPath(KindLayerLink, "group/app", "", d), d))
	}
	must(t, w.Close())
	return buf.Bytes()
}

func TestIncrementalRoundTrip(t *testing.T) {
	s := newSample(t)
	own := map[string]bool{s.order[1]: true, s.order[3]: true}
	data := writeIncremental(t, s, own, nil)
	got, r, err := readAll(data)
	if err != nil {
		t.Fatalf("incremental archive: %v", err)
	}
	if f := r.Catalog().Format; f != FormatIncremental {
		t.Errorf("format = %q, want %q", f, FormatIncremental)
	}
	if len(got) != 2 || !r.Held(s.order[1]) || !r.Held(s.order[3]) || r.Held(s.order[0]) {
		t.Errorf("held %d blobs, want exactly the 2 own ones", len(got))
	}
	if tr := r.Trailer(); tr.Blobs != 2 || tr.Links != 4 {
		t.Errorf("trailer counts %d blobs %d links, want 2 and 4", tr.Blobs, tr.Links)
	}
	if r.CatalogSHA256() == "" || r.CatalogSHA256() != r.Trailer().CatalogSHA256 {
		t.Errorf("CatalogSHA256 %q does not match the trailer's %q", r.CatalogSHA256(), r.Trailer().CatalogSHA256)
	}
}

// A full archive keeps format 1, so an older regbackup still reads it.
func TestFullArchiveKeepsFormat1(t *testing.T) {
	_, r, err := readAll(newSample(t).write(t, Zstd))
	if err != nil {
		t.Fatal(err)
	}
	if f := r.Catalog().Format; f != FormatVersion {
		t.Errorf("full archive format = %q, want %q", f, FormatVersion)
	}
}

func TestIncrementalCatalogChecks(t *testing.T) {
	s := newSample(t)
	own := map[string]bool{s.order[0]: true}
	for name, tc := range map[string]struct {
		mutate func(*Catalog)
		want   error
	}{
		"parent with a path":  {func(c *Catalog) { c.Parents[0].Name = "../etc/base.tar.zst" }, ErrUnsafePath},
		"bad parent checksum": {func(c *Catalog) { c.Parents[0].CatalogSHA256 = "xyz" }, ErrCorrupt},
		"blob in no parent":   {func(c *Catalog) { c.Blobs[1].Archive = "other.tar.zst" }, ErrCorrupt},
		"parent holding none": {func(c *Catalog) {
			c.Parents = append(c.Parents, Parent{Name: "x", CatalogSHA256: strings.Repeat("cd", 32)})
		}, ErrCorrupt},
		"parent named twice":   {func(c *Catalog) { c.Parents = append(c.Parents, c.Parents[0]) }, ErrCorrupt},
		"inherited, no parent": {func(c *Catalog) { c.Parents = nil }, ErrCorrupt},
	} {
		t.Run(name, func(t *testing.T) {
			// The writer refuses such a catalog...
			if data := writeIncremental(t, s, own, tc.mutate); data != nil {
				t.Fatal("the writer accepted a bad catalog")
			}
			// ...and so does the reader of a hand-made one.
			var buf bytes.Buffer
			cat := &Catalog{Created: time.Now(), Parents: []Parent{{Name: "base.tar.zst", CatalogSHA256: strings.Repeat("ab", 32)}}}
			for _, d := range s.order {
				cat.Blobs = append(cat.Blobs, Blob{Digest: d, Size: int64(len(s.blobs[d])), Archive: "base.tar.zst"})
			}
			tc.mutate(cat)
			cat.Format = FormatIncremental
			if len(cat.Parents) == 0 {
				cat.Format = FormatVersion
			}
			writeRawCatalog(t, &buf, cat)
			_, err := NewReader(bytes.NewReader(buf.Bytes()))
			if !errors.Is(err, tc.want) {
				t.Errorf("reader: err = %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("format 1 with parents", func(t *testing.T) {
		var buf bytes.Buffer
		cat := &Catalog{Format: FormatVersion, Created: time.Now(),
			Parents: []Parent{{Name: "base.tar.zst", CatalogSHA256: strings.Repeat("ab", 32)}},
			Blobs:   []Blob{{Digest: s.order[0], Size: 0, Archive: "base.tar.zst"}}}
		writeRawCatalog(t, &buf, cat)
		if _, err := NewReader(bytes.NewReader(buf.Bytes())); !errors.Is(err, ErrCorrupt) {
			t.Errorf("err = %v, want ErrCorrupt", err)
		}
	})
}

// A link to a blob that is neither held nor inherited is still refused.
func TestIncrementalLinkToUnknownBlob(t *testing.T) {
	s := newSample(t)
	own := map[string]bool{s.order[0]: true}
	data := writeIncremental(t, s, own, func(c *Catalog) { c.Blobs = c.Blobs[:2] })
	_, _, err := readAll(data)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "does not hold") {
		t.Errorf("err = %v, want a link to a blob the archive does not hold", err)
	}
}

func TestMetaRoundTrip(t *testing.T) {
	s := newSample(t)
	data := writeIncremental(t, s, map[string]bool{s.order[1]: true, s.order[2]: true}, nil)
	_, r, err := readAll(data)
	must(t, err)
	tr := *r.Trailer()
	tr.Corrupt = []Exclusion{{Digest: s.order[2], Reason: "test"}}
	m := NewMeta("inc.tar.zst", r.Catalog(), r.CatalogSHA256(), &tr, false, Zstd)
	b, err := m.Marshal()
	must(t, err)
	got, err := ParseMeta(b)
	must(t, err)
	if len(got.Blobs) != 3 {
		t.Errorf("sidecar lists %d blobs, want 3 (4 minus the corrupt one)", len(got.Blobs))
	}
	for _, bl := range got.Blobs {
		if bl.Digest == s.order[2] {
			t.Error("sidecar lists a blob the trailer marks corrupt")
		}
		if want := map[bool]string{true: "inc.tar.zst", false: "base.tar.zst"}[bl.Digest == s.order[1]]; got.Holder(bl) != want {
			t.Errorf("holder of %s = %s, want %s", bl.Digest, got.Holder(bl), want)
		}
	}
	for _, bad := range []string{
		strings.Replace(string(b), MetaFormat, "other/1", 1),
		strings.Replace(string(b), `"archive":"inc.tar.zst"`, `"archive":"../x"`, 1),
		strings.Replace(string(b), `"name":"base.tar.zst"`, `"name":"b/x"`, 1),
		"{",
	} {
		if bad == string(b) {
			t.Fatalf("the test's replacement found nothing to replace in:\n%s", b)
		}
		if _, err := ParseMeta([]byte(bad)); err == nil {
			t.Errorf("ParseMeta accepted a bad sidecar:\n%.200s", bad)
		}
	}
}

// writeRawCatalog writes a plain tar holding only cat as its catalog, with
// no checks: what a hostile or buggy writer could produce.
func writeRawCatalog(t testing.TB, w io.Writer, cat *Catalog) {
	t.Helper()
	data, err := json.Marshal(cat)
	must(t, err)
	tw := tar.NewWriter(w)
	must(t, tw.WriteHeader(&tar.Header{Name: CatalogName, Typeflag: tar.TypeReg, Size: int64(len(data)), Mode: 0o644}))
	_, err = tw.Write(data)
	must(t, err)
	must(t, tw.Close())
}

// TestMetaKnownManifests: the sidecar describes the manifests whose blob
// and references it lists intact, and gives them back as the catalog had
// them; one referencing a blob it does not list (a foreign layer), one
// whose blob is corrupt and one of another size are left out (they are
// read again), and an index out of range is a corrupt sidecar.
func TestMetaKnownManifests(t *testing.T) {
	dg := func(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }
	cat := &Catalog{Created: time.Unix(1700000000, 0), Format: FormatIncremental,
		Parents: []Parent{{Name: "base.tar.zst", CatalogSHA256: strings.Repeat("b", 64), Created: time.Unix(1600000000, 0)}}, Blobs: []Blob{
			{Digest: dg('1'), Size: 10}, {Digest: dg('2'), Size: 20}, {Digest: dg('3'), Size: 30},
			{Digest: dg('4'), Size: 40}, {Digest: dg('5'), Size: 50, Archive: "base.tar.zst"}, {Digest: dg('6'), Size: 60},
		}, Manifests: []Manifest{
			{Digest: dg('1'), MediaType: "application/vnd.oci.image.manifest.v1+json", Size: 10, References: []string{dg('3'), dg('2')}},
			{Digest: dg('4'), MediaType: "application/vnd.oci.image.manifest.v1+json", Size: 40, References: []string{dg('2'), dg('f')}}, // foreign
			{Digest: dg('5'), MediaType: "application/vnd.oci.image.index.v1+json", Size: 50, References: []string{dg('1')}},
			{Digest: dg('6'), MediaType: "application/vnd.oci.image.manifest.v1+json", Size: 60, References: []string{dg('2')}}, // corrupt
			{Digest: dg('2'), MediaType: "application/vnd.oci.image.manifest.v1+json", Size: 21},                                // other size
		}}
	tr := &Trailer{Corrupt: []Exclusion{{Digest: dg('6'), Reason: "test"}}}
	b, err := NewMeta("inc.tar.zst", cat, strings.Repeat("a", 64), tr, false, Zstd).Marshal()
	must(t, err)
	m, err := ParseMeta(b)
	must(t, err)
	want := map[string]*Manifest{dg('1'): &cat.Manifests[0], dg('5'): &cat.Manifests[2]}
	if got := m.KnownManifests(); !reflect.DeepEqual(got, want) {
		t.Errorf("known manifests:\n got  %v\n want %v", got, want)
	}
	for _, bad := range []string{`[0,0,9]`, `[0,5,1]`, `[0]`, `[-1,0]`} {
		s := strings.Replace(string(b), `[0,0,2,1]`, bad, 1)
		if s == string(b) {
			t.Fatalf("no [0,0,2,1] in:\n%s", b)
		}
		if _, err := ParseMeta([]byte(s)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("manifest entry %s: err = %v, want ErrCorrupt", bad, err)
		}
	}
}

// openMeta is OpenMeta of a sidecar held in data.
func openMeta(data []byte) (*Meta, error) {
	return OpenMeta(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
}

// TestOpenMetaIsParseMeta: OpenMeta, which streams a sidecar and holds
// neither its blobs nor its manifests, accepts and refuses what ParseMeta
// does, and gives back the same head, blobs and known manifests.
func TestOpenMetaIsParseMeta(t *testing.T) {
	dg := func(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }
	cat := &Catalog{Created: time.Unix(1700000000, 0), Format: FormatIncremental,
		Parents: []Parent{{Name: "base.tar.zst", CatalogSHA256: strings.Repeat("b", 64), Created: time.Unix(1600000000, 0)}}, Blobs: []Blob{
			{Digest: dg('1'), Size: 10}, {Digest: dg('2'), Size: 20, Archive: "base.tar.zst"}, {Digest: dg('3'), Size: 30},
		}, Manifests: []Manifest{
			{Digest: dg('1'), MediaType: "application/vnd.oci.image.manifest.v1+json", Size: 10, References: []string{dg('3'), dg('2')}},
		}}
	good, err := NewMeta("inc.tar.zst", cat, strings.Repeat("a", 64), &Trailer{}, false, Zstd).Marshal()
	must(t, err)
	cases := []string{string(good), `{"format":"regbackup-meta/1","archive":"a.tar","catalog_sha256":"` + strings.Repeat("a", 64) + `","blobs":null}`}
	for _, r := range [][2]string{{MetaFormat, "other/1"}, {`"archive":"inc.tar.zst"`, `"archive":"../x"`},
		{`"name":"base.tar.zst"`, `"name":"b/x"`}, {`[0,0,2,1]`, `[0,0,9]`}, {`[0,0,2,1]`, `[0,5,1]`}, {`[0,0,2,1]`, `[0]`},
		{`[0,0,2,1]`, `[-1,0]`}, {dg('3'), "sha256:x"}, {`"size":30`, `"size":-1`}, {`"archive":"base.tar.zst"}`, `"archive":"other.tar"}`}} {
		bad := strings.Replace(string(good), r[0], r[1], 1)
		if bad == string(good) {
			t.Fatalf("no %s in:\n%s", r[0], good)
		}
		cases = append(cases, bad)
	}
	cases = append(cases, string(good[:len(good)/2]), "{", "", `{"blobs":{}}`)
	for _, c := range cases {
		want, werr := ParseMeta([]byte(c))
		got, gerr := openMeta([]byte(c))
		if (werr == nil) != (gerr == nil) || errors.Is(werr, ErrCorrupt) != errors.Is(gerr, ErrCorrupt) {
			t.Errorf("ParseMeta: %v, OpenMeta: %v, of\n%.300s", werr, gerr, c)
			continue
		}
		if werr != nil {
			continue
		}
		if got.Archive != want.Archive || !got.Created.Equal(want.Created) || !reflect.DeepEqual(got.Parents, want.Parents) {
			t.Errorf("head %+v, want %+v", got, want)
		}
		var streamed []Blob
		for b, err := range got.EachBlob() {
			must(t, err)
			streamed = append(streamed, b)
		}
		loaded := slices.Collect(EachBlob(got.BlobList()))
		if len(want.Blobs) > 0 && (!reflect.DeepEqual(streamed, want.Blobs) || !reflect.DeepEqual(loaded, want.Blobs)) {
			t.Errorf("blobs streamed %v, loaded %v, want %v", streamed, loaded, want.Blobs)
		}
		if !reflect.DeepEqual(got.KnownManifests(), want.KnownManifests()) || got.HasManifests() != want.HasManifests() {
			t.Errorf("known manifests %v, want %v", got.KnownManifests(), want.KnownManifests())
		}
		var scanned []Blob
		var rows [][]int32
		must(t, got.Scan(func(b Blob) error { scanned = append(scanned, b); return nil },
			func(r []int32) error { rows = append(rows, r); return nil }))
		if len(want.Blobs) > 0 && (!reflect.DeepEqual(scanned, want.Blobs) || !reflect.DeepEqual(rows, want.Manifests)) {
			t.Errorf("scanned %v and %v, want %v and %v", scanned, rows, want.Blobs, want.Manifests)
		}
		if i, ok := SearchBlobs(got.BlobList(), dg('3')); len(want.Blobs) > 0 && (!ok || i != 2) {
			t.Errorf("search finds %s at %d, %v", dg('3'), i, ok)
		}
	}
}

// TestOpenMetaChangedOrUnreadable: a sidecar that changes between its
// reads, or whose store fails mid-way, is an error, and a store's error is
// no corrupt sidecar.
func TestOpenMetaChangedOrUnreadable(t *testing.T) {
	m := &Meta{Format: MetaFormat, Archive: "a.tar.zst", CatalogSHA256: strings.Repeat("a", 64),
		Blobs: []Blob{{Digest: "sha256:" + strings.Repeat("1", 64), Size: 1}, {Digest: "sha256:" + strings.Repeat("2", 64), Size: 2}}}
	one, err := m.Marshal()
	must(t, err)
	m.Blobs = m.Blobs[:1]
	fewer, err := m.Marshal()
	must(t, err)
	data := one
	got, err := OpenMeta(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	must(t, err)
	data = fewer
	if err := got.Load(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Load of a changed sidecar: %v, want ErrCorrupt", err)
	}
	for _, err := range got.EachBlob() {
		if err == nil {
			continue
		}
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("EachBlob of a changed sidecar: %v, want ErrCorrupt", err)
		}
	}
	cut := errors.New("connection reset")
	_, err = OpenMeta(func() (io.ReadCloser, error) {
		return io.NopCloser(io.MultiReader(bytes.NewReader(one[:len(one)/2]), iotest.ErrReader(cut))), nil
	})
	if !errors.Is(err, cut) || errors.Is(err, ErrCorrupt) {
		t.Errorf("a store failing mid-way: %v, want its error, not ErrCorrupt", err)
	}
}
