package backuptest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/backup"
	"github.com/regbackup/regbackup/internal/memlimit"
	"github.com/regbackup/regbackup/internal/regtest"
)

// SynthArchive is the path of a zstd archive of the made-up registry of
// regtest.BenchTags tags, eight a repository, each its own image (regtest.Synth),
// and its number of tags, for the memory benchmarks of the commands that
// read archives. It is made by backup.Backup to a file in b.TempDir (some
// four minutes at a million tags): a benchmark measuring several commands
// makes it once and runs them as sub-benchmarks. When
// REGBACKUP_BENCH_ARCHIVES names a folder it is kept there as
// synth-<tags>.tar.zst, and reused when already there.
func SynthArchive(b *testing.B) (path string, tags int) {
	b.Helper()
	tags = regtest.BenchTags(b)
	dir := os.Getenv("REGBACKUP_BENCH_ARCHIVES")
	if dir == "" {
		dir = b.TempDir()
	}
	path = filepath.Join(dir, fmt.Sprintf("synth-%d.tar.zst", tags))
	if _, err := os.Stat(path); err == nil {
		return path, tags
	}
	d, err := regtest.NewSynth(tags/8, 8)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	if err := writeArchive(d, path); err != nil {
		b.Fatal(err)
	}
	return path, tags
}

// writeArchive backs d up to path, through a temp file renamed at the end.
func writeArchive(d *regtest.Synth, path string) error {
	defer memlimit.Set()()
	f, err := os.CreateTemp(filepath.Dir(path), ".synth-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := backup.Backup(context.Background(), d, f, backup.Options{Compression: archive.Zstd}); err != nil {
		f.Close()
		return fmt.Errorf("backing up %s: %w", d, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// MeasurePeak runs fn, which reads an archive of tags tags, as the
// regbackup binary runs (memlimit.Set), from a heap holding nothing of
// what came before (the archive's making returned to the system), timed,
// and reports the most the heap held live and the most Go had mapped
// (about the peak RSS) as b's metrics, and the goal of issue 15: under
// 256 MiB up to 100,000 tags, 512 MiB up to a million.
// REGBACKUP_BENCH_HEAPPROFILE=FILE writes the heap profile of the peak.
func MeasurePeak(b *testing.B, what string, tags int, fn func() error) {
	b.Helper()
	b.StopTimer()
	runtime.GC()
	debug.FreeOSMemory()
	if path := os.Getenv("REGBACKUP_BENCH_HEAPPROFILE"); path != "" {
		defer regtest.HeapProfileAtPeak(path)()
	}
	stop := memlimit.Set()
	var err error
	b.StartTimer()
	live, mapped := regtest.PeakMemory(func() { err = fn() })
	b.StopTimer()
	stop()
	if err != nil {
		b.Fatalf("%s: %v", what, err)
	}
	regtest.ReportPeak(b, live, mapped)
	b.ReportMetric(float64(live)/float64(tags), "live-B/tag")
	goal := uint64(256 << 20)
	if tags > 100000 {
		goal = 512 << 20
	}
	verdict := "PASS"
	if mapped >= goal {
		verdict = "FAIL"
	}
	b.Logf("%s of %d tags: %.0f MiB live, %.0f MiB mapped at the peak; goal under %d MiB: %s",
		what, tags, float64(live)/(1<<20), float64(mapped)/(1<<20), goal>>20, verdict)
}
