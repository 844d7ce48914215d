package snapshot

import (
	"context"
	"io"
	"reflect"
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
	known := map[string]*archive.Manifest{}
	for _, m := range want.Manifests.Slice() {
		known[m.Digest] = &m
	}
	b := &blobReads{Driver: d, reads: map[string]int{}}
	got, err := Take(t.Context(), b, Options{Known: func(dg string) *archive.Manifest { return known[dg] }})
	if err != nil {
		t.Fatal(err)
	}
	sameSnapshot(t, got, want)
	if len(b.reads) > 0 {
		t.Errorf("%d of %d known manifests read, want none", len(b.reads), len(known))
	}

	// A known manifest whose size is not the one listed is not trusted.
	var stale *archive.Manifest
	for _, m := range known {
		if len(m.References) > 0 && !isIndexType(m.MediaType) {
			stale = m
			break
		}
	}
	stale.Size++
	stale.References = []string{"sha256:0000000000000000000000000000000000000000000000000000000000000000"}
	b = &blobReads{Driver: d, reads: map[string]int{}}
	got, err = Take(t.Context(), b, Options{Known: func(dg string) *archive.Manifest { return known[dg] }})
	if err != nil {
		t.Fatal(err)
	}
	sameSnapshot(t, got, want)
	if !reflect.DeepEqual(b.reads, map[string]int{stale.Digest: 1}) {
		t.Errorf("manifests read: %v, want only the one whose known size is wrong, %s", b.reads, stale.Digest)
	}
}
