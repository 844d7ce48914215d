package archive

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"testing"
	"time"
)

// writeLinks writes an uncompressed archive with a blob and links of the
// given repositories and tags (paths of every length class: a USTAR name,
// a USTAR prefix and name, PAX records), with fastLinks as given.
func writeLinks(t *testing.T, fast bool, created time.Time, repos, tags []string) []byte {
	t.Helper()
	defer func(old bool) { fastLinks = old }(fastLinks)
	fastLinks = fast
	blob := []byte("a blob")
	sum := sha256.Sum256(blob)
	d := "sha256:" + hex.EncodeToString(sum[:])
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{Compression: None})
	must(t, err)
	must(t, w.WriteCatalog(&Catalog{Source: "test", Created: created, Blobs: []Blob{{Digest: d, Size: int64(len(blob))}}}))
	if _, err := w.WriteBlob(d, int64(len(blob)), bytes.NewReader(blob), false); err != nil {
		t.Fatal(err)
	}
	for _, r := range repos {
		must(t, w.WriteLink(LinkPath(KindLayerLink, r, "", d), d))
		must(t, w.WriteLink(LinkPath(KindRevisionLink, r, "", d), d))
		for _, tag := range tags {
			must(t, w.WriteLink(LinkPath(KindTagIndexLink, r, tag, d), d))
			must(t, w.WriteLink(LinkPath(KindTagCurrentLink, r, tag, d), d))
		}
	}
	must(t, w.Close())
	if got, want := w.Trailer().Links, len(repos)*(2+2*len(tags)); got != want {
		t.Fatalf("trailer counts %d links, want %d", got, want)
	}
	return buf.Bytes()
}

// The link entries written from a template are byte for byte archive/tar's,
// for every length of path, including those archive/tar writes with PAX
// records (which go through it).
func TestLinkEntriesAreArchiveTarBytes(t *testing.T) {
	var repos []string
	for n := 1; n <= 255; n += 7 {
		repos = append(repos, strings.Repeat("a", n))
	}
	repos = append(repos, "group/sub/app", strings.Repeat("ab/", 40)+"c", strings.Repeat("x", 120)+"/"+strings.Repeat("y", 60))
	tags := []string{"v", "latest", strings.Repeat("t", 60), strings.Repeat("T", 128)}
	for _, created := range []time.Time{time.Unix(1700000000, 0), time.Unix(0, 0), {}, time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)} {
		fast := writeLinks(t, true, created, repos, tags)
		slow := writeLinks(t, false, created, repos, tags)
		if !bytes.Equal(fast, slow) {
			i := 0
			for i < len(fast) && i < len(slow) && fast[i] == slow[i] {
				i++
			}
			t.Fatalf("created %v: archives differ from byte %d (block %d): %d and %d bytes", created, i, i/tarBlock, len(fast), len(slow))
		}
		// And they read back.
		tr := tar.NewReader(bytes.NewReader(fast))
		n := 0
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			must(t, err)
			if ParsePath(h.Name).Kind.IsLink() {
				n++
			}
		}
		if want := len(repos) * (2 + 2*len(tags)); n != want {
			t.Fatalf("read %d links back, want %d", n, want)
		}
		if _, _, err := readAll(fast); err != nil {
			t.Fatalf("created %v: the archive reader refuses it: %v", created, err)
		}
	}
}

func BenchmarkWriteLink(b *testing.B) {
	d := "sha256:" + strings.Repeat("ab", 32)
	p := LinkPath(KindTagIndexLink, "group/project-name/image", "v1.2.3", d)
	w, err := NewWriter(io.Discard, WriterOptions{Compression: None})
	must(b, err)
	must(b, w.WriteCatalog(&Catalog{Created: time.Now()}))
	for b.Loop() {
		must(b, w.WriteLink(p, d))
	}
}
