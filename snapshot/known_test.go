package snapshot

import (
	"context"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/integration/sample"
	"github.com/regbackup/regbackup/internal/regtest"
)

// blobReads is an object store (drivers.ConcurrencyHinter: the snapshot
// lists blobs) that counts the blobs read through Reader.
type blobReads struct {
	drivers.Driver
	mu    sync.Mutex
	reads map[string]int // digest -> Reader calls
}

func (b *blobReads) DefaultConcurrency() int { return 3 }

func (b *blobReads) Reader(ctx context.Context, path string) (io.ReadCloser, error) {
	if p := archive.ParsePath(path); p.Kind == archive.KindBlob {
		b.mu.Lock()
		b.reads[p.Digest]++
		b.mu.Unlock()
	}
	return b.Driver.Reader(ctx, path)
}

// TestKnownManifestsAreNotRead: a snapshot given the manifests an earlier
// one parsed (what an incremental takes from its parent's sidecar) reads
// none of them from storage and is the snapshot that reads them all; a
// known manifest whose listed size differs is read, and what storage holds
// wins.
func TestKnownManifestsAreNotRead(t *testing.T) {
	d := regtest.Mem(t)
	if _, err := sample.Generate(t.Context(), d, sample.Options{Seed: 7, SmallFiles: 30}); err != nil {
		t.Fatal(err)
	}
	want, err := Take(t.Context(), &blobReads{Driver: d, reads: map[string]int{}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The parent's sidecar, as a backup of want describes it.
	known := archive.NewMeta("parent.tar.zst", want.Catalog(), strings.Repeat("a", 64), &archive.Trailer{}, false, archive.Zstd)
	if len(known.Manifests) != want.Manifests.Len() {
		t.Fatalf("the sidecar describes %d of %d manifests", len(known.Manifests), want.Manifests.Len())
	}
	b := &blobReads{Driver: d, reads: map[string]int{}}
	got, err := Take(t.Context(), b, Options{Known: known})
	if err != nil {
		t.Fatal(err)
	}
	sameSnapshot(t, got, want)
	if len(b.reads) > 0 {
		t.Errorf("%d of %d known manifests read, want none", len(b.reads), len(known.Manifests))
	}

	// A known manifest whose size is not the one listed is not trusted.
	var stale *archive.Blob
	for _, row := range known.Manifests {
		if m := want.Manifests.Get(known.Blobs[row[0]].Digest); len(row) > 2 && !isIndexType(m.MediaType) {
			stale = &known.Blobs[row[0]]
			break
		}
	}
	stale.Size++
	b = &blobReads{Driver: d, reads: map[string]int{}}
	got, err = Take(t.Context(), b, Options{Known: known})
	if err != nil {
		t.Fatal(err)
	}
	sameSnapshot(t, got, want)
	if !reflect.DeepEqual(b.reads, map[string]int{stale.Digest: 1}) {
		t.Errorf("manifests read: %v, want only the one whose known size is wrong, %s", b.reads, stale.Digest)
	}
}
