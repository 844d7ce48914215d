package snapshot

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/blobio"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/integration/sample"
	"github.com/regbackup/regbackup/internal/regtest"
	"github.com/regbackup/regbackup/problem"
)

// local is a driver without a concurrency hint (a local disk) that
// counts the walks of blobs/.
type local struct {
	drivers.Driver
	blobWalks *atomic.Int32
}

func (l local) Walk(ctx context.Context, prefix string, fn drivers.WalkFunc) error {
	if strings.HasPrefix(prefix, archive.RegistryRoot+"blobs") {
		l.blobWalks.Add(1)
	}
	return l.Driver.Walk(ctx, prefix, fn)
}

// remote is local with a concurrency hint, as object stores have.
type remote struct{ local }

func (remote) DefaultConcurrency() int { return 3 }

// TestSnapshotStatsOrListsBlobsAlike takes snapshots of a damaged registry
// once looking up each needed blob with Stat (a local disk) and once
// listing blobs/ (an object store): same links, manifests, plan and
// problems; the Stat one never walks blobs/.
func TestSnapshotStatsOrListsBlobsAlike(t *testing.T) {
	d, reg := regtest.Registry(t)
	damageLinks(t, d)
	// A layer that manifests reference and a manifest a revisions link
	// names, both gone from storage.
	var layer, manifest string
	var paths []string
	for p := range regtest.Files(t, d, archive.RegistryRoot+"repositories/") {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		switch pp := archive.ParsePath(p); {
		case pp.Kind == archive.KindLayerLink && layer == "":
			layer = pp.Digest
		case pp.Kind == archive.KindRevisionLink && manifest == "" && pp.Digest != layer:
			manifest = pp.Digest
		}
	}
	for _, dg := range []string{layer, manifest} {
		if err := d.Delete(t.Context(), archive.BlobPath(dg)); err != nil {
			t.Fatal(err)
		}
	}
	// A revision naming a blob over the registry's manifest size limit.
	huge := strings.Repeat("{", MaxManifestSize+1)
	hugeDigest := blobio.SHA256Digest([]byte(huge))
	for p, c := range map[string]string{
		archive.BlobPath(hugeDigest): huge,
		archive.RegistryRoot + "repositories/alpha/_manifests/revisions/sha256/" + strings.TrimPrefix(hugeDigest, "sha256:") + "/link": hugeDigest,
	} {
		if err := d.Put(t.Context(), p, strings.NewReader(c), int64(len(c))); err != nil {
			t.Fatal(err)
		}
	}
	var statWalks, listWalks atomic.Int32
	byStat, err := Take(t.Context(), local{d, &statWalks}, Options{Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	byList, err := Take(t.Context(), remote{local{d, &listWalks}}, Options{Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	if n := statWalks.Load(); n != 0 {
		t.Errorf("the snapshot on a local disk walked blobs/ %d times, want a Stat per blob instead", n)
	}
	if n := listWalks.Load(); n != 1 {
		t.Errorf("the snapshot on an object store walked blobs/ %d times, want 1", n)
	}
	if !slices.Equal(linkLines(byStat.Links), linkLines(byList.Links)) {
		t.Errorf("links differ")
	}
	if !reflect.DeepEqual(byStat.Manifests.Slice(), byList.Manifests.Slice()) {
		t.Errorf("manifests differ")
	}
	if !reflect.DeepEqual(byStat.Planned.Slice(), byList.Planned.Slice()) {
		t.Errorf("planned blobs differ:\n by Stat %v\n listed  %v", byStat.Planned.Slice(), byList.Planned.Slice())
	}
	got, want := problemLines(byStat), problemLines(byList)
	if !slices.Equal(got, want) {
		t.Errorf("problems differ:\n by Stat %q\n listed  %q", got, want)
	}
	for _, dg := range []string{layer, manifest, hugeDigest} {
		if !slices.ContainsFunc(byStat.Problems(), func(p problem.Problem) bool { return p.Digest == dg }) {
			t.Errorf("no problem names the missing or oversized blob %s: %q", dg, got)
		}
	}
	for _, dg := range reg.Garbage {
		if byStat.Present.Has(dg) {
			t.Errorf("garbage blob %s looked up: a Stat snapshot needs only referenced blobs", dg)
		}
	}
}

// TestSnapshotOfBlobsOnly checks that storage holding blobs but no
// repositories (what GitLab's registry leaves when its metadata is in its
// database) is refused, naming --registry-config, unless AllBlobs, also
// when blobs are looked up by Stat (none is named); and that an empty root
// is no registry data.
func TestSnapshotOfBlobsOnly(t *testing.T) {
	d := regtest.Mem(t)
	if _, err := sample.Generate(t.Context(), d, sample.Options{Seed: 3}); err != nil {
		t.Fatal(err)
	}
	for p := range regtest.Files(t, d, archive.RegistryRoot+"repositories/") {
		if err := d.Delete(t.Context(), p); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Take(t.Context(), d, Options{Concurrency: 3})
	if !errors.Is(err, ErrLooksLikeDatabase) || !strings.Contains(err.Error(), "--registry-config") || !strings.Contains(err.Error(), "--all-blobs") {
		t.Fatalf("snapshot of blobs without repositories: %v", err)
	}
	if s, err := Take(t.Context(), d, Options{Concurrency: 3, AllBlobs: true}); err != nil || s.Planned.Len() == 0 {
		t.Fatalf("AllBlobs snapshot of blobs without repositories: %v", err)
	}
	_, err = Take(t.Context(), regtest.Mem(t), Options{Concurrency: 3})
	if err == nil || !strings.Contains(err.Error(), "holds no registry data") {
		t.Fatalf("snapshot of an empty root = %v, want 'holds no registry data'", err)
	}
}
