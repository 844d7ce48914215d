package regcopy

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"maps"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/filesystem"
	"github.com/regbackup/regbackup/integration/sample"
	"github.com/regbackup/regbackup/internal/regtest"
	"github.com/regbackup/regbackup/problem"
	"github.com/regbackup/regbackup/progress"
	"github.com/regbackup/regbackup/snapshot"
)

// copyTargets are the empty targets each copy test writes into.
func copyTargets(t *testing.T) map[string]func(t *testing.T) drivers.Driver {
	return map[string]func(t *testing.T) drivers.Driver{
		"inmemory": regtest.Mem,
		"filesystem": func(t *testing.T) drivers.Driver {
			d, err := filesystem.New(t.TempDir(), filesystem.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
	}
}

// plannedBlobs is what a snapshot of d plans to copy: every blob a link or
// manifest needs.
func plannedBlobs(t *testing.T, d drivers.Driver) []archive.Blob {
	t.Helper()
	s, err := snapshot.Take(t.Context(), d, snapshot.Options{Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	return s.Planned.Slice()
}

// TestCopy: a copy into an empty target holds every link file of the
// source, byte for byte, and every blob they need, intact, and nothing
// else (no garbage, no upload in progress); a second run copies and writes
// nothing and says all was already there.
func TestCopy(t *testing.T) {
	src, reg := regtest.Registry(t)
	planned := plannedBlobs(t, src)
	for name, newTarget := range copyTargets(t) {
		t.Run(name, func(t *testing.T) {
			dst := newTarget(t)
			rep, err := Copy(t.Context(), src, dst, Options{Concurrency: 3})
			if err != nil {
				t.Fatal(err)
			}
			srcLinks := regtest.Files(t, src, archive.RegistryRoot+"repositories/")
			for p := range srcLinks {
				if strings.Contains(p, "/_uploads/") {
					delete(srcLinks, p)
				}
			}
			if got := regtest.Files(t, dst, archive.RegistryRoot+"repositories/"); !maps.Equal(got, srcLinks) {
				t.Errorf("target holds %d files under repositories/, want the source's %d link files", len(got), len(srcLinks))
			}
			if n := regtest.IntactBlobs(t, dst); n != len(planned) {
				t.Errorf("target holds %d blobs, want the %d the links need", n, len(planned))
			}
			for _, g := range reg.Garbage {
				if _, err := dst.Stat(t.Context(), archive.BlobPath(g)); err == nil {
					t.Errorf("garbage blob %s was copied", g)
				}
			}
			regtest.SameTags(t, dst, reg)
			if rep.Blobs != len(planned) || rep.Skipped != 0 || rep.Links != len(srcLinks) || rep.LinksUnchanged != 0 {
				t.Errorf("first copy: %d blobs, %d skipped, %d links, %d unchanged; want %d, 0, %d, 0",
					rep.Blobs, rep.Skipped, rep.Links, rep.LinksUnchanged, len(planned), len(srcLinks))
			}
			if rep.Tags != len(reg.Tags) || rep.Repositories != len(reg.Repositories) {
				t.Errorf("report: %d tags in %d repositories, want %d in %d", rep.Tags, rep.Repositories, len(reg.Tags), len(reg.Repositories))
			}

			var changes atomic.Int64
			again, err := Copy(t.Context(), src, dst, Options{Concurrency: 3,
				Change: func(string, string) { changes.Add(1) }})
			if err != nil {
				t.Fatal(err)
			}
			if again.Blobs+again.ServerSide != 0 || again.Links != 0 || changes.Load() != 0 {
				t.Errorf("re-run with no change copied %d blobs and wrote %d links (%d changes), want none",
					again.Blobs+again.ServerSide, again.Links, changes.Load())
			}
			if again.Skipped != len(planned) || again.LinksUnchanged != len(srcLinks) {
				t.Errorf("re-run: %d blobs skipped, %d links unchanged; want %d, %d", again.Skipped, again.LinksUnchanged, len(planned), len(srcLinks))
			}
		})
	}
}

// TestCopyDryRun writes nothing and counts what a copy would.
func TestCopyDryRun(t *testing.T) {
	src, _ := regtest.Registry(t)
	planned := plannedBlobs(t, src)
	dst := regtest.Mem(t)
	var would []string
	rep, err := Copy(t.Context(), src, dst, Options{DryRun: true, Change: func(a, p string) { would = append(would, a) }})
	if err != nil {
		t.Fatal(err)
	}
	if got := regtest.Files(t, dst, ""); len(got) != 0 {
		t.Errorf("dry run wrote %d files", len(got))
	}
	if rep.Blobs != len(planned) || rep.Links == 0 || len(would) != rep.Blobs+rep.Links {
		t.Errorf("dry run: would copy %d blobs (want %d), write %d links; %d changes told", rep.Blobs, len(planned), rep.Links, len(would))
	}
}

// TestCopyCorruptSourceBlob: a layer whose content no longer matches its
// digest is reported as damage and never stored at the target (the Put is
// aborted by the verifying reader), nor is its layer link; everything else
// is copied.
func TestCopyCorruptSourceBlob(t *testing.T) {
	for name, newTarget := range copyTargets(t) {
		t.Run(name, func(t *testing.T) {
			src, reg := regtest.Registry(t)
			var bad string
			for p, c := range regtest.Files(t, src, archive.RegistryRoot+"repositories/") {
				if archive.ParsePath(p).Kind == archive.KindLayerLink {
					bad = c
					break
				}
			}
			if err := sample.Corrupt(t.Context(), src, bad); err != nil {
				t.Fatal(err)
			}
			dst := newTarget(t)
			rep, err := Copy(t.Context(), src, dst, Options{})
			if !errors.Is(err, snapshot.ErrDamagedSource) {
				t.Fatalf("copy of a corrupt blob: %v, want snapshot.ErrDamagedSource", err)
			}
			if _, err := dst.Stat(t.Context(), archive.BlobPath(bad)); !errors.Is(err, drivers.ErrNotFound) {
				t.Errorf("the corrupt blob is at the target (stat: %v)", err)
			}
			regtest.IntactBlobs(t, dst)
			if l := regtest.LinksTo(t, dst, bad); len(l) != 0 {
				t.Errorf("links to the corrupt blob were written: %v", l)
			}
			found := false
			for _, p := range rep.Problems {
				found = found || (p.Severity == problem.Damage && p.Digest == bad && strings.Contains(p.Message, "corrupt in the source"))
			}
			if !found {
				t.Errorf("no damage reported for %s: %v", bad, rep.Problems)
			}
			if len(regtest.Tags(t, dst)) != len(reg.Tags) {
				t.Errorf("target has %d tags, want all %d (only a layer is corrupt)", len(regtest.Tags(t, dst)), len(reg.Tags))
			}
		})
	}
}

// TestCopyRepositories copies only the selected repositories and the blobs
// they need.
func TestCopyRepositories(t *testing.T) {
	src, reg := regtest.Registry(t)
	dst := regtest.Mem(t)
	rep, err := Copy(t.Context(), src, dst, Options{Repositories: []string{"team/*"}})
	if err != nil {
		t.Fatal(err)
	}
	for p := range regtest.Files(t, dst, archive.RegistryRoot+"repositories/") {
		if r := archive.ParsePath(p).Repo; !strings.HasPrefix(r, "team/") {
			t.Errorf("copied %s of repository %s", p, r)
		}
	}
	want := 0
	for _, im := range reg.Tags {
		if strings.HasPrefix(im.Repo, "team/") {
			want++
		}
	}
	if got := len(regtest.Tags(t, dst)); got != want || want == 0 || rep.Tags != want {
		t.Errorf("copied %d tags (report %d), want team/*'s %d", got, rep.Tags, want)
	}
	if all := len(plannedBlobs(t, src)); regtest.IntactBlobs(t, dst) >= all {
		t.Errorf("copied all %d blobs for one repository", all)
	}
	if _, err := Copy(t.Context(), src, dst, Options{Repositories: []string{"nope/*"}}); err == nil || !strings.Contains(err.Error(), "no repository") {
		t.Errorf("copy of an unknown repository: %v", err)
	}
}

// TestCopyVerifyExisting: a target blob of the right size but the wrong
// content is taken as is by a plain re-run, and found, reported and copied
// again with VerifyExisting.
func TestCopyVerifyExisting(t *testing.T) {
	src, _ := regtest.Registry(t)
	dst := regtest.Mem(t)
	if _, err := Copy(t.Context(), src, dst, Options{}); err != nil {
		t.Fatal(err)
	}
	bad := plannedBlobs(t, src)[0].Digest
	if err := sample.Corrupt(t.Context(), dst, bad); err != nil {
		t.Fatal(err)
	}
	rep, err := Copy(t.Context(), src, dst, Options{})
	if err != nil || rep.Blobs != 0 {
		t.Fatalf("plain re-run: %d blobs copied, %v; want 0 (same size is taken as present)", rep.Blobs, err)
	}
	rep, err = Copy(t.Context(), src, dst, Options{VerifyExisting: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Replaced != 1 || rep.Blobs != 1 {
		t.Errorf("verify-existing: %d replaced, %d copied; want 1, 1", rep.Replaced, rep.Blobs)
	}
	if len(rep.Problems) != 1 || rep.Problems[0].Digest != bad || !strings.Contains(rep.Problems[0].Message, "copied again") {
		t.Errorf("verify-existing problems: %v", rep.Problems)
	}
	regtest.IntactBlobs(t, dst)
}

// cancelDriver cancels the copy in the middle of the content of the
// fourth blob read once armed (after the snapshot, which reads manifests).
type cancelDriver struct {
	drivers.Driver
	cancel context.CancelFunc
	armed  atomic.Bool
	reads  atomic.Int64
}

func (c *cancelDriver) Reader(ctx context.Context, p string) (io.ReadCloser, error) {
	rc, err := c.Driver.Reader(ctx, p)
	if err != nil || !c.armed.Load() || archive.ParsePath(p).Kind != archive.KindBlob || c.reads.Add(1) != 4 {
		return rc, err
	}
	return &cancelingReader{ReadCloser: rc, cancel: c.cancel}, nil
}

type cancelingReader struct {
	io.ReadCloser
	cancel context.CancelFunc
	n      int
}

func (r *cancelingReader) Read(p []byte) (int, error) {
	if r.n > 0 {
		r.cancel()
		return 0, context.Canceled
	}
	n, err := r.ReadCloser.Read(p[:min(len(p), 10)])
	r.n += n
	return n, err
}

// TestCopyCancelled: a copy cancelled in the middle of a blob leaves no
// partial blob and no temp file at a filesystem target, and no link; a
// re-run completes it.
func TestCopyCancelled(t *testing.T) {
	src, reg := regtest.Registry(t)
	root := t.TempDir()
	dst, err := filesystem.New(root, filesystem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cd := &cancelDriver{Driver: src, cancel: cancel}
	arm := &progress.Progress{Phase: func(name, _ string) { cd.armed.Store(cd.armed.Load() || name == "blobs") }}
	_, err = Copy(ctx, cd, dst, Options{Concurrency: 2, Progress: arm})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled copy: %v, want context.Canceled", err)
	}
	regtest.IntactBlobs(t, dst)
	regtest.NoLinks(t, dst, "cancelled copy")
	filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && filepath.Base(p) != "data" {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})
	rep, err := Copy(t.Context(), src, dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Skipped == 0 || rep.Blobs == 0 {
		t.Errorf("re-run after cancel: %d skipped, %d copied; want some of each", rep.Skipped, rep.Blobs)
	}
	regtest.SameTags(t, dst, reg)
}

// serverCopier is an in-memory target that can copy server-side from
// sources that accept says are its own service.
type serverCopier struct {
	drivers.Driver
	accept bool
	calls  atomic.Int64
}

func (s *serverCopier) CopyFrom(ctx context.Context, dstPath string, src drivers.Driver, srcPath string) error {
	s.calls.Add(1)
	if !s.accept {
		return drivers.ErrNoServerCopy
	}
	rc, err := src.Reader(ctx, srcPath)
	if err != nil {
		return err
	}
	defer rc.Close()
	return s.Put(ctx, dstPath, rc, -1)
}

// TestCopyServerSide: a target that can copy server-side does so for every
// blob; one that says it cannot is asked once, and the copy falls back to
// streaming for every blob.
func TestCopyServerSide(t *testing.T) {
	src, reg := regtest.Registry(t)
	n := len(plannedBlobs(t, src))
	for _, accept := range []bool{true, false} {
		dst := &serverCopier{Driver: regtest.Mem(t), accept: accept}
		rep, err := Copy(t.Context(), src, dst, Options{Concurrency: 1})
		if err != nil {
			t.Fatal(err)
		}
		regtest.SameTags(t, dst, reg)
		switch {
		case accept && (rep.ServerSide != n || rep.Blobs != 0 || dst.calls.Load() != int64(n)):
			t.Errorf("server-side: %d server-side, %d streamed, %d calls; want %d, 0, %d", rep.ServerSide, rep.Blobs, dst.calls.Load(), n, n)
		case !accept && (rep.ServerSide != 0 || rep.Blobs != n || dst.calls.Load() != 1):
			t.Errorf("no server-side: %d server-side, %d streamed, %d calls; want 0, %d, 1", rep.ServerSide, rep.Blobs, dst.calls.Load(), n)
		}
	}
}

// TestCopyObjectStoreRerun: into an object store (a target that hints its
// concurrency), a re-run with nothing new lists the target's blobs and
// links and reads only the tags' current links: no Stat, no Put, and one
// read per tag. A blob deleted at the target is copied again, and a moved
// tag is written.
func TestCopyObjectStoreRerun(t *testing.T) {
	src, reg := regtest.Registry(t)
	dst := regtest.NewLatency(regtest.Mem(t), 0)
	dst.Hint = 4
	if _, err := Copy(t.Context(), src, dst, Options{}); err != nil {
		t.Fatal(err)
	}
	_, firstReads := dst.Stats("read")
	if firstReads > len(reg.Tags) {
		t.Errorf("the first copy into an empty object store read %d files at the target, want at most one per tag (%d): it lists", firstReads, len(reg.Tags))
	}
	dst = regtest.NewLatency(dst.Driver, 0)
	dst.Hint = 4
	rep, err := Copy(t.Context(), src, dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	stats, reads, puts := dst.Requests()
	if stats != 0 || puts != 0 || reads != len(reg.Tags) || rep.Links != 0 {
		t.Errorf("no-change re-run: %d stats, %d puts, %d reads, %d links; want 0, 0, %d (one per tag), 0", stats, puts, reads, rep.Links, len(reg.Tags))
	}

	// A lost blob and a moved tag are noticed.
	planned := plannedBlobs(t, src)
	if err := dst.Driver.Delete(t.Context(), archive.BlobPath(planned[0].Digest)); err != nil {
		t.Fatal(err)
	}
	im := reg.Tags[0]
	tag := archive.RegistryRoot + "repositories/" + im.Repo + "/_manifests/tags/" + im.Tag + "/current/link"
	other := reg.Tags[len(reg.Tags)-1].Digest
	if err := dst.Driver.Put(t.Context(), tag, strings.NewReader(other), int64(len(other))); err != nil {
		t.Fatal(err)
	}
	rep, err = Copy(t.Context(), src, dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Blobs != 1 || rep.Links != 1 {
		t.Errorf("after a lost blob and a changed tag: %d blobs, %d links copied; want 1, 1", rep.Blobs, rep.Links)
	}
	regtest.SameTags(t, dst, reg)
}

// TestCopyVerifyExistingStreams: a target blob that does not match is
// replaced through this process even when the target copies server-side,
// so that a source corrupt in the same way is caught, not copied again.
func TestCopyVerifyExistingStreams(t *testing.T) {
	src, _ := regtest.Registry(t)
	dst := &serverCopier{Driver: regtest.Mem(t), accept: true}
	if _, err := Copy(t.Context(), src, dst, Options{}); err != nil {
		t.Fatal(err)
	}
	bad := plannedBlobs(t, src)[0].Digest
	for _, d := range []drivers.Driver{src, dst.Driver} {
		if err := sample.Corrupt(t.Context(), d, bad); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := Copy(t.Context(), src, dst, Options{VerifyExisting: true})
	if !errors.Is(err, snapshot.ErrDamagedSource) {
		t.Fatalf("verify-existing with a corrupt source: %v, want snapshot.ErrDamagedSource", err)
	}
	if rep.Replaced != 1 || rep.ServerSide != 0 {
		t.Errorf("%d replaced, %d server-side; want 1, 0", rep.Replaced, rep.ServerSide)
	}
}
