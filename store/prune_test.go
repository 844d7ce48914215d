package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"filippo.io/age"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/backup"
	"github.com/regbackup/regbackup/internal/regtest"
)

// fakeArchive writes a file standing for an archive and its sidecar: prune
// reads only the sidecar.
func fakeArchive(t *testing.T, dir, name string, created time.Time, parents ...*archive.Meta) *archive.Meta {
	t.Helper()
	path := filepath.Join(dir, name)
	regtest.Must(t, os.WriteFile(path, []byte("archive "+name), 0o600))
	sum := sha256.Sum256([]byte(name))
	m := &archive.Meta{Format: archive.MetaFormat, Created: created, CatalogSHA256: hex.EncodeToString(sum[:]),
		Compression: archive.Zstd, Size: int64(len("archive " + name)),
		Blobs: []archive.Blob{{Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: 1}}}
	for _, p := range parents {
		m.Parents = append(m.Parents, archive.Parent{Name: p.Archive, CatalogSHA256: p.CatalogSHA256, Created: p.Created})
		m.Blobs = append(m.Blobs, archive.Blob{Digest: "sha256:" + p.CatalogSHA256, Size: 1, Archive: p.Archive})
	}
	regtest.Must(t, WriteSidecar(t.Context(), localRef(path), m))
	return m
}

func kept(rep *PruneReport) []string {
	var out []string
	for _, a := range rep.Archives {
		if a.Keep {
			out = append(out, filepath.Base(a.Path))
		}
	}
	sort.Strings(out)
	return out
}

func present(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	regtest.Must(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// Sixty nightly full backups, 2026-01-01 to 2026-03-01: the restic/borg
// rules keep the newest of each of the last N days, ISO weeks and months.
func TestPrunePolicy(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 1, 1, 2, 0, 0, 0, time.Local)
	for i := range 60 {
		day := start.AddDate(0, 0, i)
		fakeArchive(t, dir, ExpandName("reg-{date}.tar.zst", day), day)
		if i == 59 { // a second run on the last day
			fakeArchive(t, dir, ExpandName("reg-{date}-late.tar.zst", day.Add(time.Hour)), day.Add(time.Hour))
		}
	}
	regtest.Must(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not an archive"), 0o600))
	opts := PruneOptions{Dir: dir, Keep: KeepPolicy{Last: 2, Daily: 3, Weekly: 3, Monthly: 3}, DryRun: true}
	rep, err := Prune(t.Context(), opts)
	regtest.Must(t, err)
	want := []string{
		"reg-2026-01-31.tar.zst", // monthly 2026-01
		"reg-2026-02-15.tar.zst", // weekly 2026-W07 (Sunday)
		"reg-2026-02-22.tar.zst", // weekly 2026-W08
		"reg-2026-02-27.tar.zst", // daily
		"reg-2026-02-28.tar.zst", // daily, monthly 2026-02
		"reg-2026-03-01-late.tar.zst",
		"reg-2026-03-01.tar.zst", // last 2
	}
	if got := kept(rep); !slices.Equal(got, want) {
		t.Errorf("kept %v\nwant %v", got, want)
	}
	if len(rep.Ignored) != 1 || !strings.HasSuffix(rep.Ignored[0].Path, "notes.txt") {
		t.Errorf("ignored = %+v, want notes.txt", rep.Ignored)
	}
	if rep.Deleted != 61-len(want) {
		t.Errorf("would delete %d, want %d", rep.Deleted, 61-len(want))
	}
	if n := len(present(t, dir)); n != 61*2+1 {
		t.Fatalf("dry run changed the folder: %d files", n)
	}
	opts.DryRun = false
	rep, err = Prune(t.Context(), opts)
	regtest.Must(t, err)
	var left []string
	for _, n := range present(t, dir) {
		if !strings.HasSuffix(n, archive.MetaSuffix) {
			left = append(left, n)
		}
	}
	if want := append([]string{"notes.txt"}, want...); !slices.Equal(left, want) {
		t.Errorf("left %v\nwant %v", left, want)
	}
	if n := len(present(t, dir)); n != 2*7+1 {
		t.Errorf("%d files left, want 7 archives with their sidecars and notes.txt", n)
	}
}

// A kept incremental keeps every parent it needs, and their parents, even
// those the rules would delete.
func TestPruneKeepsChains(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 3, 1, 2, 0, 0, 0, time.Local)
	full := fakeArchive(t, dir, "r-01.tar.zst", start)
	d2 := fakeArchive(t, dir, "r-02.tar.zst", start.AddDate(0, 0, 1), full)
	d3 := fakeArchive(t, dir, "r-03.tar.zst", start.AddDate(0, 0, 2), d2) // d2 needs full
	fakeArchive(t, dir, "r-04.tar.zst", start.AddDate(0, 0, 3), d3)
	full2 := fakeArchive(t, dir, "r-05.tar.zst", start.AddDate(0, 0, 4))
	fakeArchive(t, dir, "r-06.tar.zst", start.AddDate(0, 0, 5), full2)
	// r-04 is kept (by name glob and last 3); it needs r-03, which needs r-02, which needs r-01.
	rep, err := Prune(t.Context(), PruneOptions{Dir: dir, Glob: "r-*.tar.zst", Keep: KeepPolicy{Last: 3}})
	regtest.Must(t, err)
	if got := kept(rep); !slices.Equal(got, []string{"r-01.tar.zst", "r-02.tar.zst", "r-03.tar.zst", "r-04.tar.zst", "r-05.tar.zst", "r-06.tar.zst"}) {
		t.Errorf("kept %v, want the whole chain of r-04", got)
	}
	for _, a := range rep.Archives {
		if filepath.Base(a.Path) == "r-01.tar.zst" && !slices.Contains(a.Reasons, "parent of r-02.tar.zst") {
			t.Errorf("r-01 kept for %q, want parent of r-02.tar.zst", a.Reasons)
		}
	}
	// Keep only the newest: r-06 and its full r-05 stay, the old chain goes.
	rep, err = Prune(t.Context(), PruneOptions{Dir: dir, Keep: KeepPolicy{Last: 1}})
	regtest.Must(t, err)
	if got := kept(rep); !slices.Equal(got, []string{"r-05.tar.zst", "r-06.tar.zst"}) {
		t.Errorf("kept %v, want r-05 and r-06", got)
	}
	if n := len(present(t, dir)); n != 4 {
		t.Errorf("%d files left, want 2 archives and their sidecars: %v", n, present(t, dir))
	}
}

// An incremental written under another name (its own -o, or renamed) is
// outside the name pattern: prune never deletes it, and keeps the parents
// it needs although the rules would delete them.
func TestPruneKeepsParentsOfArchivesOutsideThePattern(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 3, 1, 2, 0, 0, 0, time.Local)
	full := fakeArchive(t, dir, "r-01.tar.zst", start)
	fakeArchive(t, dir, "r-02.tar.zst", start.AddDate(0, 0, 1))
	fakeArchive(t, dir, "r-03.tar.zst", start.AddDate(0, 0, 2))
	fakeArchive(t, dir, "hotfix.tar.zst", start.AddDate(0, 0, 1).Add(time.Hour), full) // needs r-01
	regtest.Must(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not an archive"), 0o600))
	rep, err := Prune(t.Context(), PruneOptions{Dir: dir, Glob: "r-*.tar.zst", Keep: KeepPolicy{Last: 1}})
	regtest.Must(t, err)
	if got := kept(rep); !slices.Equal(got, []string{"r-01.tar.zst", "r-03.tar.zst"}) {
		t.Errorf("kept %v, want r-03 (last 1) and r-01, the parent of hotfix.tar.zst", got)
	}
	for _, a := range rep.Archives {
		if filepath.Base(a.Path) == "r-01.tar.zst" && !slices.Contains(a.Reasons, "parent of hotfix.tar.zst") {
			t.Errorf("r-01 kept for %q, want parent of hotfix.tar.zst", a.Reasons)
		}
		if filepath.Base(a.Path) == "hotfix.tar.zst" {
			t.Errorf("the report lists hotfix.tar.zst, which the pattern does not match")
		}
	}
	if len(rep.Ignored) != 0 {
		t.Errorf("ignored %+v: notes.txt is outside the pattern", rep.Ignored)
	}
	left := present(t, dir)
	for _, want := range []string{"r-01.tar.zst", "r-03.tar.zst", "hotfix.tar.zst", "notes.txt"} {
		if !slices.Contains(left, want) {
			t.Errorf("%s was deleted; left %v", want, left)
		}
	}
	if slices.Contains(left, "r-02.tar.zst") {
		t.Errorf("r-02.tar.zst, needed by nothing, was kept")
	}
}

func TestPruneLeftoversAndRefusals(t *testing.T) {
	dir := t.TempDir()
	fakeArchive(t, dir, "r-1.tar.zst", time.Now())
	old, fresh := filepath.Join(dir, ".r-0.tar.zst.partial-0a1b2c"), filepath.Join(dir, ".r-2.tar.zst.partial-0a1b2d")
	orphan := filepath.Join(dir, "r-9.tar.zst"+archive.MetaSuffix)
	foreign := filepath.Join(dir, "x.meta.json")
	for _, p := range []string{old, fresh, foreign} {
		regtest.Must(t, os.WriteFile(p, []byte("x"), 0o600))
	}
	regtest.Must(t, os.Chtimes(old, time.Now().Add(-25*time.Hour), time.Now().Add(-25*time.Hour)))
	data, err := os.ReadFile(SidecarPath(filepath.Join(dir, "r-1.tar.zst")))
	regtest.Must(t, err)
	regtest.Must(t, os.WriteFile(orphan, data, 0o600))
	rep, err := Prune(t.Context(), PruneOptions{Dir: dir, Keep: KeepPolicy{Daily: 1}})
	regtest.Must(t, err)
	if !slices.Equal(rep.Partials, []string{old}) || !slices.Equal(rep.Sidecars, []string{orphan}) {
		t.Errorf("partials %v sidecars %v, want only the day-old partial and the orphan sidecar", rep.Partials, rep.Sidecars)
	}
	for _, p := range []string{fresh, foreign} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed: prune removes only regbackup's own day-old partials and sidecars", p)
		}
	}
	if _, err := Prune(t.Context(), PruneOptions{Dir: dir}); err == nil {
		t.Error("prune without a rule did not refuse")
	}
}

// An encrypted archive without its sidecar: prune cannot learn its
// parents and deletes nothing without the identity.
func TestPruneEncryptedWithoutSidecar(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	regtest.Must(t, err)
	src, _ := regtest.Registry(t)
	c := newChainDir(t)
	c.to = []age.Recipient{id.Recipient()}
	c.backup(src, "r-1.tar.zst", nil, backup.Options{Now: time.Now().Add(-48 * time.Hour)})
	c.backup(src, "r-2.tar.zst", nil, backup.Options{})
	regtest.Must(t, os.Remove(SidecarPath(c.path("r-1.tar.zst"))))
	_, err = Prune(t.Context(), PruneOptions{Dir: c.dir, Keep: KeepPolicy{Last: 1}})
	if !errors.Is(err, archive.ErrEncrypted) || !strings.Contains(err.Error(), "r-1.tar.zst") {
		t.Fatalf("err = %v, want ErrEncrypted naming r-1.tar.zst", err)
	}
	if len(present(t, c.dir)) != 3 {
		t.Fatalf("files deleted although prune failed: %v", present(t, c.dir))
	}
	rep, err := Prune(t.Context(), PruneOptions{Dir: c.dir, Keep: KeepPolicy{Last: 1}, Identities: []age.Identity{id}})
	regtest.Must(t, err)
	if got := kept(rep); !slices.Equal(got, []string{"r-2.tar.zst"}) {
		t.Errorf("kept %v, want r-2.tar.zst", got)
	}
}

// pruneChain writes four real archives, oldest first: a (full), x (full),
// b (incremental on a), c (full), b as opts says (encrypted, uncompressed).
func pruneChain(t *testing.T, bOpts backup.Options, to ...age.Recipient) *chainDir {
	t.Helper()
	src, _ := regtest.Registry(t)
	c := newChainDir(t)
	now := time.Now()
	_, a := c.backup(src, "a.tar.zst", nil, backup.Options{Now: now.Add(-4 * time.Hour)})
	c.backup(src, "x.tar.zst", nil, backup.Options{Now: now.Add(-3 * time.Hour)})
	c.to = to
	bOpts.Now = now.Add(-2 * time.Hour)
	c.backup(src, "b.tar.zst", a, bOpts)
	c.to = nil
	c.backup(src, "c.tar.zst", nil, backup.Options{Now: now.Add(-time.Hour)})
	return c
}

// flakyStore is a local folder whose reads of one file fail as a network
// does: Open fails, or (after >= 0) the stream breaks after that many bytes.
type flakyStore struct {
	*LocalStore
	name  string
	after int
}

var errFlaky = errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: connection reset by peer")

func (s flakyStore) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if name != s.name {
		return s.LocalStore.Open(ctx, name)
	}
	if s.after < 0 {
		return nil, fmt.Errorf("GetObject %s: %w", name, errFlaky)
	}
	rc, err := s.LocalStore.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(io.LimitReader(rc, int64(s.after)), iotest.ErrReader(errFlaky)), rc}, nil
}

// TestPruneDamagedSidecar is issue 10's data loss: b's sidecar is garbage.
// Prune must describe b from its catalog and keep a, b's parent; before,
// it left b alone as unreadable and deleted a.
func TestPruneDamagedSidecar(t *testing.T) {
	for _, garbage := range []string{"garbage\x00\xff", `{"format":"regbackup-meta/1"}`, ""} {
		c := pruneChain(t, backup.Options{})
		regtest.Must(t, os.WriteFile(SidecarPath(c.path("b.tar.zst")), []byte(garbage), 0o600))
		rep, err := Prune(t.Context(), PruneOptions{Dir: c.dir, Keep: KeepPolicy{Last: 2}})
		regtest.Must(t, err)
		if got := kept(rep); !slices.Equal(got, []string{"a.tar.zst", "b.tar.zst", "c.tar.zst"}) {
			t.Errorf("sidecar %q: kept %v, want a (b's parent), b and c; ignored %+v", garbage, got, rep.Ignored)
		}
		if _, err := os.Stat(c.path("a.tar.zst")); err != nil {
			t.Errorf("sidecar %q: b's parent deleted: %v", garbage, err)
		}
		if _, err := os.Stat(c.path("x.tar.zst")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("sidecar %q: x not deleted (%v)", garbage, err)
		}
	}
}

// TestPruneUnreadableDeletesNothing: when an archive's parents cannot be
// learned (neither its sidecar nor its catalog can be read, or a read
// fails), prune stops before deleting anything, with an error naming it.
func TestPruneUnreadableDeletesNothing(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	regtest.Must(t, err)
	for _, tc := range []struct {
		name  string
		opts  backup.Options
		to    []age.Recipient
		setup func(t *testing.T, c *chainDir) ArchiveStore // damages b; the store prune reads
		want  error                                        // nil: any error not an archive sentinel
	}{
		{name: "encrypted-damaged-sidecar", to: []age.Recipient{id.Recipient()}, want: archive.ErrEncrypted,
			setup: func(t *testing.T, c *chainDir) ArchiveStore {
				regtest.Must(t, os.WriteFile(SidecarPath(c.path("b.tar.zst")), []byte("garbage"), 0o600))
				return NewLocalStore(c.dir)
			}},
		{name: "corrupt-catalog-damaged-sidecar", opts: backup.Options{Compression: archive.None}, want: archive.ErrCorrupt,
			setup: func(t *testing.T, c *chainDir) ArchiveStore {
				regtest.Must(t, os.WriteFile(SidecarPath(c.path("b.tar.zst")), []byte("garbage"), 0o600))
				f, err := os.OpenFile(c.path("b.tar.zst"), os.O_WRONLY, 0)
				regtest.Must(t, err)
				defer f.Close()
				_, err = f.WriteAt([]byte("X"), 512) // the catalog's first byte, after its tar header
				regtest.Must(t, err)
				return NewLocalStore(c.dir)
			}},
		{name: "sidecar-read-error", // a sidecar that cannot be read (EISDIR; root ignores permissions)
			setup: func(t *testing.T, c *chainDir) ArchiveStore {
				p := SidecarPath(c.path("b.tar.zst"))
				regtest.Must(t, os.Remove(p))
				regtest.Must(t, os.Mkdir(p, 0o700))
				return NewLocalStore(c.dir)
			}},
		{name: "sidecar-open-fails", want: errFlaky,
			setup: func(t *testing.T, c *chainDir) ArchiveStore {
				return flakyStore{NewLocalStore(c.dir), "b.tar.zst" + archive.MetaSuffix, -1}
			}},
		{name: "archive-open-fails-damaged-sidecar", want: errFlaky,
			setup: func(t *testing.T, c *chainDir) ArchiveStore {
				regtest.Must(t, os.WriteFile(SidecarPath(c.path("b.tar.zst")), []byte("garbage"), 0o600))
				return flakyStore{NewLocalStore(c.dir), "b.tar.zst", -1}
			}},
		{name: "archive-read-breaks-no-sidecar", want: errFlaky,
			setup: func(t *testing.T, c *chainDir) ArchiveStore {
				regtest.Must(t, os.Remove(SidecarPath(c.path("b.tar.zst"))))
				return flakyStore{NewLocalStore(c.dir), "b.tar.zst", 100}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := pruneChain(t, tc.opts, tc.to...)
			st := tc.setup(t, c)
			before := present(t, c.dir)
			rep, err := Prune(t.Context(), PruneOptions{Store: st, Keep: KeepPolicy{Last: 2}})
			switch {
			case err == nil:
				t.Fatalf("prune succeeded, kept %v, ignored %+v; want it to stop", kept(rep), rep.Ignored)
			case !strings.Contains(err.Error(), "b.tar.zst") || !strings.Contains(err.Error(), "nothing deleted"):
				t.Errorf("err = %v, want it to name b.tar.zst and say nothing was deleted", err)
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Errorf("err = %v, want %v", err, tc.want)
			case tc.want == nil && (errors.Is(err, archive.ErrCorrupt) || errors.Is(err, archive.ErrNotRegbackup)):
				t.Errorf("err = %v: a failed read is not a verdict on the archive", err)
			}
			if after := present(t, c.dir); !slices.Equal(after, before) {
				t.Errorf("files deleted although prune failed: %v -> %v", before, after)
			}
		})
	}
	// With the identity the encrypted b is described from its catalog.
	c := pruneChain(t, backup.Options{}, id.Recipient())
	regtest.Must(t, os.WriteFile(SidecarPath(c.path("b.tar.zst")), []byte("garbage"), 0o600))
	rep, err := Prune(t.Context(), PruneOptions{Dir: c.dir, Keep: KeepPolicy{Last: 2}, Identities: []age.Identity{id}})
	regtest.Must(t, err)
	if got := kept(rep); !slices.Equal(got, []string{"a.tar.zst", "b.tar.zst", "c.tar.zst"}) {
		t.Errorf("encrypted b with --identity: kept %v, want a, b and c", got)
	}
}
