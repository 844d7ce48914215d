package snapshot

import (
	"context"
	"io"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/blobio"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/integration/sample"
	"github.com/regbackup/regbackup/internal/regtest"
)

// listedMD5 is a driver whose Walk reports each file's MD5, as an object
// store's listing does (worked out here by reading the file underneath,
// which is not counted), or the value lies holds for a path (an S3 ETag
// under SSE-KMS looks like an MD5 and is not one). It counts the link
// files read through Reader.
type listedMD5 struct {
	drivers.Driver
	lies map[string]string

	mu    sync.Mutex
	reads map[string]int // link file path -> Reader calls
}

func newListedMD5(d drivers.Driver) *listedMD5 {
	return &listedMD5{Driver: d, lies: map[string]string{}, reads: map[string]int{}}
}

func (l *listedMD5) Walk(ctx context.Context, prefix string, fn drivers.WalkFunc) error {
	return l.Driver.Walk(ctx, prefix, func(fi drivers.FileInfo) error {
		data, err := blobio.ReadSmall(ctx, l.Driver, fi.Path, 1<<30)
		if err != nil {
			return err
		}
		fi.MD5 = drivers.MD5Of(data)
		if lie, ok := l.lies[fi.Path]; ok {
			fi.MD5 = lie
		}
		return fn(fi)
	})
}

func (l *listedMD5) Reader(ctx context.Context, path string) (io.ReadCloser, error) {
	if archive.ParsePath(path).Kind.IsLink() {
		l.mu.Lock()
		l.reads[path]++
		l.mu.Unlock()
	}
	return l.Driver.Reader(ctx, path)
}

// linksRead are the link files read, sorted.
func (l *listedMD5) linksRead() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for p := range l.reads {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// TestListedMD5VouchesForLinks: on a registry nobody spoiled, a listing
// with MD5s vouches for every link file (layer, revision and tag index
// links by their paths, tags by their index entries), so none is read, and
// the snapshot is the one that reads them all.
func TestListedMD5VouchesForLinks(t *testing.T) {
	d := regtest.Mem(t)
	if _, err := sample.Generate(t.Context(), d, sample.Options{Seed: 7, SmallFiles: 40}); err != nil {
		t.Fatal(err)
	}
	want, err := Take(t.Context(), d, Options{Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	l := newListedMD5(d)
	got, err := Take(t.Context(), l, Options{Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	sameSnapshot(t, got, want)
	if read := l.linksRead(); len(read) > 0 {
		t.Errorf("%d of %d link files read, want none: %q", len(read), len(want.Links), read)
	}
}

// TestListedMD5ReadsWhatItCannotVouchFor: a link whose listed MD5 matches
// no candidate is read, and the snapshot is the one that reads them all:
// damaged links (a trailing newline, empty, garbage), a tag whose MD5 is
// not one (SSE-KMS), and a tag whose index entry is gone.
func TestListedMD5ReadsWhatItCannotVouchFor(t *testing.T) {
	d := regtest.Mem(t)
	if _, err := sample.Generate(t.Context(), d, sample.Options{Seed: 7, SmallFiles: 12}); err != nil {
		t.Fatal(err)
	}
	damaged := damageLinks(t, d) // a layer link, two tags of alpha, a stray file
	var small []string           // tags of small/ repositories
	for p := range regtest.Files(t, d, archive.RegistryRoot+"repositories/small/") {
		if archive.ParsePath(p).Kind == archive.KindTagCurrentLink {
			small = append(small, p)
		}
	}
	slices.Sort(small)
	if len(small) < 2 {
		t.Fatalf("%d small tags, want 2", len(small))
	}
	kms, indexless := small[0], small[1]
	dg := regtest.Files(t, d, indexless)[indexless]
	p := archive.ParsePath(indexless)
	regtest.Must(t, d.Delete(t.Context(), archive.LinkPath(archive.KindTagIndexLink, p.Repo, p.Tag, dg)))

	want, err := Take(t.Context(), d, Options{Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	l := newListedMD5(d)
	l.lies[kms] = "0123456789abcdef0123456789abcdef"
	got, err := Take(t.Context(), l, Options{Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	sameSnapshot(t, got, want)
	wantRead := append(slices.Clone(damaged[:3]), kms, indexless)
	slices.Sort(wantRead)
	if read := l.linksRead(); !slices.Equal(read, wantRead) {
		t.Errorf("link files read:\n got  %q\n want %q", read, wantRead)
	}
}

// sameSnapshot fails t unless got and want hold the same links, problems
// and catalog.
func sameSnapshot(t *testing.T, got, want *Snapshot) {
	t.Helper()
	if !slices.Equal(linkLines(got.Links), linkLines(want.Links)) {
		t.Errorf("links differ:\n got  %v\n want %v", got.Links, want.Links)
	}
	if g, w := problemLines(got), problemLines(want); !slices.Equal(g, w) {
		t.Errorf("problems differ:\n got  %q\n want %q", g, w)
	}
	if !reflect.DeepEqual(got.Catalog(), want.Catalog()) {
		t.Errorf("catalogs differ")
	}
}

// lateBlob is an object store (drivers.ConcurrencyHinter: the snapshot
// lists blobs) whose blob listing misses one blob, as a listing that
// passed its prefix before a push wrote it does, and that tells whether
// the blob listing ran while the link walk did.
type lateBlob struct {
	drivers.Driver
	hidden      string        // blob path the listing misses
	blobsListed chan struct{} // closed when the blob listing starts
	overlapped  atomic.Bool   // the link walk saw the blob listing start
}

func (l *lateBlob) DefaultConcurrency() int { return 4 }

func (l *lateBlob) Walk(ctx context.Context, prefix string, fn drivers.WalkFunc) error {
	if strings.HasPrefix(prefix, archive.RegistryRoot+"blobs") {
		close(l.blobsListed)
		return l.Driver.Walk(ctx, prefix, func(fi drivers.FileInfo) error {
			if fi.Path == l.hidden {
				return nil
			}
			return fn(fi)
		})
	}
	select {
	case <-l.blobsListed:
		l.overlapped.Store(true)
	case <-time.After(5 * time.Second):
	}
	return l.Driver.Walk(ctx, prefix, fn)
}

// TestBlobsListedBesideLinks: on an object store the blob listing runs
// while the link walk does, and a blob it missed (pushed behind it) is
// looked up before it is called missing: the snapshot is the one of a
// listing that missed nothing.
func TestBlobsListedBesideLinks(t *testing.T) {
	d := regtest.Mem(t)
	reg, err := sample.Generate(t.Context(), d, sample.Options{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	want, err := Take(t.Context(), &lateBlob{Driver: d, blobsListed: make(chan struct{})}, Options{Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, hidden := range []string{reg.Tags[0].Digest, want.Manifests.Get(reg.Tags[0].Digest).References[0]} {
		l := &lateBlob{Driver: d, hidden: archive.BlobPath(hidden), blobsListed: make(chan struct{})}
		got, err := Take(t.Context(), l, Options{Concurrency: 3})
		if err != nil {
			t.Fatal(err)
		}
		if !l.overlapped.Load() {
			t.Errorf("the blob listing did not run while the link walk did")
		}
		sameSnapshot(t, got, want)
		if !reflect.DeepEqual(got.Planned.Slice(), want.Planned.Slice()) {
			t.Errorf("blob %s missed by the listing: planned blobs differ", hidden)
		}
	}
}
