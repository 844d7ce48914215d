package snapshot

import (
	"context"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/filesystem"
	"github.com/regbackup/regbackup/integration/sample"
	"github.com/regbackup/regbackup/internal/regtest"
	"github.com/regbackup/regbackup/problem"
)

// TestSnapshotSameOnEveryWalk takes the snapshot of one damaged registry
// twice: on the filesystem, which reads link files as it walks
// (drivers.WalkReader), and in memory, which walks and then reads each through
// Reader. Both must find the same links, problems and catalog.
func TestSnapshotSameOnEveryWalk(t *testing.T) {
	fsd, err := filesystem.New(t.TempDir(), filesystem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := drivers.Driver(fsd).(drivers.WalkReader); !ok {
		t.Fatal("the filesystem driver no longer reads link files as it walks (drivers.WalkReader)")
	}
	mem := regtest.Mem(t)
	var snaps []*Snapshot
	var damaged []string
	for _, d := range []drivers.Driver{fsd, mem} {
		if _, err := sample.Generate(t.Context(), d, sample.Options{Seed: 7}); err != nil {
			t.Fatal(err)
		}
		damaged = damageLinks(t, d)
		s, err := Take(t.Context(), d, Options{Concurrency: 3})
		if err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, s)
	}
	fs, m := snaps[0], snaps[1]
	if !slices.Equal(linkLines(fs.Links), linkLines(m.Links)) {
		t.Errorf("links differ:\n filesystem %v\n in memory  %v", fs.Links, m.Links)
	}
	if got, want := problemLines(fs), problemLines(m); !slices.Equal(got, want) {
		t.Errorf("problems differ:\n filesystem %q\n in memory  %q", got, want)
	}
	for _, p := range damaged {
		if !slices.ContainsFunc(fs.Problems(), func(pr problem.Problem) bool { return pr.Path == p }) {
			t.Errorf("no problem names %s: %q", p, problemLines(fs))
		}
	}
	if !reflect.DeepEqual(fs.Catalog(), m.Catalog()) {
		t.Errorf("catalogs differ")
	}
}

// damageLinks spoils files of repository alpha the same way in any
// driver: a layer link with a trailing newline, an empty tag, a tag of
// 2 KiB of garbage (over maxLinkSize, so read through Reader), and a
// stray file. It returns their paths.
func damageLinks(t *testing.T, d drivers.Driver) []string {
	t.Helper()
	var layers, tags []string
	for p := range regtest.Files(t, d, archive.RegistryRoot+"repositories/alpha/") {
		switch archive.ParsePath(p).Kind {
		case archive.KindLayerLink:
			layers = append(layers, p)
		case archive.KindTagCurrentLink:
			tags = append(tags, p)
		}
	}
	slices.Sort(layers)
	slices.Sort(tags)
	if len(layers) < 1 || len(tags) < 2 {
		t.Fatalf("sample alpha has %d layer links and %d tags, want 1 and 2", len(layers), len(tags))
	}
	good := regtest.Files(t, d, layers[0])[layers[0]]
	stray := archive.RegistryRoot + "repositories/alpha/_manifests/stray"
	content := []string{good + "\n", "", strings.Repeat("garbage ", 256), "stray"}
	paths := []string{layers[0], tags[0], tags[1], stray}
	for i, p := range paths {
		if err := d.Put(t.Context(), p, strings.NewReader(content[i]), int64(len(content[i]))); err != nil {
			t.Fatal(err)
		}
	}
	return paths
}

// problemLines are s's problems as sorted lines.
func problemLines(s *Snapshot) []string {
	var out []string
	for _, p := range s.Problems() {
		out = append(out, p.String())
	}
	slices.Sort(out)
	return out
}

// halfWritten is a driver whose reads of one link file find it empty the
// first times, as a registry's filesystem driver leaves a link between
// truncating it and writing it.
type halfWritten struct {
	drivers.Driver
	path  string
	reads *atomic.Int32
	empty int32 // reads that find it empty
}

func (h halfWritten) Reader(ctx context.Context, path string) (io.ReadCloser, error) {
	if path == h.path && h.reads.Add(1) <= h.empty {
		return io.NopCloser(strings.NewReader("")), nil
	}
	return h.Driver.Reader(ctx, path)
}

// TestEmptyLinkReadAgain: a tag link found empty while a push writes it is
// read again, and is damage only when it stays empty.
func TestEmptyLinkReadAgain(t *testing.T) {
	for _, tc := range []struct {
		empty      int32
		wantDamage bool
	}{{1, false}, {int32(len(emptyLinkRereads)), false}, {int32(len(emptyLinkRereads)) + 1, true}} {
		d := regtest.Mem(t)
		if _, err := sample.Generate(t.Context(), d, sample.Options{Seed: 7}); err != nil {
			t.Fatal(err)
		}
		var tag string
		for p := range regtest.Files(t, d, archive.RegistryRoot+"repositories/alpha/") {
			if archive.ParsePath(p).Kind == archive.KindTagCurrentLink {
				tag = p
				break
			}
		}
		hw := halfWritten{Driver: d, path: tag, reads: new(atomic.Int32), empty: tc.empty}
		s, err := Take(t.Context(), hw, Options{Concurrency: 2})
		if err != nil {
			t.Fatal(err)
		}
		damaged := slices.ContainsFunc(s.Problems(), func(pr problem.Problem) bool { return pr.Path == tag })
		if damaged != tc.wantDamage {
			t.Errorf("empty on %d reads: damage reported %v, want %v (%q)", tc.empty, damaged, tc.wantDamage, problemLines(s))
		}
		if got := hw.reads.Load(); got < min(tc.empty+1, int32(len(emptyLinkRereads))+1) {
			t.Errorf("empty on %d reads: read %d times", tc.empty, got)
		}
	}
}
