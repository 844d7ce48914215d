package regtest

import (
	"os"
	"strconv"
	"testing"
)

// BenchTags is REGBACKUP_BENCH_TAGS (default 100,000), rounded down to
// eight tags a repository as BenchSynth makes them.
func BenchTags(b *testing.B) int {
	tags := 100000
	if s := os.Getenv("REGBACKUP_BENCH_TAGS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 8 {
			b.Fatalf("REGBACKUP_BENCH_TAGS=%q: want a number of at least 8", s)
		}
		tags = n
	}
	return tags / 8 * 8
}

// BenchSynth is the made-up registry a memory benchmark runs on:
// BenchTags tags, eight a repository, each its own image; closed when b
// ends.
func BenchSynth(b *testing.B) *Synth {
	d, err := NewSynth(BenchTags(b)/8, 8)
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
