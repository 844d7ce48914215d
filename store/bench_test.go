package store

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/internal/memlimit"
	"github.com/regbackup/regbackup/internal/regtest"
)

// BenchmarkPruneSynthetic prunes a folder of nightly archives of a
// registry of REGBACKUP_BENCH_TAGS tags (default 100,000), each with the
// sidecar a backup of it writes: three blobs a tag (each tag its own
// image), about a hundred bytes a blob. The archives themselves are stand-ins
// of a few bytes, which prune never opens when a sidecar describes them.
// It reports the most the heap held live and the most memory Go had
// mapped.
//
//	REGBACKUP_BENCH_TAGS=1000000 go test ./store -run '^$' -bench PruneSynthetic -benchtime 1x
func BenchmarkPruneSynthetic(b *testing.B) {
	tags := regtest.BenchTags(b)
	const nights = 4
	dir := b.TempDir()
	first := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	var prev *archive.Meta
	for n := range nights {
		name := fmt.Sprintf("nightly-%d.tar.zst", n)
		regtest.Must(b, os.WriteFile(filepath.Join(dir, name), []byte("stand-in"), 0o600))
		m := &archive.Meta{Format: archive.MetaFormat, Archive: name, Created: first.AddDate(0, 0, n),
			CatalogSHA256: strings.Repeat(strconv.Itoa(n), 64), Compression: archive.Zstd, Size: int64(len("stand-in"))}
		if prev != nil { // an incremental: the blobs of the night before are its parent's
			m.Parents = []archive.Parent{{Name: prev.Archive, CatalogSHA256: prev.CatalogSHA256, Created: prev.Created}}
		}
		m.Blobs = make([]archive.Blob, 3*tags)
		for i := range m.Blobs {
			m.Blobs[i] = archive.Blob{Digest: fmt.Sprintf("sha256:%064x", i), Size: int64(i)}
			if prev != nil && i < 3*tags-3 {
				m.Blobs[i].Archive = prev.Archive
			}
		}
		regtest.Must(b, WriteSidecar(b.Context(), ArchiveRef{Store: NewLocalStore(dir), Name: name}, m))
		prev = &archive.Meta{Archive: m.Archive, CatalogSHA256: m.CatalogSHA256, Created: m.Created}
	}
	prev = nil
	defer memlimit.Set()()
	debug.FreeOSMemory() // what writing the sidecars took is not prune's
	b.ResetTimer()
	for range b.N {
		var rep *PruneReport
		var err error
		live, mapped := regtest.PeakMemory(func() {
			rep, err = Prune(b.Context(), PruneOptions{Dir: dir, Keep: KeepPolicy{Last: 1}, DryRun: true})
		})
		if err != nil {
			b.Fatal(err)
		}
		if len(rep.Archives) != nights {
			b.Fatalf("prune saw %d archives, want %d", len(rep.Archives), nights)
		}
		for _, a := range rep.Archives {
			if !a.Keep {
				b.Fatalf("prune would delete %s, a parent of the newest", a.Path)
			}
		}
		regtest.ReportPeak(b, live, mapped)
		b.Logf("prune of %d archives of %d tags: %.0f MiB live, %.0f MiB mapped at the peak", nights, tags, float64(live)/(1<<20), float64(mapped)/(1<<20))
	}
}
