package backup_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/backup"
	"github.com/regbackup/regbackup/internal/backuptest"
	"github.com/regbackup/regbackup/internal/regtest"
	"github.com/regbackup/regbackup/restore"
	"github.com/regbackup/regbackup/snapshot"
)

func TestAllBlobsKeepsGarbage(t *testing.T) {
	src, reg := regtest.Registry(t)
	data, _, err := backuptest.Archive(t, src, backup.Options{AllBlobs: true})
	if err != nil {
		t.Fatal(err)
	}
	l, err := restore.List(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if l.Blobs != len(reg.Blobs) {
		t.Errorf("--all-blobs archived %d blobs, storage holds %d", l.Blobs, len(reg.Blobs))
	}
}

func TestMalformedLinksAreReportedAndRepaired(t *testing.T) {
	src, reg := regtest.Registry(t)
	var layer, tag string
	for p := range regtest.Files(t, src, archive.RegistryRoot+"repositories/alpha/") {
		switch archive.ParsePath(p).Kind {
		case archive.KindLayerLink:
			layer = p
		case archive.KindTagCurrentLink:
			tag = p
		}
	}
	good := regtest.Files(t, src, layer)[layer]
	src.Put(t.Context(), layer, strings.NewReader(good+"\n"), -1) // trailing newline
	src.Put(t.Context(), tag, strings.NewReader(""), 0)           // empty
	data, rep, err := backuptest.Archive(t, src, backup.Options{})
	if !errors.Is(err, snapshot.ErrDamagedSource) {
		t.Fatalf("err = %v, want snapshot.ErrDamagedSource", err)
	}
	named := map[string]bool{}
	for _, p := range rep.Problems {
		named[p.Path] = true
	}
	if !named[layer] || !named[tag] {
		t.Errorf("problems %v do not name %s and %s", rep.Problems, layer, tag)
	}
	dst := regtest.Mem(t)
	if _, err := restore.Restore(t.Context(), bytes.NewReader(data), dst, restore.Options{}); err != nil {
		t.Fatal(err)
	}
	got := regtest.Files(t, dst, archive.RegistryRoot)
	if got[layer] != good {
		t.Errorf("layer link restored as %q, want the repaired %q", got[layer], good)
	}
	if _, ok := got[tag]; ok {
		t.Errorf("an empty tag link must be left out, not restored")
	}
	_ = reg
}

// The catalog a backup streams from the snapshot (Snapshot.WriteLists) is
// the one Snapshot.Catalog describes, and the report counts it.
func TestStreamedCatalogIsTheSnapshots(t *testing.T) {
	for _, part := range []int{archive.PartSize, 300} { // one document; a head and parts
		old := archive.PartSize
		archive.PartSize = part
		testStreamedCatalog(t)
		archive.PartSize = old
	}
}

func testStreamedCatalog(t *testing.T) {
	src, _ := regtest.Registry(t)
	data, rep, err := backuptest.Archive(t, src, backup.Options{})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := snapshot.Take(t.Context(), src, snapshot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := snap.Catalog()
	ar, err := archive.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	got := ar.Catalog()
	if archive.PartSize < 1000 && got.Format != archive.FormatChunked {
		t.Errorf("catalog format %s with parts of %d bytes, want %s", got.Format, archive.PartSize, archive.FormatChunked)
	}
	if !reflect.DeepEqual(got.Repositories, want.Repositories) || !reflect.DeepEqual(got.Manifests, want.Manifests) ||
		!reflect.DeepEqual(got.Blobs, want.Blobs) {
		t.Errorf("archived catalog differs from the snapshot's:\n got %+v\nwant %+v", got.Repositories, want.Repositories)
	}
	tags := 0
	for _, r := range want.Repositories {
		tags += len(r.Tags)
	}
	if rep.Repositories != len(want.Repositories) || rep.Tags != tags || rep.Manifests != len(want.Manifests) || tags == 0 {
		t.Errorf("report counts %d repositories, %d tags, %d manifests; the catalog %d, %d, %d",
			rep.Repositories, rep.Tags, rep.Manifests, len(want.Repositories), tags, len(want.Manifests))
	}
}
