package store

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers/inmemory"
)

// FuzzSidecar feeds arbitrary sidecars to both decoders: neither may
// panic, a sidecar the whole decode accepts is read the same by the fast
// head-only decode (prune and the parent lookup rely on it), and what is
// accepted survives Marshal and ParseMeta unchanged.
func FuzzSidecar(f *testing.F) {
	sum := strings.Repeat("ab", 32)
	seed := &archive.Meta{Format: archive.MetaFormat, Archive: "day2.tar.zst", Created: time.Unix(1700000000, 0).UTC(),
		CatalogSHA256: sum, Compression: archive.Zstd,
		Parents: []archive.Parent{{Name: "day1.tar.zst", CatalogSHA256: strings.Repeat("cd", 32)}},
		Blobs:   []archive.Blob{{Digest: "sha256:" + sum, Size: 10}, {Digest: "sha256:" + strings.Repeat("ef", 32), Size: 3, Archive: "day1.tar.zst"}}}
	data, err := seed.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"format":"regbackup-meta/1"}`))
	f.Add([]byte(`{"blobs":[],"catalog_sha256":"00"}`))
	// In memory: a fuzzer's executions must not wait on a disk.
	d := inmemory.New()
	ref := ArchiveRef{Store: &DriverStore{D: d}, Name: "a.tar.zst"}
	if err := d.Put(f.Context(), ref.Name, bytes.NewReader(nil), 0); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := d.Put(t.Context(), sidecarOf(ref).Name, bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
		whole, werr := readSidecar(t.Context(), ref)
		head, herr := readSidecarHead(t.Context(), ref)
		if werr != nil {
			return
		}
		if herr != nil {
			t.Fatalf("the whole decode accepts the sidecar, the head decode fails: %v", herr)
		}
		if got, want := exported(t, head, false), exported(t, whole, false); !reflect.DeepEqual(got, want) {
			t.Fatalf("head decode %+v\nwhole decode %+v", got, want)
		}
		again, err := whole.Marshal()
		if err != nil {
			t.Fatalf("an accepted sidecar does not marshal: %v", err)
		}
		m, err := archive.ParseMeta(again)
		if err != nil {
			t.Fatalf("a marshalled sidecar is refused: %v", err)
		}
		m.Archive = whole.Archive
		if !reflect.DeepEqual(normalMeta(t, m), normalMeta(t, whole)) {
			t.Fatalf("round trip changed the sidecar:\n%+v\n%+v", m, whole)
		}
	})
}

// normalMeta is m with what JSON does not tell apart made one: an empty
// list and none, a time and the same instant in another zone.
func normalMeta(t testing.TB, m *archive.Meta) archive.Meta {
	n := exported(t, m, true)
	n.Created = n.Created.UTC()
	if len(n.Parents) == 0 {
		n.Parents = nil
	}
	if len(n.Blobs) == 0 {
		n.Blobs = nil
	}
	return n
}
