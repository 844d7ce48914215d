package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/backup"
	"github.com/regbackup/regbackup/internal/regtest"
)

// TestSidecarHeadIsSidecarWithoutBlobs checks readSidecarHead against
// readSidecar on the sidecar of an incremental archive (with parents),
// and on the same sidecar with its members in another order, corrupt or
// describing another file.
func TestSidecarHeadIsSidecarWithoutBlobs(t *testing.T) {
	c := newChainDir(t)
	d := regtest.Mem(t)
	regtest.PushImage(t, d, "app", "v1", 1000)
	_, full := c.backup(d, "day1.tar.zst", nil, backup.Options{})
	regtest.PushImage(t, d, "app", "v2", 1000)
	_, inc := c.backup(d, "day2.tar.zst", full, backup.Options{})
	if len(inc.Parents) == 0 || inc.BlobList().Len() == 0 {
		t.Fatalf("day2 has %d parents and %d blobs, want some of each", len(inc.Parents), inc.BlobList().Len())
	}
	path := c.path("day2.tar.zst")
	whole, err := readSidecar(t.Context(), localRef(path))
	if err != nil {
		t.Fatal(err)
	}
	head, err := readSidecarHead(t.Context(), localRef(path))
	if err != nil {
		t.Fatal(err)
	}
	want := exported(t, whole, false)
	if !whole.HasManifests() {
		t.Errorf("day2's sidecar describes no manifests")
	}
	if got := exported(t, head, false); !reflect.DeepEqual(got, want) {
		t.Fatalf("head = %+v\nwant   %+v", got, want)
	}

	sidecar := SidecarPath(path)
	original, err := os.ReadFile(sidecar)
	if err != nil {
		t.Fatal(err)
	}
	rewrite := func(edit func(map[string]any)) {
		t.Helper()
		var doc map[string]any // encoding/json writes map keys sorted: "blobs" before "catalog_sha256"
		regtest.Must(t, json.Unmarshal(original, &doc))
		edit(doc)
		data, err := json.Marshal(doc)
		regtest.Must(t, err)
		regtest.Must(t, os.WriteFile(sidecar, data, 0o600))
	}
	rewrite(func(map[string]any) {})
	if got, err := readSidecarHead(t.Context(), localRef(path)); err != nil || got.CatalogSHA256 != whole.CatalogSHA256 || len(got.Parents) != len(whole.Parents) {
		t.Errorf("sidecar with blobs first: head = %+v, %v; want it decoded whole", got, err)
	}
	regtest.Must(t, os.WriteFile(sidecar, []byte(strings.Replace(string(original), whole.CatalogSHA256, "f00d", 1)), 0o600))
	if _, err := readSidecarHead(t.Context(), localRef(path)); !errors.Is(err, archive.ErrCorrupt) {
		t.Errorf("sidecar with a bad checksum: err = %v, want ErrCorrupt", err)
	}
	rewrite(func(doc map[string]any) { doc["format"] = "other/1" })
	if _, err := readSidecarHead(t.Context(), localRef(path)); !errors.Is(err, archive.ErrCorrupt) {
		t.Errorf("sidecar of another format: err = %v, want ErrCorrupt", err)
	}
	rewrite(func(doc map[string]any) { doc["size"] = whole.Size + 1 })
	if _, err := readSidecarHead(t.Context(), localRef(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("sidecar of another file size: err = %v, want one wrapping os.ErrNotExist (ignored)", err)
	}
}

func TestJSONHead(t *testing.T) {
	for _, c := range []struct{ in, head string }{
		{`{"a":1,"b":[2],"blobs":[3],"c":4}`, `{"a":1,"b":[2]}`},
		{` { "blobs" : [] } `, ` { }`},
		{`{"a":{"blobs":1},"blobs":[]}`, `{"a":{"blobs":1}}`},
		{`{"a":1}`, ``},
		{`[1]`, ``},
		{`{"a":`, ``},
	} {
		head, ok := jsonHead([]byte(c.in), "blobs")
		if string(head) != c.head || ok != (c.head != "") {
			t.Errorf("jsonHead(%s) = %q, %v; want %q", c.in, head, ok, c.head)
		}
	}
}

// exported is m as its JSON tells it: its exported members, with lists
// its blob list and manifests loaded (readSidecar streams them).
func exported(t testing.TB, m *archive.Meta, lists bool) archive.Meta {
	t.Helper()
	n := archive.Meta{Format: m.Format, Archive: m.Archive, Created: m.Created, CatalogSHA256: m.CatalogSHA256,
		Encrypted: m.Encrypted, Compression: m.Compression, Size: m.Size, Parents: m.Parents}
	if lists {
		regtest.Must(t, m.Load())
		n.Blobs = slices.Collect(archive.EachBlob(m.BlobList()))
		n.MediaTypes, n.Manifests = m.MediaTypes, m.Manifests
	}
	return n
}

// countingStore counts the bytes read through its Open.
type countingStore struct {
	ArchiveStore
	read atomic.Int64
}

func (s *countingStore) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	rc, err := s.ArchiveStore.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.TeeReader(rc, writerFunc(func(p []byte) (int, error) { s.read.Add(int64(len(p))); return len(p), nil })), rc}, nil
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestSidecarHeadReadsTheHeadOnly: ordering archives, identifying them and
// following their parents reads a sidecar's first bytes, not its blob list
// (some 300 MB at a million tags); the whole sidecar is read as a stream.
func TestSidecarHeadReadsTheHeadOnly(t *testing.T) {
	dir := t.TempDir()
	st := &countingStore{ArchiveStore: NewLocalStore(dir)}
	ref := ArchiveRef{Store: st, Name: "big.tar.zst"}
	regtest.Must(t, os.WriteFile(filepath.Join(dir, ref.Name), []byte("archive"), 0o600))
	m := &archive.Meta{Format: archive.MetaFormat, CatalogSHA256: strings.Repeat("c", 64), Compression: archive.Zstd, Size: 7}
	for i := range 50000 {
		m.Blobs = append(m.Blobs, archive.Blob{Digest: fmt.Sprintf("sha256:%064x", i), Size: int64(i)})
	}
	regtest.Must(t, WriteSidecar(t.Context(), ref, m))
	fi, err := os.Stat(filepath.Join(dir, ref.Name+archive.MetaSuffix))
	regtest.Must(t, err)
	if fi.Size() < 4*sidecarHeadBytes {
		t.Fatalf("the sidecar is %d bytes: too small to show anything", fi.Size())
	}
	head, err := readSidecarHead(t.Context(), ref)
	regtest.Must(t, err)
	if n := st.read.Load(); n > sidecarHeadBytes || head.CatalogSHA256 != m.CatalogSHA256 {
		t.Errorf("the head read %d bytes of %d (catalog %s)", n, fi.Size(), head.CatalogSHA256)
	}
	st.read.Store(0)
	whole, err := readSidecar(t.Context(), ref)
	regtest.Must(t, err)
	if n := st.read.Load(); n != fi.Size() {
		t.Errorf("the whole sidecar read %d bytes of %d", n, fi.Size())
	}
	if whole.BlobList().Len() != len(m.Blobs) {
		t.Errorf("%d blobs read, want %d", whole.BlobList().Len(), len(m.Blobs))
	}
}
