package check_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/regbackup/regbackup/check"
	"github.com/regbackup/regbackup/internal/memlimit"
	"github.com/regbackup/regbackup/internal/regtest"
)

// BenchmarkCheckSynthetic checks a made-up registry of
// REGBACKUP_BENCH_TAGS tags (default 100,000; eight a repository, each its
// own image; see backup's BenchmarkBackupSynthetic) and reports the most
// the heap held live and the most memory Go had mapped.
//
//	REGBACKUP_BENCH_TAGS=1000000 go test ./check -run '^$' -bench Synthetic -benchtime 1x
func BenchmarkCheckSynthetic(b *testing.B) {
	d := regtest.BenchSynth(b)
	defer memlimit.Set()()
	runtime.GC()
	b.ResetTimer()
	for range b.N {
		var rep *check.Report
		var err error
		live, mapped := regtest.PeakMemory(func() {
			rep, err = check.Check(context.Background(), d, check.Options{})
		})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Tags != d.Tags() {
			b.Fatalf("check saw %d tags, the registry has %d", rep.Tags, d.Tags())
		}
		regtest.ReportPeak(b, live, mapped)
		b.Logf("check of %d tags: %.0f MiB live, %.0f MiB mapped at the peak", d.Tags(), float64(live)/(1<<20), float64(mapped)/(1<<20))
	}
}
