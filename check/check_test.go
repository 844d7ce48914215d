package check

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/blobio"
	"github.com/regbackup/regbackup/integration/sample"
	"github.com/regbackup/regbackup/internal/regtest"
	"github.com/regbackup/regbackup/problem"
	"github.com/regbackup/regbackup/snapshot"
)

// TestCheckHealthy: the sample registry has no damage; its garbage blob
// and the deleted manifest are orphans, no tagged image's blob is, and its
// old upload is stale.
func TestCheckHealthy(t *testing.T) {
	d, reg := regtest.Registry(t)
	rep, err := Check(t.Context(), d, Options{Concurrency: 3, ReadData: true})
	if err != nil {
		t.Fatalf("Check: %v\n%v", err, rep)
	}
	if rep.Blobs != len(reg.Blobs) || rep.Hashed != len(reg.Blobs) || rep.Tags != len(reg.Tags) {
		t.Errorf("report %+v; want %d blobs, all hashed, %d tags", rep, len(reg.Blobs), len(reg.Tags))
	}
	var orphans []string
	for _, o := range rep.Orphans {
		orphans = append(orphans, o.Digest)
	}
	for _, g := range append(slices.Clone(reg.Garbage), reg.Deleted...) {
		if !slices.Contains(orphans, g) {
			t.Errorf("garbage %s not reported as an orphan (orphans %v)", g, orphans)
		}
	}
	for _, im := range reg.Tags {
		if slices.Contains(orphans, im.Digest) {
			t.Errorf("tagged manifest %s:%s reported as an orphan", im.Repo, im.Tag)
		}
	}
	if len(rep.StaleUploads) != 1 || rep.StaleUploads[0].Size == 0 || rep.StaleUploadBytes != rep.StaleUploads[0].Size ||
		!strings.HasPrefix(reg.Uploads[0], rep.StaleUploads[0].Path+"/") || rep.StaleUploads[0].Started.IsZero() {
		t.Errorf("stale uploads %+v, want the sample's upload %v", rep.StaleUploads, reg.Uploads)
	}
	for _, p := range rep.Problems {
		if p.Severity == problem.Damage || strings.Contains(p.Message, "left out") {
			t.Errorf("problem in a healthy registry: %v", p)
		}
	}
}

// TestCheckFindsDamage: an empty tag link, a deleted layer and a corrupt
// layer (found only with ReadData) are damage, named by path or digest.
func TestCheckFindsDamage(t *testing.T) {
	d, reg := regtest.Registry(t)
	ctx := t.Context()
	im := reg.Tags[0]
	tagLink := sample.TagCurrentLinkPath(im.Repo, im.Tag)
	if err := d.Put(ctx, tagLink, strings.NewReader(""), 0); err != nil {
		t.Fatal(err)
	}
	// Two distinct layers of tagged images: one deleted, one corrupted.
	var layers []string
	for _, t2 := range reg.Tags {
		data, err := blobio.ReadSmall(ctx, d, archive.BlobPath(t2.Digest), snapshot.MaxManifestSize)
		if err != nil {
			t.Fatal(err)
		}
		pm, err := snapshot.ParseManifest(data)
		if err != nil || pm.IsIndex {
			continue
		}
		for _, r := range pm.Refs[1:] {
			if !slices.Contains(layers, r) {
				layers = append(layers, r)
			}
		}
	}
	deleted, corrupt := layers[0], layers[1]
	if err := d.Delete(ctx, archive.BlobPath(deleted)); err != nil {
		t.Fatal(err)
	}
	if err := sample.Corrupt(ctx, d, corrupt); err != nil {
		t.Fatal(err)
	}

	rep, err := Check(ctx, d, Options{Concurrency: 3})
	if !errors.Is(err, ErrDamagedStorage) {
		t.Fatalf("Check: %v, want ErrDamagedStorage", err)
	}
	has := func(rep *Report, s string) bool {
		for _, p := range rep.Problems {
			if p.Severity == problem.Damage && (p.Path == s || p.Digest == s) {
				return true
			}
		}
		return false
	}
	if !has(rep, tagLink) || !has(rep, deleted) {
		t.Errorf("empty link %s or deleted blob %s not reported: %v", tagLink, deleted, rep.Problems)
	}
	if has(rep, corrupt) {
		t.Errorf("corrupt layer reported without ReadData: %v", rep.Problems)
	}
	rep, err = Check(ctx, d, Options{Concurrency: 3, ReadData: true})
	if !errors.Is(err, ErrDamagedStorage) || !has(rep, archive.BlobPath(corrupt)) {
		t.Errorf("ReadData: %v; corrupt layer %s not reported: %v", err, corrupt, rep.Problems)
	}
	for _, p := range rep.Problems {
		if p.Path == archive.BlobPath(corrupt) && !strings.Contains(p.Message, "linked by "+im.Repo) && !strings.Contains(p.Message, "linked by ") {
			t.Errorf("the corrupt blob's problem does not say which repositories link it: %v", p)
		}
	}
	for _, p := range rep.Problems {
		if strings.Contains(p.Message, "left out") || strings.Contains(p.Message, "repaired") {
			t.Errorf("check speaks of what a backup does: %v", p)
		}
	}
}

// TestOrphansAreWhatNoLinkReaches: the orphans are exactly the blobs that
// no revisions or tag link reaches through the manifests, index children
// included, as a plain walk with a set of strings finds them (the code
// before snapshot.Unreached, which keeps a bit a blob).
func TestOrphansAreWhatNoLinkReaches(t *testing.T) {
	d, _ := regtest.Registry(t)
	s, err := snapshot.Take(t.Context(), d, snapshot.Options{ForCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	reached := map[string]bool{}
	var reach func(string)
	reach = func(dg string) {
		if reached[dg] {
			return
		}
		reached[dg] = true
		if m := s.Manifests.Get(dg); m != nil {
			for _, r := range m.References {
				reach(r)
			}
		}
	}
	indexes := 0
	for _, l := range s.Links {
		if l.Kind == archive.KindRevisionLink || l.Kind == archive.KindTagCurrentLink {
			reach(l.Digest())
			if m := s.Manifests.Get(l.Digest()); m != nil && (strings.Contains(m.MediaType, "index") || strings.Contains(m.MediaType, "list")) {
				indexes++
			}
		}
	}
	var want []string
	for dg := range s.Present.All() {
		if !reached[dg] {
			want = append(want, dg)
		}
	}
	var got []string
	for dg := range s.Unreached() {
		got = append(got, dg)
	}
	if len(want) == 0 || len(reached) < 10 || indexes == 0 {
		t.Fatalf("the sample has %d orphans, reaches %d blobs through %d index links: the test shows nothing", len(want), len(reached), indexes)
	}
	if !slices.Equal(got, want) {
		t.Errorf("unreached blobs\n %v\nwant\n %v", got, want)
	}
}
