package regtest

import (
	"os"
	"strconv"
	"testing"
)

// BenchSynth is the made-up registry a memory benchmark runs on:
// REGBACKUP_BENCH_TAGS tags (default 100,000), eight a repository, each
// its own image; closed when b ends.
func BenchSynth(b *testing.B) *Synth {
	tags := 100000
	if s := os.Getenv("REGBACKUP_BENCH_TAGS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 8 {
			b.Fatalf("REGBACKUP_BENCH_TAGS=%q: want a number of at least 8", s)
		}
		tags = n
	}
	d, err := NewSynth(tags/8, 8)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	return d
}

// ReportPeak reports what PeakMemory measured as b's metrics live-MiB and
// mapped-MiB.
func ReportPeak(b *testing.B, live, mapped uint64) {
	b.ReportMetric(float64(live)/(1<<20), "live-MiB")
	b.ReportMetric(float64(mapped)/(1<<20), "mapped-MiB")
}
