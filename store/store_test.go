package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/backup"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/inmemory"
	"github.com/regbackup/regbackup/internal/backuptest"
	"github.com/regbackup/regbackup/internal/regtest"
	"github.com/regbackup/regbackup/restore"
)

// localRef is the archive at a local path.
func localRef(path string) ArchiveRef {
	return ArchiveRef{Store: NewLocalStore(filepath.Dir(path)), Name: filepath.Base(path)}
}

// localRefs turns parent name -> path into parent name -> archive.
func localRefs(paths map[string]string) map[string]ArchiveRef {
	out := map[string]ArchiveRef{}
	for k, p := range paths {
		out[k] = localRef(p)
	}
	return out
}

func TestSplitArchiveURL(t *testing.T) {
	for _, tc := range []struct{ arg, folder, name, err string }{
		{"/backups/reg.tar.zst", "/backups", "reg.tar.zst", ""},
		{"reg.tar.zst", ".", "reg.tar.zst", ""},
		{"file:///backups/reg.tar.zst", "/backups", "reg.tar.zst", ""},
		{"s3://bucket/registry/reg-{date}.tar.zst?region=eu-west-1&endpoint=http://h:1/x",
			"s3://bucket/registry?region=eu-west-1&endpoint=http://h:1/x", "reg-{date}.tar.zst", ""},
		{"s3://bucket/reg.tar.zst", "s3://bucket", "reg.tar.zst", ""},
		{"gs://b/a/b/c.tar.zst", "gs://b/a/b", "c.tar.zst", ""},
		{"azure://c/p/r.tar?account=x", "azure://c/p?account=x", "r.tar", ""},
		{"s3://bucket/registry/?region=x", "", "", "give the object name: s3://BUCKET/PREFIX/registry-{date}.tar.zst"},
		{"s3://bucket", "", "", "names no object"},
		{"s3://bucket/..", "", "", "not an object name"},
	} {
		folder, name, err := SplitArchiveURL(tc.arg)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "region=") {
				t.Errorf("%s: err = %v, want one containing %q and no query", tc.arg, err, tc.err)
			}
			continue
		}
		if err != nil || folder != tc.folder || name != tc.name {
			t.Errorf("%s = %q, %q, %v; want %q, %q", tc.arg, folder, name, err, tc.folder, tc.name)
		}
	}
}

// TestArchiveStores runs the same contract on a local folder and on a
// driver: Commit makes a file appear whole, Abort leaves nothing (no
// partial file, no object), missing names are os.ErrNotExist, List keeps
// only direct children.
func TestArchiveStores(t *testing.T) {
	mem := inmemory.New()
	for name, st := range map[string]ArchiveStore{
		"local":  NewLocalStore(t.TempDir()),
		"driver": &DriverStore{D: mem, Base: "inmemory://x"},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			data := bytes.Repeat([]byte("regbackup"), 100000)
			w, err := st.Create(ctx, "a.tar.zst")
			regtest.Must(t, err)
			_, err = w.Write(data)
			regtest.Must(t, err)
			if _, err := st.Stat(ctx, "a.tar.zst"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("before Commit: Stat err = %v, want ErrNotExist", err)
			}
			regtest.Must(t, w.Commit())
			rc, err := st.Open(ctx, "a.tar.zst")
			regtest.Must(t, err)
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("read back %d bytes, %v; want %d", len(got), err, len(data))
			}
			if fi, err := st.Stat(ctx, "a.tar.zst"); err != nil || fi.Size != int64(len(data)) {
				t.Errorf("Stat = %+v, %v", fi, err)
			}

			w, err = st.Create(ctx, "b.tar.zst")
			regtest.Must(t, err)
			_, err = w.Write(data)
			regtest.Must(t, err)
			regtest.Must(t, w.Abort())
			if _, err := st.Open(ctx, "b.tar.zst"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("after Abort: Open err = %v, want ErrNotExist", err)
			}
			if err := st.Delete(ctx, "nope"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("Delete of a missing name: %v, want ErrNotExist", err)
			}
			if name == "driver" {
				regtest.Must(t, mem.Put(ctx, "sub/deeper.tar.zst", strings.NewReader("x"), 1))
			}
			list, err := st.List(ctx)
			regtest.Must(t, err)
			if len(list) != 1 || list[0].Name != "a.tar.zst" {
				t.Errorf("List = %+v, want only a.tar.zst (no partial, no aborted, nothing below)", list)
			}
			regtest.Must(t, st.Delete(ctx, "a.tar.zst"))
			if list, _ := st.List(ctx); len(list) != 0 {
				t.Errorf("after Delete: List = %+v", list)
			}
		})
	}
}

// A Put that fails surfaces from Commit, or from Write when the Put gave
// up before reading everything; nothing appears.
func TestDriverStoreFailedPut(t *testing.T) {
	for _, early := range []bool{false, true} {
		mem := inmemory.New()
		st := &DriverStore{D: failingPut{mem, early}}
		w, err := st.Create(t.Context(), "a.tar.zst")
		regtest.Must(t, err)
		var werr error
		for i := 0; i < 100 && werr == nil; i++ {
			_, werr = w.Write([]byte("data"))
		}
		if early && (werr == nil || !strings.Contains(werr.Error(), "disk on fire")) {
			t.Errorf("Write after an early failed Put = %v, want the Put's error", werr)
		}
		if err := w.Commit(); err == nil || !strings.Contains(err.Error(), "disk on fire") {
			t.Errorf("Commit = %v, want the Put's error", err)
		}
		if _, err := st.Stat(t.Context(), "a.tar.zst"); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after a failed Put: Stat err = %v, want ErrNotExist", err)
		}
	}
}

// failingPut fails every Put, after reading all of it or (early) at once.
type failingPut struct {
	drivers.Driver
	early bool
}

func (f failingPut) Put(ctx context.Context, p string, r io.Reader, size int64) error {
	if !f.early {
		io.Copy(io.Discard, r)
	}
	return errors.New("disk on fire")
}

// An incremental chain kept in an object store works as in a folder:
// FindBase finds the full archive by pattern, the incremental's parent is
// located beside it, the restore succeeds, and Prune keeps the parent a
// kept incremental needs while deleting the rest with their sidecars.
func TestChainInDriverStore(t *testing.T) {
	ctx := t.Context()
	src, _ := regtest.Registry(t)
	mem := inmemory.New()
	st := &DriverStore{D: mem, Base: "inmemory://backups"}
	write := func(name string, base *archive.Meta, now time.Time) {
		data, rep, err := backuptest.Archive(t, src, backup.Options{Base: base, Now: now})
		regtest.Must(t, err)
		w, err := st.Create(ctx, name)
		regtest.Must(t, err)
		_, err = w.Write(data)
		regtest.Must(t, err)
		regtest.Must(t, w.Commit())
		rep.Meta.Size = int64(len(data))
		regtest.Must(t, WriteSidecar(ctx, ArchiveRef{Store: st, Name: name}, rep.Meta))
	}
	day := time.Date(2026, 11, 20, 2, 0, 0, 0, time.Local)
	write("reg-2026-11-19.tar.zst", nil, day.Add(-24*time.Hour))
	write("reg-2026-11-20.tar.zst", nil, day)
	regtest.PushImage(t, src, "team/new", "v1", 1000)
	base, ref, _, err := FindBase(ctx, st, "reg-{date}.tar.zst", "reg-2026-11-21.tar.zst", nil)
	if err != nil || base == nil || ref.Name != "reg-2026-11-20.tar.zst" || ref.String() != "inmemory://backups/reg-2026-11-20.tar.zst" {
		t.Fatalf("FindBase = %v, %s, %v", base, ref, err)
	}
	write("reg-2026-11-21.tar.zst", base, day.Add(24*time.Hour))

	rc, err := st.Open(ctx, "reg-2026-11-21.tar.zst")
	regtest.Must(t, err)
	defer rc.Close()
	ar, err := archive.NewReaderOptions(rc, archive.ReaderOptions{})
	regtest.Must(t, err)
	defer ar.Close()
	f := &ParentFinder{Store: st, Child: "reg-2026-11-21.tar.zst"}
	refs, err := f.LocateAll(ctx, ar.Catalog())
	regtest.Must(t, err)
	if _, err := restore.FromReader(ctx, ar, regtest.Mem(t), restore.Options{Parents: Opener(ctx, refs)}); err != nil {
		t.Fatalf("restore of the incremental from the store: %v", err)
	}

	rep, err := Prune(ctx, PruneOptions{Store: st, Glob: NameGlob("reg-{date}.tar.zst"), Keep: KeepPolicy{Last: 1}})
	regtest.Must(t, err)
	if rep.Deleted != 1 {
		t.Errorf("prune deleted %d, want 1 (the 19th; the 20th is the kept incremental's parent)", rep.Deleted)
	}
	var left []string
	regtest.Must(t, mem.Walk(ctx, "", func(fi drivers.FileInfo) error { left = append(left, fi.Path); return nil }))
	want := "reg-2026-11-20.tar.zst reg-2026-11-20.tar.zst.meta.json reg-2026-11-21.tar.zst reg-2026-11-21.tar.zst.meta.json"
	if strings.Join(left, " ") != want {
		t.Errorf("after prune the store holds %q, want %q", left, want)
	}
}
