package archive

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

type sample struct {
	blobs map[string][]byte
	order []string
	link  string // a layer link path
}

func newSample(t testing.TB) *sample { return newSampleSizes(0, 1, 1000, 300<<10) }

func newSampleSizes(sizes ...int) *sample {
	rng := rand.New(rand.NewSource(1))
	s := &sample{blobs: map[string][]byte{}}
	for _, n := range sizes {
		b := make([]byte, n)
		rng.Read(b)
		d := digestOf(b)
		s.blobs[d] = b
		s.order = append(s.order, d)
	}
	return s
}

// write builds a complete archive holding the sample's blobs, one layer
// link per blob and one included file.
func (s *sample) write(t testing.TB, c Compression) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{Compression: c})
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("-----BEGIN PRIVATE KEY-----\nxyz\n")
	sum := sha256.Sum256(key)
	f := File{Path: "/certs/registry.key", Entry: FilesRoot + "certs/registry.key", Mode: 0o600,
		Size: int64(len(key)), SHA256: hex.EncodeToString(sum[:])}
	cat := &Catalog{Source: "test", Created: time.Unix(1700000000, 0), Files: []File{f},
		Repositories: []Repository{{Name: "group/app"}}}
	for _, d := range s.order {
		cat.Blobs = append(cat.Blobs, Blob{Digest: d, Size: int64(len(s.blobs[d]))})
	}
	must(t, w.WriteCatalog(cat))
	for _, d := range s.order {
		if _, err := w.WriteBlob(d, int64(len(s.blobs[d])), bytes.NewReader(s.blobs[d]), len(s.blobs[d]) > 1000); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range s.order {
		must(t, w.WriteLink(LinkPath(KindLayerLink, "group/app", "", d), d))
	}
	must(t, w.WriteFile(f, key))
	must(t, w.Close())
	return buf.Bytes()
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// readAll reads an archive to the end and returns the blobs it yielded.
func readAll(data []byte) (map[string][]byte, *Reader, error) {
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	got := map[string][]byte{}
	for {
		e, err := r.Next()
		if err == io.EOF {
			return got, r, nil
		}
		if err != nil {
			return got, r, err
		}
		if e.Path.Kind == KindBlob {
			b, err := io.ReadAll(e.Body)
			if err != nil {
				return got, r, err
			}
			got[e.Path.Digest] = b
		}
	}
}

func TestRoundTrip(t *testing.T) {
	s := newSample(t)
	for _, c := range []Compression{Zstd, Gzip, None} {
		t.Run(string(c), func(t *testing.T) {
			data := s.write(t, c)
			got, r, err := readAll(data)
			if err != nil {
				t.Fatal(err)
			}
			if r.Compression() != c {
				t.Errorf("detected %s, wrote %s", r.Compression(), c)
			}
			for d, b := range s.blobs {
				if !bytes.Equal(got[d], b) {
					t.Errorf("blob %s: content differs after the round trip", d)
				}
			}
			if tr := r.Trailer(); tr == nil || tr.Blobs != 4 || tr.Links != 4 || tr.Files != 1 {
				t.Errorf("trailer = %+v", tr)
			}
		})
	}
}

// GNU tar must read the archive and extract the registry's own paths: the
// emergency path needs no regbackup.
func TestGNUTarExtracts(t *testing.T) {
	if _, err := exec.LookPath("tar"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("GNU tar not installed")
		}
		t.Skip("GNU tar not installed")
	}
	data := newSample(t).write(t, None)
	dir := t.TempDir()
	cmd := exec.Command("tar", "-x", "-C", dir)
	cmd.Stdin = bytes.NewReader(data)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tar -x: %v\n%s", err, out)
	}
	s := newSample(t)
	for d, b := range s.blobs {
		got, err := os.ReadFile(filepath.Join(dir, BlobPath(d)))
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("tar -x: blob %s not extracted intact: %v", d, err)
		}
	}
}

func TestFlippedByteIsDetected(t *testing.T) {
	s := newSample(t)
	data := s.write(t, None)
	big := s.blobs[s.order[3]]
	i := bytes.Index(data, big[:64])
	if i < 0 {
		t.Fatal("blob not found in the plain tar")
	}
	data[i+1000] ^= 0x01
	_, r, err := readAll(data)
	if !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("flipped byte: err = %v, want ErrDigestMismatch", err)
	}
	if r != nil && r.Trailer() != nil {
		t.Error("reader accepted the trailer of a corrupt archive")
	}
}

func TestTruncatedArchive(t *testing.T) {
	s := newSample(t)
	for _, c := range []Compression{Zstd, Gzip, None} {
		data := s.write(t, c)
		for _, cut := range []int{len(data) / 3, len(data) - 700, len(data) - 1} {
			_, _, err := readAll(data[:cut])
			if !errors.Is(err, ErrIncomplete) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotRegbackup) {
				t.Errorf("%s cut at %d of %d: err = %v, want an integrity error", c, cut, len(data), err)
			}
		}
	}
}

func TestBackupWithoutTrailerIsIncomplete(t *testing.T) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, WriterOptions{Compression: None})
	must(t, w.WriteCatalog(&Catalog{Created: time.Now()}))
	w.Abort()
	// A writer that never closed leaves no tar end either; simulate the
	// worst case, a stream that ends cleanly after the catalog.
	tw := tar.NewWriter(&buf)
	tw.Close()
	_, _, err := readAll(buf.Bytes())
	if !errors.Is(err, ErrIncomplete) {
		t.Fatalf("err = %v, want ErrIncomplete", err)
	}
}

func hostile(t *testing.T, hdr *tar.Header, body string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	cat := []byte(`{"format":"regbackup/1"}`)
	must(t, tw.WriteHeader(&tar.Header{Name: CatalogName, Typeflag: tar.TypeReg, Size: int64(len(cat)), Mode: 0o644}))
	tw.Write(cat)
	hdr.Size = int64(len(body))
	if hdr.Typeflag != tar.TypeReg {
		hdr.Size = 0
		body = ""
	}
	must(t, tw.WriteHeader(hdr))
	tw.Write([]byte(body))
	tw.Close()
	return buf.Bytes()
}

func TestHostileEntries(t *testing.T) {
	cases := map[string]*tar.Header{
		"dotdot":       {Name: "docker/registry/v2/../../../etc/passwd", Typeflag: tar.TypeReg},
		"dotdot-start": {Name: "../evil", Typeflag: tar.TypeReg},
		"absolute":     {Name: "/etc/passwd", Typeflag: tar.TypeReg},
		"outside":      {Name: "etc/cron.d/evil", Typeflag: tar.TypeReg},
		"symlink":      {Name: "docker/registry/v2/blobs", Typeflag: tar.TypeSymlink, Linkname: "/etc"},
		"hardlink":     {Name: "docker/registry/v2/x", Typeflag: tar.TypeLink, Linkname: "/etc/shadow"},
		"device":       {Name: "docker/registry/v2/dev", Typeflag: tar.TypeChar},
		"unknown-path": {Name: "docker/registry/v2/repositories/a/_uploads/x/data", Typeflag: tar.TypeReg},
		"meta":         {Name: ".regbackup/run.sh", Typeflag: tar.TypeReg},
	}
	for name, hdr := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := readAll(hostile(t, hdr, "sha256:0000"))
			if !errors.Is(err, ErrUnsafePath) {
				t.Fatalf("err = %v, want ErrUnsafePath", err)
			}
		})
	}
}

func TestLinkToMissingBlobRejected(t *testing.T) {
	d := "sha256:" + strings.Repeat("ab", 32)
	hdr := &tar.Header{Name: LinkPath(KindLayerLink, "a", "", d), Typeflag: tar.TypeReg}
	_, _, err := readAll(hostile(t, hdr, d))
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
}

func TestNotRegbackup(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "./docker/registry/v2/x", Typeflag: tar.TypeReg})
	tw.Close()
	if _, err := NewReader(&buf); !errors.Is(err, ErrNotRegbackup) {
		t.Fatalf("err = %v, want ErrNotRegbackup", err)
	}
}

func TestCorruptBlobExplainedByTrailer(t *testing.T) {
	good := []byte("good content")
	d := digestOf([]byte("what the path promises"))
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, WriterOptions{Compression: Zstd})
	must(t, w.WriteCatalog(&Catalog{Created: time.Now(), Blobs: []Blob{{Digest: d, Size: int64(len(good))}}}))
	if _, err := w.WriteBlob(d, int64(len(good)), bytes.NewReader(good), false); err != nil {
		t.Fatal(err)
	}
	w.MarkCorrupt(d, "source blob damaged")
	must(t, w.Close())
	_, r, err := readAll(buf.Bytes())
	if err != nil && !errors.Is(err, ErrDigestMismatch) {
		t.Fatal(err)
	}
	// Reading the body reports the mismatch to the consumer, but the
	// archive as a whole is valid: the trailer explains it.
	r2, _ := NewReader(bytes.NewReader(buf.Bytes()))
	for {
		_, err := r2.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
	}
	if len(r2.Mismatches()) != 1 || r == nil {
		t.Fatalf("mismatches = %v", r2.Mismatches())
	}
}

func TestParsePath(t *testing.T) {
	hex := strings.Repeat("0a", 32)
	ok := map[string]Kind{
		"docker/registry/v2/blobs/sha256/0a/" + hex + "/data":                                    KindBlob,
		"docker/registry/v2/repositories/group/sub/app/_layers/sha256/" + hex + "/link":          KindLayerLink,
		"docker/registry/v2/repositories/a/_manifests/revisions/sha256/" + hex + "/link":         KindRevisionLink,
		"docker/registry/v2/repositories/a/_manifests/tags/v1.0/current/link":                    KindTagCurrentLink,
		"docker/registry/v2/repositories/a/_manifests/tags/latest/index/sha256/" + hex + "/link": KindTagIndexLink,
	}
	for p, k := range ok {
		if got := ParsePath(p); got.Kind != k {
			t.Errorf("ParsePath(%q) = %v, want %v", p, got.Kind, k)
		}
	}
	bad := []string{
		"docker/registry/v2/blobs/sha256/0b/" + hex + "/data",
		"docker/registry/v2/repositories/a/_uploads/x/data",
		"docker/registry/v2/repositories/_a/_layers/sha256/" + hex + "/link",
		"docker/registry/v2/repositories/A/_layers/sha256/" + hex + "/link",
		"docker/registry/v2/repositories/a/_manifests/tags/v1/current/link.1234.tmp",
		"docker/registry/v2/repositories/../_layers/sha256/" + hex + "/link",
	}
	for _, p := range bad {
		if got := ParsePath(p); got.Kind != KindUnknown {
			t.Errorf("ParsePath(%q) = %v, want unknown", p, got.Kind)
		}
	}
	if got := ParsePath("docker/registry/v2/repositories/group/sub/app/_layers/sha256/" + hex + "/link"); got.Repo != "group/sub/app" {
		t.Errorf("nested repo = %q", got.Repo)
	}
}

func TestParseLink(t *testing.T) {
	d := "sha256:" + strings.Repeat("0a", 32)
	if got, err := ParseLink([]byte(d)); err != nil || got != d {
		t.Errorf("ParseLink(good) = %q, %v", got, err)
	}
	for _, bad := range []string{"", d + "\n", "sha256:xyz", strings.ToUpper(d)} {
		if _, err := ParseLink([]byte(bad)); err == nil {
			t.Errorf("ParseLink(%q) accepted", bad)
		}
	}
}

// Already-compressed blobs are stored verbatim in raw zstd frames, and the
// stream of mixed frames is still one zstd stream for the zstd tool.
func TestCompressedBlobsAreStoredRaw(t *testing.T) {
	s := newSample(t)
	data := s.write(t, Zstd)
	big := s.blobs[s.order[3]]
	if !bytes.Contains(data, big[:rawBlockMax]) {
		t.Fatal("an already-compressed blob was not stored verbatim in the zstd stream")
	}
	if _, err := exec.LookPath("zstd"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("zstd not installed (run integration/setup.sh)")
		}
		t.Skip("zstd not installed")
	}
	dir := t.TempDir()
	cmd := exec.Command("sh", "-c", "zstd -d -q | tar -x -C "+dir)
	cmd.Stdin = bytes.NewReader(data)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("zstd -d | tar -x: %v\n%s", err, out)
	}
	for d, b := range s.blobs {
		got, err := os.ReadFile(filepath.Join(dir, BlobPath(d)))
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("zstd -d | tar -x: blob %s not extracted intact: %v", d, err)
		}
	}
}

func TestLooksCompressed(t *testing.T) {
	for _, head := range [][]byte{{0x1f, 0x8b, 8}, {0x28, 0xb5, 0x2f, 0xfd, 1}, []byte("BZh9")} {
		if !LooksCompressed(head) {
			t.Errorf("LooksCompressed(%x) = false", head)
		}
	}
	for _, head := range [][]byte{nil, {0x1f}, []byte(`{"schemaVersion":2}`)} {
		if LooksCompressed(head) {
			t.Errorf("LooksCompressed(%q) = true", head)
		}
	}
}

// A sparse catalog header would expand to a gigabyte of zeros the stream
// does not hold: it is refused before anything is read.
func TestSparseCatalogRefused(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	must(t, tw.WriteHeader(&tar.Header{Name: CatalogName, Typeflag: tar.TypeReg, Size: 2, Format: tar.FormatPAX,
		PAXRecords: map[string]string{"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": CatalogName, "GNU.sparse.realsize": "1000000000"}}))
	tw.Write([]byte("{}"))
	tw.Close()
	if _, err := NewReader(&buf); err == nil {
		t.Fatal("a sparse catalog was accepted")
	}
}
