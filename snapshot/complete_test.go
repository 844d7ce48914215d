package snapshot

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/integration/sample"
	"github.com/regbackup/regbackup/internal/regtest"
	"github.com/regbackup/regbackup/problem"
)

// unwalked is a driver whose walk does not list some files that reads
// find: files a push wrote after the walk passed their folder.
type unwalked struct {
	drivers.Driver
	hide func(path string) bool
}

func (u unwalked) Walk(ctx context.Context, prefix string, fn drivers.WalkFunc) error {
	return u.Driver.Walk(ctx, prefix, func(fi drivers.FileInfo) error {
		if u.hide(fi.Path) {
			return nil
		}
		return fn(fi)
	})
}

// TestLinksPushedDuringTheWalk: a repository's _layers and revisions are
// walked before its tags, so an image pushed meanwhile is seen by its tag
// alone. The snapshot reads the revision and layer links that tag needs,
// so that what it holds is served; a tag whose revision link is gone
// (deleted meanwhile) is left out with a notice, as the registry no longer
// serves it.
func TestLinksPushedDuringTheWalk(t *testing.T) {
	d := regtest.Mem(t)
	if _, err := sample.Generate(t.Context(), d, sample.Options{Seed: 7}); err != nil {
		t.Fatal(err)
	}
	all, err := Take(t.Context(), d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	repoLinks := func(repo string, kinds ...archive.Kind) []string {
		var out []string
		for _, l := range all.Links {
			if l.Repo() == repo && slices.Contains(kinds, l.Kind) {
				out = append(out, l.Path())
			}
		}
		return out
	}
	hidden := repoLinks("alpha", archive.KindLayerLink, archive.KindRevisionLink)
	if len(hidden) < 2 {
		t.Fatalf("sample repository alpha has %d layer and revision links", len(hidden))
	}
	s, err := Take(t.Context(), unwalked{d, func(p string) bool { return slices.Contains(hidden, p) }}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Every link but the layer links no manifest of the repository
	// references (layers of a push that never finished: nothing needs them).
	referenced := map[string]bool{}
	for m := range all.Manifests.All() {
		for _, r := range m.References {
			referenced[r] = true
		}
	}
	var got, want []string
	for _, l := range s.Links {
		got = append(got, l.Path())
	}
	for _, l := range all.Links {
		if slices.Contains(hidden, l.Path()) && l.Kind == archive.KindLayerLink && !referenced[l.Digest()] {
			continue
		}
		want = append(want, l.Path())
	}
	if !slices.Equal(got, want) {
		t.Errorf("with alpha's layers and revisions pushed during the walk the snapshot has links\n%q\nwant\n%q", got, want)
	}

	// A tag whose manifest was deleted since: no revision link anywhere.
	tags := repoLinks("alpha", archive.KindTagCurrentLink)
	var gone *Link
	for i, l := range all.Links {
		if l.Path() == tags[0] {
			gone = &all.Links[i]
		}
	}
	rev := archive.LinkPath(archive.KindRevisionLink, "alpha", "", gone.Digest())
	regtest.Must(t, d.Delete(t.Context(), rev))
	s, err = Take(t.Context(), d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(s.Links, func(l Link) bool { return l.Path() == gone.Path() }) {
		t.Errorf("tag %s, whose manifest has no revision link, is in the snapshot", gone.Path())
	}
	i := slices.IndexFunc(s.Problems(), func(p problem.Problem) bool { return p.Path == gone.Path() })
	if i < 0 || s.Problems()[i].Severity != problem.Notice || !strings.Contains(s.Problems()[i].Message, "no revision link") {
		t.Errorf("no notice names the tag left out: %q", problemLines(s))
	}
	for _, l := range s.Links {
		if l.Kind == archive.KindTagCurrentLink && l.Digest() == gone.Digest() && l.Repo() == "alpha" {
			t.Errorf("tag %s names the manifest without a revision link", l.Path())
		}
	}
}

// collectedMidway is a driver on which a garbage collector runs while
// the snapshot is taken: at the first blob the snapshot looks up, after
// every link and manifest was read, it deletes some manifests' layer blobs
// and then their revision links, as the registry's GC does.
type collectedMidway struct {
	drivers.Driver
	once  *sync.Once
	paths []string // deleted, in order
}

func (c collectedMidway) Stat(ctx context.Context, path string) (drivers.FileInfo, error) {
	if archive.ParsePath(path).Kind == archive.KindBlob {
		c.once.Do(func() {
			for _, p := range c.paths {
				c.Driver.Delete(ctx, p)
			}
		})
	}
	return c.Driver.Stat(ctx, path)
}

// TestManifestsCollectedDuringTheSnapshot: the manifests a collector
// deleted after the snapshot read them (a blob missing, every revision
// link gone now) are left out with notices, with the tag links naming
// them in their repositories (recheckMissing), and nothing else is: the
// snapshot's links are those of the registry after the collection, less
// the tags' index entries naming those manifests.
func TestManifestsCollectedDuringTheSnapshot(t *testing.T) {
	d := regtest.Mem(t)
	if _, err := sample.Generate(t.Context(), d, sample.Options{Seed: 7, SmallFiles: 20}); err != nil {
		t.Fatal(err)
	}
	all, err := Take(t.Context(), d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Two manifests of small images, each named by one revision link,
	// whose layers no other manifest references.
	uses := map[string]int{}
	revs := map[string][]Link{}
	for m := range all.Manifests.All() {
		for _, r := range m.References {
			uses[r]++
		}
	}
	for _, l := range all.Links {
		if l.Kind == archive.KindRevisionLink {
			revs[l.Digest()] = append(revs[l.Digest()], l)
		}
	}
	var victims []string
	var after []string
	for m := range all.Manifests.All() {
		dg := m.Digest
		if len(victims) == 2 || len(revs[dg]) != 1 || isIndexType(m.MediaType) || len(m.References) < 2 || uses[dg] > 0 {
			continue
		}
		layer := m.References[len(m.References)-1]
		if uses[layer] != 1 {
			continue
		}
		victims = append(victims, dg)
		after = append(after, archive.BlobPath(layer), revs[dg][0].Path())
	}
	if len(victims) < 2 {
		t.Fatalf("%d manifests to collect, want 2", len(victims))
	}
	s, err := Take(t.Context(), collectedMidway{d, &sync.Once{}, after}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := Take(t.Context(), d, Options{}) // the registry after the collection
	if err != nil {
		t.Fatal(err)
	}
	var got, wantPaths []string
	for _, l := range s.Links {
		got = append(got, l.Path())
	}
	for _, l := range want.Links {
		// A tag's index entry naming a collected manifest goes too: it
		// names a manifest the registry no longer serves.
		if l.Kind == archive.KindTagIndexLink && slices.Contains(victims, l.Digest()) {
			continue
		}
		wantPaths = append(wantPaths, l.Path())
	}
	if !slices.Equal(got, wantPaths) {
		var extra, missing []string
		for _, p := range got {
			if !slices.Contains(wantPaths, p) {
				extra = append(extra, p)
			}
		}
		for _, p := range wantPaths {
			if !slices.Contains(got, p) {
				missing = append(missing, p)
			}
		}
		t.Errorf("links after a collection during the snapshot: %q more, %q fewer than the registry's after it", extra, missing)
	}
	for _, dg := range victims {
		if s.Manifests.Has(dg) {
			t.Errorf("collected manifest %s is in the snapshot", dg)
		}
		if !slices.ContainsFunc(s.Problems(), func(p problem.Problem) bool {
			return p.Severity == problem.Notice && p.Digest == dg && strings.Contains(p.Message, "deleted (or garbage-collected)")
		}) {
			t.Errorf("no notice names the links to collected manifest %s: %q", dg, problemLines(s))
		}
	}
	if n := len(s.Problems()); n == 0 || slices.ContainsFunc(s.Problems(), func(p problem.Problem) bool { return p.Severity == problem.Damage }) {
		t.Errorf("problems: %q, want notices only", problemLines(s))
	}
}
