package archive

import (
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// millionTags is the size of the round trip below: a registry of a million
// tags, each its own image (manifest, config, layer), as CI pipelines that
// push a tag per commit make them.
const millionTags = 1_000_000

// A catalog of a million tags (over 1 GiB, the size older readers refused
// while the writer wrote it) is written through CatalogWriter and read back
// with a Visitor, element for element, through a pipe: neither side holds
// it. Every blob is held by a parent, so the archive is the catalog alone
// and the round trip takes seconds.
func TestMillionTagCatalogRoundTrip(t *testing.T) {
	if raceEnabled {
		t.Skip("the million-tag round trip takes minutes under -race; make test runs it without")
	}
	const repos = 1000
	perRepo := millionTags / repos
	dg := func(kind, i int) string { return fmt.Sprintf("sha256:%02x%062x", kind, i) }
	parent := "base.tar.zst"
	head := &Catalog{Source: "test", Created: time.Unix(1700000000, 0).UTC(),
		Parents: []Parent{{Name: parent, CatalogSHA256: fmt.Sprintf("%064x", 1), Created: time.Unix(1690000000, 0).UTC()}}}

	// What was written and what was read, hashed element by element.
	wrote, read := newElemHash(), newElemHash()
	pr, pw := io.Pipe()
	var written int64
	go func() {
		cw := &countingWriter{w: pw, n: &written}
		w, err := NewWriter(cw, WriterOptions{Compression: None})
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		pw.CloseWithError(writeMillion(w, head, repos, perRepo, dg, parent, wrote))
	}()

	var peak uint64
	var tags, manifests, blobs int
	v := &CatalogVisitor{
		Repository: func(r *Repository) error {
			tags += len(r.Tags)
			read.repository(r)
			return nil
		},
		Manifest: func(m *Manifest) error {
			manifests++
			read.manifest(m)
			if manifests%100_000 == 0 {
				peak = max(peak, heapInUse())
			}
			return nil
		},
		Blob: func(b Blob) error {
			blobs++
			read.blob(b)
			if blobs%500_000 == 0 {
				peak = max(peak, heapInUse())
			}
			return nil
		},
	}
	r, err := NewReaderOptions(pr, ReaderOptions{Visitor: v})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the catalog: %v, want io.EOF", err)
	}
	if tags != millionTags || manifests != millionTags || blobs != 3*millionTags {
		t.Errorf("read %d tags, %d manifests, %d blobs; want %d, %d, %d", tags, manifests, blobs,
			millionTags, millionTags, 3*millionTags)
	}
	if wrote.sum() != read.sum() {
		t.Error("the elements read differ from those written")
	}
	if r.Catalog().Format != FormatChunked || r.Trailer().CatalogSHA256 != r.CatalogSHA256() {
		t.Errorf("format %q, trailer's catalog sha256 %s, read %s", r.Catalog().Format, r.Trailer().CatalogSHA256, r.CatalogSHA256())
	}
	if written < 1<<30 {
		t.Errorf("the archive is %d bytes; the test means a catalog over 1 GiB", written)
	}
	// The reader keeps the blob plan (48 bytes a blob: 144 MB) and a part.
	if peak > 400<<20 {
		t.Errorf("heap in use reached %d MiB while reading", peak>>20)
	}
	t.Logf("archive %d MiB, heap in use at most %d MiB while reading", written>>20, peak>>20)
}

func writeMillion(w *Writer, head *Catalog, repos, perRepo int, dg func(int, int) string, parent string, h *elemHash) error {
	cw, err := w.BeginCatalog(head)
	if err != nil {
		return err
	}
	for r := range repos {
		// Names in order: zero-padded.
		repo := Repository{Name: fmt.Sprintf("ci/project-%04d", r)}
		for i := r * perRepo; i < (r+1)*perRepo; i++ {
			repo.Layers = append(repo.Layers, dg(1, i), dg(2, i))
			repo.Manifests = append(repo.Manifests, dg(3, i))
			repo.Tags = append(repo.Tags, Tag{Name: "commit-" + strconv.Itoa(1e7+i), Current: dg(3, i), Index: []string{dg(3, i)}})
		}
		h.repository(&repo)
		if err := cw.Repository(&repo); err != nil {
			return err
		}
	}
	for i := range repos * perRepo {
		m := Manifest{Digest: dg(3, i), MediaType: "application/vnd.oci.image.manifest.v1+json", Size: 2000,
			References: []string{dg(2, i), dg(1, i)}}
		h.manifest(&m)
		if err := cw.Manifest(&m); err != nil {
			return err
		}
	}
	for kind := 1; kind <= 3; kind++ {
		for i := range repos * perRepo {
			b := Blob{Digest: dg(kind, i), Size: 1000 + int64(i), Archive: parent}
			h.blob(b)
			if err := cw.Blob(b); err != nil {
				return err
			}
		}
	}
	if err := cw.Close(); err != nil {
		return err
	}
	return w.Close()
}

// elemHash hashes catalog elements in a canonical form, so that what was
// written can be compared with what was read (a repository in pieces
// hashes as a whole: its layers, manifests and tags go to their own
// hashes, per repository name).
type elemHash struct{ repos, lists hash.Hash }

func newElemHash() *elemHash { return &elemHash{repos: sha256.New(), lists: sha256.New()} }

func (h *elemHash) repository(r *Repository) {
	for _, l := range r.Layers {
		h.put(h.repos, r.Name, "L", l)
	}
	for _, m := range r.Manifests {
		h.put(h.repos, r.Name, "M", m)
	}
	for _, t := range r.Tags {
		h.put(h.repos, r.Name, "T", t.Name, t.Current)
		h.put(h.repos, t.Index...)
	}
}

func (h *elemHash) manifest(m *Manifest) {
	h.put(h.lists, m.Digest, m.MediaType, strconv.FormatInt(m.Size, 10))
	h.put(h.lists, m.References...)
}

func (h *elemHash) blob(b Blob) { h.put(h.lists, b.Digest, strconv.FormatInt(b.Size, 10), b.Archive) }

// put hashes ss, each ended by a newline, then an end of record.
func (h *elemHash) put(w hash.Hash, ss ...string) {
	for _, s := range ss {
		io.WriteString(w, s)
		w.Write([]byte{'\n'})
	}
	w.Write([]byte{0})
}

func (h *elemHash) sum() string { return fmt.Sprintf("%x %x", h.repos.Sum(nil), h.lists.Sum(nil)) }

type countingWriter struct {
	w io.Writer
	n *int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	*c.n += int64(n)
	return n, err
}

func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}
