package store

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
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
