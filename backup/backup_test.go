package backup_test

import (
	"bytes"
	"errors"
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
