package restore

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/backup"
	"github.com/regbackup/regbackup/blobio"
	"github.com/regbackup/regbackup/drivers"
	_ "github.com/regbackup/regbackup/drivers/inmemory"
	"github.com/regbackup/regbackup/internal/backuptest"
	"github.com/regbackup/regbackup/internal/regtest"
)

func TestBackupRestoreRoundTrip(t *testing.T) {
	src, reg := regtest.Registry(t)
	data, rep, err := backuptest.Archive(t, src, backup.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tags != len(reg.Tags) {
		t.Errorf("backup saw %d tags, the registry has %d", rep.Tags, len(reg.Tags))
	}
	dst := regtest.Mem(t)
	if _, err := Restore(t.Context(), bytes.NewReader(data), dst, Options{}); err != nil {
		t.Fatal(err)
	}
	got := regtest.Tags(t, dst)
	for _, im := range reg.Tags {
		if got[im.Repo+":"+im.Tag] != im.Digest {
			t.Errorf("%s:%s = %q after restore, want %s", im.Repo, im.Tag, got[im.Repo+":"+im.Tag], im.Digest)
		}
	}
	// Every link file (no uploads) and every referenced blob is identical.
	srcFiles, dstFiles := regtest.Files(t, src, archive.RegistryRoot), regtest.Files(t, dst, archive.RegistryRoot)
	garbage := map[string]bool{}
	for _, g := range reg.Garbage {
		garbage[archive.BlobPath(g)] = true
	}
	for p, c := range srcFiles {
		if strings.Contains(p, "/_uploads/") || garbage[p] {
			if _, ok := dstFiles[p]; ok {
				t.Errorf("%s restored; uploads and garbage must be left out", p)
			}
			continue
		}
		if dstFiles[p] != c {
			t.Errorf("%s differs after restore", p)
		}
	}
	for p := range dstFiles {
		if _, ok := srcFiles[p]; !ok {
			t.Errorf("%s restored but not in the source", p)
		}
	}
}

// orderDriver records the order of Puts.
type orderDriver struct {
	drivers.Driver
	mu   sync.Mutex
	puts []string
}

func (o *orderDriver) Put(ctx context.Context, p string, r io.Reader, size int64) error {
	err := o.Driver.Put(ctx, p, r, size)
	if err == nil {
		o.mu.Lock()
		o.puts = append(o.puts, p)
		o.mu.Unlock()
	}
	return err
}

func TestRestoreWritesInPushOrder(t *testing.T) {
	src, _ := regtest.Registry(t)
	data, _, err := backuptest.Archive(t, src, backup.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dst := &orderDriver{Driver: regtest.Mem(t)}
	if _, err := Restore(t.Context(), bytes.NewReader(data), dst, Options{}); err != nil {
		t.Fatal(err)
	}
	last := archive.KindBlob
	for _, p := range dst.puts {
		k := archive.ParsePath(p).Kind
		if k < last {
			t.Fatalf("%s (%v) written after a %v: want blobs, layer links, revisions, tag index, tags", p, k, last)
		}
		last = k
	}
	if last != archive.KindTagCurrentLink {
		t.Errorf("last write was a %v, want a tag link", last)
	}
}

func TestCorruptArchiveWritesNoLink(t *testing.T) {
	src, _ := regtest.Registry(t)
	data, _, err := backuptest.Archive(t, src, backup.Options{Compression: archive.None})
	if err != nil {
		t.Fatal(err)
	}
	// Flip a byte well inside the blob data (the catalog comes first and
	// links last; the middle of the archive is blob content).
	data[len(data)/2] ^= 0xff
	dst := &orderDriver{Driver: regtest.Mem(t)}
	_, err = Restore(t.Context(), bytes.NewReader(data), dst, Options{})
	if !errors.Is(err, archive.ErrDigestMismatch) && !errors.Is(err, archive.ErrCorrupt) {
		t.Fatalf("restore of a corrupt archive: err = %v, want an integrity error", err)
	}
	for _, p := range dst.puts {
		if archive.ParsePath(p).Kind != archive.KindBlob {
			t.Errorf("%s written from a corrupt archive", p)
		}
	}
	// Every blob that was committed is intact.
	for p, c := range regtest.Files(t, dst, archive.RegistryRoot+"blobs/") {
		if blobio.SHA256Digest([]byte(c)) != archive.ParsePath(p).Digest {
			t.Errorf("%s committed with the wrong content", p)
		}
	}
}

func TestTruncatedArchiveWritesNoLink(t *testing.T) {
	src, _ := regtest.Registry(t)
	data, _, err := backuptest.Archive(t, src, backup.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{len(data) / 2, len(data) - 20} {
		dst := &orderDriver{Driver: regtest.Mem(t)}
		_, err := Restore(t.Context(), bytes.NewReader(data[:cut]), dst, Options{})
		if !errors.Is(err, archive.ErrIncomplete) && !errors.Is(err, archive.ErrCorrupt) {
			t.Fatalf("cut at %d: err = %v, want an integrity error", cut, err)
		}
		for _, p := range dst.puts {
			if archive.ParsePath(p).Kind != archive.KindBlob {
				t.Errorf("cut at %d: %s written from a truncated archive", cut, p)
			}
		}
	}
}

func TestRestoreSkipsPresentBlobs(t *testing.T) {
	src, _ := regtest.Registry(t)
	data, _, err := backuptest.Archive(t, src, backup.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dst := regtest.Mem(t)
	first, err := Restore(t.Context(), bytes.NewReader(data), dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	second, err := Restore(t.Context(), bytes.NewReader(data), dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if second.Blobs != 0 || second.Skipped != first.Blobs || second.Links != 0 {
		t.Errorf("second restore wrote %d blobs and %d links, skipped %d; want 0, 0, %d",
			second.Blobs, second.Links, second.Skipped, first.Blobs)
	}
}

func TestRestoreRepositorySubset(t *testing.T) {
	src, reg := regtest.Registry(t)
	data, _, err := backuptest.Archive(t, src, backup.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dst := regtest.Mem(t)
	if _, err := Restore(t.Context(), bytes.NewReader(data), dst, Options{Repositories: []string{"group/*/*"}}); err != nil {
		t.Fatal(err)
	}
	got := regtest.Tags(t, dst)
	for _, im := range reg.Tags {
		_, ok := got[im.Repo+":"+im.Tag]
		if want := im.Repo == "group/sub/app"; ok != want {
			t.Errorf("%s:%s restored = %v, want %v", im.Repo, im.Tag, ok, want)
		}
	}
	// Every blob the restored repository links to is there.
	for p, c := range regtest.Files(t, dst, archive.RegistryRoot+"repositories/") {
		if _, err := dst.Stat(t.Context(), archive.BlobPath(c)); err != nil {
			t.Errorf("%s links to %s, which was not restored", p, c)
		}
	}
	if _, err := Restore(t.Context(), bytes.NewReader(data), dst, Options{Repositories: []string{"nope"}}); err == nil {
		t.Error("a glob matching nothing must be an error")
	}
}

func TestRestoreCleanAndDryRun(t *testing.T) {
	src, _ := regtest.Registry(t)
	data, _, err := backuptest.Archive(t, src, backup.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dst := regtest.Mem(t)
	if _, err := Restore(t.Context(), bytes.NewReader(data), dst, Options{}); err != nil {
		t.Fatal(err)
	}
	junk := []string{
		archive.RegistryRoot + "repositories/extra/_manifests/tags/x/current/link",
		archive.BlobPath("sha256:" + strings.Repeat("ee", 32)),
	}
	for _, p := range junk {
		if err := dst.Put(t.Context(), p, strings.NewReader("junk"), 4); err != nil {
			t.Fatal(err)
		}
	}
	outside := "lost+found/keep"
	dst.Put(t.Context(), outside, strings.NewReader("x"), 1)
	before := regtest.Files(t, dst, "")
	var would []string
	rep, err := Restore(t.Context(), bytes.NewReader(data), dst, Options{Clean: true, DryRun: true,
		Change: func(a, p string) {
			if a == "remove" {
				would = append(would, p)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(regtest.Files(t, dst, "")) != len(before) || rep.Removed != len(junk) || len(would) != len(junk) {
		t.Errorf("dry run: would remove %v (%d), want %v, and nothing changed", would, rep.Removed, junk)
	}
	if _, err := Restore(t.Context(), bytes.NewReader(data), dst, Options{Clean: true}); err != nil {
		t.Fatal(err)
	}
	for _, p := range junk {
		if _, err := dst.Stat(t.Context(), p); !errors.Is(err, drivers.ErrNotFound) {
			t.Errorf("--clean left %s", p)
		}
	}
	if _, err := dst.Stat(t.Context(), outside); err != nil {
		t.Errorf("--clean touched %s outside docker/registry/v2: %v", outside, err)
	}
}
