package regcopy_test

import (
	"context"
	"os"
	"runtime"
	"testing"

	"github.com/regbackup/regbackup/internal/memlimit"
	"github.com/regbackup/regbackup/internal/regtest"
	"github.com/regbackup/regbackup/regcopy"
)

// BenchmarkCopySynthetic copies a made-up registry of REGBACKUP_BENCH_TAGS
// tags (default 100,000; eight a repository, each its own image; see
// backup's BenchmarkBackupSynthetic) into storage that keeps nothing
// (regtest.Discard), and reports the most the heap held live and the most
// memory Go had mapped.
//
//	REGBACKUP_BENCH_TAGS=1000000 go test ./regcopy -run '^$' -bench Synthetic -benchtime 1x
func BenchmarkCopySynthetic(b *testing.B) {
	d := regtest.BenchSynth(b)
	if path := os.Getenv("REGBACKUP_BENCH_HEAPPROFILE"); path != "" {
		defer regtest.HeapProfileAtPeak(path)()
	}
	defer memlimit.Set()()
	runtime.GC()
	b.ResetTimer()
	for range b.N {
		dst := &regtest.Discard{}
		var rep *regcopy.Report
		var err error
		live, mapped := regtest.PeakMemory(func() {
			rep, err = regcopy.Copy(context.Background(), d, dst, regcopy.Options{})
		})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Tags != d.Tags() || int(dst.Links.Load()) != rep.Links || rep.Blobs == 0 {
			b.Fatalf("copy of %d tags reports %d tags, %d blobs and %d links, the target got %d links", d.Tags(), rep.Tags, rep.Blobs, rep.Links, dst.Links.Load())
		}
		regtest.ReportPeak(b, live, mapped)
		b.Logf("copy of %d tags: %.0f MiB live, %.0f MiB mapped at the peak", d.Tags(), float64(live)/(1<<20), float64(mapped)/(1<<20))
	}
}
