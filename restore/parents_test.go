package restore

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"testing"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/backup"
	"github.com/regbackup/regbackup/integration/sample"
	"github.com/regbackup/regbackup/internal/backuptest"
	"github.com/regbackup/regbackup/internal/regtest"
)

// An incremental archive restores and verifies through its parent, whose
// blobs are found in the incremental's own plan (parentWant), whole and
// for some repositories; another archive in the parent's place fails.
func TestRestoreIncrementalThroughParent(t *testing.T) {
	src := regtest.Mem(t)
	if _, err := sample.Generate(t.Context(), src, sample.Options{Seed: 3, SmallFiles: 40}); err != nil {
		t.Fatal(err)
	}
	full, rep, err := backuptest.Archive(t, src, backup.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep.Meta.Archive = "full.tar.zst"
	if _, err := sample.Generate(t.Context(), src, sample.Options{Seed: 4, SmallFiles: 10}); err != nil {
		t.Fatal(err)
	}
	incr, irep, err := backuptest.Archive(t, src, backup.Options{Base: rep.Meta})
	if err != nil {
		t.Fatal(err)
	}
	if len(irep.Parents) != 1 || irep.InheritedBlobs == 0 {
		t.Fatalf("incremental inherits %d blobs from %v, want some from one parent", irep.InheritedBlobs, irep.Parents)
	}
	parents := func(parent []byte) ParentOpener {
		return func(p archive.Parent) (io.ReadCloser, error) {
			if p.Name != "full.tar.zst" {
				return nil, fmt.Errorf("no parent %s", p.Name)
			}
			return io.NopCloser(bytes.NewReader(parent)), nil
		}
	}
	want := regtest.Tags(t, src)

	dst := regtest.Mem(t)
	if _, err := Restore(t.Context(), bytes.NewReader(incr), dst, Options{Parents: parents(full)}); err != nil {
		t.Fatal(err)
	}
	if got := regtest.Tags(t, dst); !maps.Equal(got, want) {
		t.Errorf("restored %d tags, the source has %d", len(got), len(want))
	}
	for p, c := range regtest.Files(t, dst, archive.RegistryRoot+"repositories/") {
		if _, err := dst.Stat(t.Context(), archive.BlobPath(c)); err != nil {
			t.Errorf("%s links to %s, which was not restored", p, c)
		}
	}

	some := regtest.Mem(t)
	if _, err := Restore(t.Context(), bytes.NewReader(incr), some, Options{Parents: parents(full), Repositories: []string{"small/r0001"}}); err != nil {
		t.Fatal(err)
	}
	for p, c := range regtest.Files(t, some, archive.RegistryRoot+"repositories/") {
		if _, err := some.Stat(t.Context(), archive.BlobPath(c)); err != nil {
			t.Errorf("--repository: %s links to %s, which was not restored", p, c)
		}
	}
	if len(regtest.Tags(t, some)) == 0 {
		t.Error("--repository small/r0001 restored no tag")
	}

	ar, err := archive.NewReader(bytes.NewReader(incr))
	if err != nil {
		t.Fatal(err)
	}
	vrep, err := VerifyArchive(t.Context(), ar, VerifyOptions{Parents: parents(full)})
	ar.Close()
	if err != nil {
		t.Fatal(err)
	}
	if vrep.Blobs != irep.Blobs+irep.InheritedBlobs {
		t.Errorf("verify counts %d blobs, the incremental holds %d and inherits %d", vrep.Blobs, irep.Blobs, irep.InheritedBlobs)
	}

	// Another registry's archive in the parent's place.
	other := regtest.Mem(t)
	if _, err := sample.Generate(t.Context(), other, sample.Options{Seed: 5, SmallFiles: 5}); err != nil {
		t.Fatal(err)
	}
	wrong, _, err := backuptest.Archive(t, other, backup.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(t.Context(), bytes.NewReader(incr), regtest.Mem(t), Options{Parents: parents(wrong)}); err == nil {
		t.Error("restore through the wrong parent succeeded")
	}
}
