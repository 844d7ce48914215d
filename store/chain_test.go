package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/backup"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/internal/backuptest"
	"github.com/regbackup/regbackup/internal/regtest"
	"github.com/regbackup/regbackup/restore"
)

// chainDir writes archives into a folder the way the CLI does: the
// archive, then its sidecar.
type chainDir struct {
	t   *testing.T
	dir string
	ids []age.Identity
	to  []age.Recipient
}

func newChainDir(t *testing.T) *chainDir { return &chainDir{t: t, dir: t.TempDir()} }

// backup writes name from d on top of base (nil: a full backup).
func (c *chainDir) backup(d drivers.Driver, name string, base *archive.Meta, opts backup.Options) (*backup.Report, *archive.Meta) {
	c.t.Helper()
	opts.Base, opts.Recipients = base, c.to
	data, rep, err := backuptest.Archive(c.t, d, opts)
	if err != nil {
		c.t.Fatal(err)
	}
	path := filepath.Join(c.dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		c.t.Fatal(err)
	}
	rep.Meta.Size = int64(len(data))
	if err := WriteSidecar(c.t.Context(), localRef(path), rep.Meta); err != nil {
		c.t.Fatal(err)
	}
	m, err := LoadBase(c.t.Context(), localRef(path), c.ids)
	if err != nil {
		c.t.Fatal(err)
	}
	return rep, m
}

func (c *chainDir) path(name string) string { return filepath.Join(c.dir, name) }

func (c *chainDir) open(name string) *archive.Reader {
	c.t.Helper()
	f, err := os.Open(c.path(name))
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { f.Close() })
	ar, err := archive.NewReaderOptions(f, archive.ReaderOptions{Identities: c.ids})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { ar.Close() })
	return ar
}

// restore restores name, finding its parents beside it, into a new
// registry.
func (c *chainDir) restore(name string, extra ...string) (drivers.Driver, *restore.Report, error) {
	c.t.Helper()
	ar := c.open(name)
	var files []ArchiveRef
	for _, e := range extra {
		files = append(files, localRef(e))
	}
	f := &ParentFinder{Store: NewLocalStore(c.dir), Files: files, Identities: c.ids, Child: name}
	paths, err := f.LocateAll(c.t.Context(), ar.Catalog())
	if err != nil {
		return nil, nil, err
	}
	dst := regtest.Mem(c.t)
	rep, err := restore.FromReader(c.t.Context(), ar, dst, restore.Options{Parents: Opener(c.t.Context(), paths), Identities: c.ids})
	return dst, rep, err
}

func TestIncrementalChainRestores(t *testing.T) {
	src, _ := regtest.Registry(t)
	c := newChainDir(t)
	full, base := c.backup(src, "day1.tar.zst", nil, backup.Options{})
	if len(full.Parents) != 0 || full.InheritedBlobs != 0 {
		t.Fatalf("first backup is incremental: %+v", full.Parents)
	}

	// Day 2: one new image and a tag moved.
	_, newLayer := regtest.PushImage(t, src, "team/new", "v1", 200<<10)
	rep2, base2 := c.backup(src, "day2.tar.zst", base, backup.Options{})
	if rep2.Blobs != 3 || len(rep2.Parents) != 1 || rep2.Parents[0] != "day1.tar.zst" {
		t.Errorf("day 2 wrote %d blobs on top of %v, want the 3 new ones on top of day1", rep2.Blobs, rep2.Parents)
	}
	cat2 := c.open("day2.tar.zst").Catalog()
	if cat2.Format != archive.FormatIncremental || cat2.Parents[0].CatalogSHA256 != base.CatalogSHA256 {
		t.Errorf("day 2 catalog: format %s, parents %+v", cat2.Format, cat2.Parents)
	}

	// Day 3: nothing changed: nothing but the catalog is written, and it
	// needs both earlier archives.
	rep3, _ := c.backup(src, "day3.tar.zst", base2, backup.Options{})
	if rep3.Blobs != 0 || len(rep3.Parents) != 2 {
		t.Errorf("unchanged day 3 wrote %d blobs with parents %v, want 0 and [day2 day1]", rep3.Blobs, rep3.Parents)
	}

	dst, rrep, err := c.restore("day3.tar.zst")
	if err != nil {
		t.Fatalf("restore of the chain: %v", err)
	}
	if got, want := regtest.Tags(t, dst), regtest.Tags(t, src); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("restored tags differ:\n got %v\nwant %v", got, want)
	}
	srcFiles, dstFiles := regtest.Files(t, src, archive.RegistryRoot+"blobs/"), regtest.Files(t, dst, archive.RegistryRoot+"blobs/")
	if dstFiles[archive.BlobPath(newLayer)] != srcFiles[archive.BlobPath(newLayer)] {
		t.Error("the layer only day 2 holds was not restored")
	}
	if rrep.Blobs != len(c.open("day3.tar.zst").Catalog().Blobs) {
		t.Errorf("restored %d blobs, the catalog lists %d", rrep.Blobs, len(c.open("day3.tar.zst").Catalog().Blobs))
	}

	vrep, err := restore.VerifyArchive(t.Context(), c.open("day3.tar.zst"), restore.VerifyOptions{Parents: Opener(t.Context(), localRefs(map[string]string{
		"day1.tar.zst": c.path("day1.tar.zst"), "day2.tar.zst": c.path("day2.tar.zst")}))})
	if err != nil || vrep.Blobs != rrep.Blobs {
		t.Errorf("verify of the chain: %v, %d blobs (restore had %d)", err, vrep.Blobs, rrep.Blobs)
	}
}

func TestIncrementalMissingOrSwappedParent(t *testing.T) {
	src, _ := regtest.Registry(t)
	c := newChainDir(t)
	_, base := c.backup(src, "day1.tar.zst", nil, backup.Options{})
	regtest.PushImage(t, src, "team/new", "v1", 1000)
	c.backup(src, "day2.tar.zst", base, backup.Options{})

	// Missing: the error names it; --parent finds it under another name.
	regtest.Must(t, os.Rename(c.path("day1.tar.zst"), c.path("moved.bin")))
	regtest.Must(t, os.Remove(SidecarPath(c.path("day1.tar.zst"))))
	_, _, err := c.restore("day2.tar.zst")
	if !errors.Is(err, archive.ErrParentMissing) || !strings.Contains(err.Error(), "day1.tar.zst") {
		t.Errorf("missing parent: err = %v, want archive.ErrParentMissing naming day1.tar.zst", err)
	}
	if _, _, err := c.restore("day2.tar.zst", c.path("moved.bin")); err != nil {
		t.Errorf("restore with --parent: %v", err)
	}

	// Swapped: another archive under the parent's name.
	other, _ := regtest.Registry(t)
	regtest.PushImage(t, other, "other/x", "v1", 1000)
	data, _, err := backuptest.Archive(t, other, backup.Options{})
	regtest.Must(t, err)
	regtest.Must(t, os.WriteFile(c.path("day1.tar.zst"), data, 0o600))
	_, _, err = c.restore("day2.tar.zst")
	if !errors.Is(err, archive.ErrParentMismatch) || !strings.Contains(err.Error(), "day1.tar.zst") {
		t.Errorf("swapped parent: err = %v, want archive.ErrParentMismatch naming day1.tar.zst", err)
	}
	// The core checks too, whatever the caller located.
	_, err = restore.FromReader(t.Context(), c.open("day2.tar.zst"), regtest.Mem(t),
		restore.Options{Parents: Opener(t.Context(), localRefs(map[string]string{"day1.tar.zst": c.path("day1.tar.zst")}))})
	if !errors.Is(err, archive.ErrParentMismatch) {
		t.Errorf("core with a swapped parent: err = %v, want archive.ErrParentMismatch", err)
	}
}

// A parent whose blob is damaged fails the restore before any link file
// is written.
func TestIncrementalCorruptParentWritesNoLink(t *testing.T) {
	src, _ := regtest.Registry(t)
	c := newChainDir(t)
	_, base := c.backup(src, "day1.tar", nil, backup.Options{Compression: archive.None})
	regtest.PushImage(t, src, "team/new", "v1", 1000)
	c.backup(src, "day2.tar", base, backup.Options{Compression: archive.None})
	data, err := os.ReadFile(c.path("day1.tar"))
	regtest.Must(t, err)
	// Flip a byte in the largest blob the parent holds.
	var big archive.Blob
	for b := range archive.EachBlob(base.BlobList()) {
		if b.Size > big.Size {
			big = b
		}
	}
	content := regtest.Files(t, src, archive.BlobPath(big.Digest))[archive.BlobPath(big.Digest)]
	i := bytes.Index(data, []byte(content[:256]))
	if i < 0 {
		t.Fatal("blob not found in the plain tar")
	}
	data[i+100] ^= 1
	regtest.Must(t, os.WriteFile(c.path("day1.tar"), data, 0o600))
	dst, _, err := c.restore("day2.tar")
	if !errors.Is(err, archive.ErrDigestMismatch) && !errors.Is(err, archive.ErrCorrupt) {
		t.Fatalf("corrupt parent: err = %v, want an integrity error", err)
	}
	if dst != nil {
		if n := len(regtest.Files(t, dst, archive.RegistryRoot+"repositories/")); n != 0 {
			t.Errorf("%d link files written although a parent was corrupt", n)
		}
	}
}

func TestMaxParentsWritesFull(t *testing.T) {
	src, _ := regtest.Registry(t)
	c := newChainDir(t)
	_, m := c.backup(src, "d1.tar.zst", nil, backup.Options{})
	regtest.PushImage(t, src, "a/b", "v1", 1000)
	_, m = c.backup(src, "d2.tar.zst", m, backup.Options{})
	regtest.PushImage(t, src, "a/c", "v1", 1000)
	rep, _ := c.backup(src, "d3.tar.zst", m, backup.Options{MaxParents: 1})
	if len(rep.Parents) != 0 || rep.InheritedBlobs != 0 {
		t.Errorf("over --max-chain: parents %v, want a full backup", rep.Parents)
	}
	found := false
	for _, p := range rep.Problems {
		found = found || strings.Contains(p.Message, "writing a full backup")
	}
	if !found {
		t.Error("no notice says why a full backup was written")
	}
}

func TestEncryptedChain(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	regtest.Must(t, err)
	src, _ := regtest.Registry(t)
	c := newChainDir(t)
	c.to = []age.Recipient{id.Recipient()}
	// The sidecar lets the next incremental find its base without a key.
	_, base := c.backup(src, "d1.tar.zst", nil, backup.Options{})
	if !base.Encrypted {
		t.Error("sidecar does not say the archive is encrypted")
	}
	regtest.PushImage(t, src, "a/b", "v1", 1000)
	c.backup(src, "d2.tar.zst", base, backup.Options{})
	c.ids = []age.Identity{id}
	if _, _, err := c.restore("d2.tar.zst"); err != nil {
		t.Fatalf("restore of an encrypted chain: %v", err)
	}
	// Without the sidecar, the parent's catalog needs the identity.
	regtest.Must(t, os.Remove(SidecarPath(c.path("d1.tar.zst"))))
	f := &ParentFinder{Store: NewLocalStore(c.dir), Child: "d2.tar.zst"}
	if _, err := f.LocateAll(t.Context(), c.open("d2.tar.zst").Catalog()); !errors.Is(err, archive.ErrEncrypted) {
		t.Errorf("encrypted parent without sidecar or identity: err = %v, want ErrEncrypted", err)
	}
}

func TestFindBase(t *testing.T) {
	src, _ := regtest.Registry(t)
	c := newChainDir(t)
	pattern := "reg-{date}.tar.zst"
	st := NewLocalStore(c.dir)
	if m, _, _, err := FindBase(t.Context(), st, pattern, "", nil); m != nil || err != nil {
		t.Fatalf("empty folder: base %v, err %v", m, err)
	}
	day := time.Date(2026, 11, 20, 2, 0, 0, 0, time.Local)
	c.backup(src, ExpandName("reg-{date}.tar.zst", day), nil, backup.Options{Now: day})
	c.backup(src, ExpandName("reg-{date}.tar.zst", day.Add(48*time.Hour)), nil, backup.Options{Now: day.Add(48 * time.Hour)})
	// Newer by its creation time but under another name pattern: not a candidate.
	c.backup(src, "other-2026-11-25.tar.zst", nil, backup.Options{Now: day.Add(120 * time.Hour)})
	regtest.Must(t, os.WriteFile(c.path("reg-2026-11-21.tar.zst"), []byte("not an archive"), 0o600))
	m, path, notes, err := FindBase(t.Context(), st, pattern, "reg-2026-11-23.tar.zst", nil)
	if err != nil || m == nil || path.Name != "reg-2026-11-22.tar.zst" {
		t.Fatalf("FindBase = %v, %s, %v; want reg-2026-11-22.tar.zst", m, path, err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "reg-2026-11-21.tar.zst") {
		t.Errorf("notes = %q, want one about the file that is not an archive", notes)
	}
	// The file about to be written is never its own base.
	m, path, _, _ = FindBase(t.Context(), st, pattern, "reg-2026-11-22.tar.zst", nil)
	if m == nil || path.Name != "reg-2026-11-20.tar.zst" {
		t.Errorf("excluding the newest: base %s, want reg-2026-11-20.tar.zst", path)
	}
}

func TestNameGlob(t *testing.T) {
	g := NameGlob("/backups/reg[1]-{date}_{time}.tar.zst")
	for name, want := range map[string]bool{
		"reg[1]-2026-11-23_021500.tar.zst": true,
		"reg[1]-2026-11-23_0215.tar.zst":   false,
		"reg1-2026-11-23_021500.tar.zst":   false,
		"reg[1]-latest_021500.tar.zst":     false,
	} {
		if ok, err := path.Match(g, name); ok != want || err != nil {
			t.Errorf("%s matches %s: %v (%v), want %v", name, g, ok, err, want)
		}
	}
	// A backslash in a name is a character like any other, never an
	// escape: archive names are matched with path.Match everywhere.
	g = NameGlob(`/backups/a\b*-{date}.tar.zst`)
	for name, want := range map[string]bool{
		`a\b*-2026-11-23.tar.zst`: true,
		`a\bX-2026-11-23.tar.zst`: false,
		`a\b*-2026-11-2.tar.zst`:  false,
	} {
		if ok, err := path.Match(g, name); ok != want || err != nil {
			t.Errorf("%s matches %s: %v (%v), want %v", name, g, ok, err, want)
		}
	}
	if got := ExpandName("r-{date}-{time}", time.Date(2026, 11, 23, 2, 15, 0, 0, time.Local)); got != "r-2026-11-23-021500" {
		t.Errorf("ExpandName = %s", got)
	}
}

// A parent renamed together with its sidecar is still found by its
// catalog checksum.
func TestRenamedParentFoundBySidecar(t *testing.T) {
	src, _ := regtest.Registry(t)
	c := newChainDir(t)
	_, base := c.backup(src, "day1.tar.zst", nil, backup.Options{})
	regtest.PushImage(t, src, "team/new", "v1", 1000)
	c.backup(src, "day2.tar.zst", base, backup.Options{})
	regtest.Must(t, os.Rename(c.path("day1.tar.zst"), c.path("monday.tar.zst")))
	regtest.Must(t, os.Rename(SidecarPath(c.path("day1.tar.zst")), SidecarPath(c.path("monday.tar.zst"))))
	if _, _, err := c.restore("day2.tar.zst"); err != nil {
		t.Errorf("restore with a renamed parent: %v", err)
	}
}

// failingList is a store whose listing fails, as an object store's does
// when the network does.
type failingList struct{ ArchiveStore }

var errListing = errors.New("connection reset by peer")

func (failingList) List(context.Context) ([]ArchiveInfo, error) { return nil, errListing }

// A listing that fails while looking for a renamed parent is that failure
// (exit 1), not a missing parent (exit 5).
func TestParentLookupListError(t *testing.T) {
	src, _ := regtest.Registry(t)
	c := newChainDir(t)
	_, base := c.backup(src, "day1.tar.zst", nil, backup.Options{})
	regtest.PushImage(t, src, "team/new", "v1", 1000)
	c.backup(src, "day2.tar.zst", base, backup.Options{})
	regtest.Must(t, os.Remove(c.path("day1.tar.zst")))
	ar := c.open("day2.tar.zst")
	f := &ParentFinder{Store: failingList{NewLocalStore(c.dir)}, Child: "day2.tar.zst"}
	_, err := f.LocateAll(t.Context(), ar.Catalog())
	if !errors.Is(err, errListing) || errors.Is(err, archive.ErrParentMissing) {
		t.Fatalf("LocateAll with a failing listing: %v; want the listing's error, not ErrParentMissing", err)
	}
}
