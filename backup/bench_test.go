package backup_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/backup"
	"github.com/regbackup/regbackup/drivers"
	_ "github.com/regbackup/regbackup/drivers/filesystem" // registers "file"
	"github.com/regbackup/regbackup/integration/sample"
	"github.com/regbackup/regbackup/internal/memlimit"
	"github.com/regbackup/regbackup/internal/regtest"
	"github.com/regbackup/regbackup/snapshot"
)

// Benchmarks of backup.Backup on a filesystem tree, written to io.Discard (no
// archive file, no fsync), to profile where backup time goes:
//
//	go test ./backup -run '^$' -bench Backup -benchtime 3x -cpuprofile /tmp/cpu.out
//	go test ./backup -run '^$' -bench Incremental -cpuprofile /tmp/cpu.out
//	go tool pprof -top backup.test /tmp/cpu.out
//
// REGBACKUP_BENCH_ROOT names an existing registry root (for instance the
// tree integration/bench/bench.sh generates under /tmp/regbackup-bench);
// without it each benchmark generates a 64 MiB sample tree with 100 small
// images in a temp folder. REGBACKUP_BENCH_CONCURRENCY overrides Concurrency (4).

// benchDriver opens REGBACKUP_BENCH_ROOT, or generates a sample tree in
// b.TempDir (about a second).
func benchDriver(b *testing.B) drivers.Driver {
	b.Helper()
	ctx := context.Background()
	root := os.Getenv("REGBACKUP_BENCH_ROOT")
	generate := root == ""
	if generate {
		root = b.TempDir()
	}
	d, err := drivers.Open(ctx, root)
	if err != nil {
		b.Fatal(err)
	}
	if generate {
		if _, err := sample.Generate(ctx, d, sample.Options{Seed: 1, LayerBytes: 64 << 20, SmallFiles: 100}); err != nil {
			b.Fatal(err)
		}
	}
	return d
}

func benchConcurrency(b *testing.B) int {
	if s := os.Getenv("REGBACKUP_BENCH_CONCURRENCY"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("REGBACKUP_BENCH_CONCURRENCY=%q: want a positive number", s)
		}
		return n
	}
	return 4
}

func BenchmarkBackup(b *testing.B) {
	d := benchDriver(b)
	for _, c := range []archive.Compression{archive.Zstd, archive.Gzip, archive.None} {
		b.Run(string(c), func(b *testing.B) {
			opts := backup.Options{Compression: c, Concurrency: benchConcurrency(b)}
			var bytes int64
			for b.Loop() {
				rep, err := backup.Backup(context.Background(), d, io.Discard, opts)
				if err != nil {
					b.Fatal(err)
				}
				bytes = rep.BlobBytes
			}
			b.SetBytes(bytes)
		})
	}
}

// BenchmarkIncremental is a backup.Backup on top of a full one of the same,
// unchanged, tree: the snapshot, the catalog and the link files, no blob.
func BenchmarkIncremental(b *testing.B) {
	d := benchDriver(b)
	opts := backup.Options{Compression: archive.Zstd, Concurrency: benchConcurrency(b)}
	full, err := backup.Backup(context.Background(), d, io.Discard, opts)
	if err != nil {
		b.Fatal(err)
	}
	full.Meta.Archive = "full.tar.zst"
	opts.Base = full.Meta
	for b.Loop() {
		rep, err := backup.Backup(context.Background(), d, io.Discard, opts)
		if err != nil {
			b.Fatal(err)
		}
		if rep.Blobs != 0 || len(rep.Parents) != 1 {
			b.Fatalf("incremental copied %d blobs and inherited %d from %v, want none copied", rep.Blobs, rep.InheritedBlobs, rep.Parents)
		}
	}
}

// BenchmarkSnapshot is the part of backup.Backup before the first blob byte: the
// link walk, the link and manifest reads and the blob listing.
func BenchmarkSnapshot(b *testing.B) {
	d := benchDriver(b)
	conc := benchConcurrency(b)
	for b.Loop() {
		if _, err := snapshot.Take(context.Background(), d, snapshot.Options{Concurrency: conc}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompressDiscard writes the same tree's blob bytes through only
// the archive writer (no hashing, no ordered fetch), for comparison with
// BenchmarkBackup: it reads each planned blob whole from the driver.
func BenchmarkCompressDiscard(b *testing.B) {
	d := benchDriver(b)
	ctx := context.Background()
	snap, err := snapshot.Take(ctx, d, snapshot.Options{Concurrency: benchConcurrency(b)})
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	for bl := range snap.Planned.All() {
		total += bl.Size
	}
	for _, c := range []archive.Compression{archive.Zstd, archive.None} {
		b.Run(string(c), func(b *testing.B) {
			b.SetBytes(total)
			for b.Loop() {
				w, err := archive.NewWriter(io.Discard, archive.WriterOptions{Compression: c})
				if err != nil {
					b.Fatal(err)
				}
				if err := w.WriteCatalog(snap.Catalog()); err != nil {
					b.Fatal(err)
				}
				for bl := range snap.Planned.All() {
					rc, err := d.Reader(ctx, archive.BlobPath(bl.Digest))
					if err != nil {
						b.Fatal(err)
					}
					_, err = w.WriteBlob(bl.Digest, bl.Size, rc, true)
					rc.Close()
					if err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBackupSynthetic backs up a made-up registry of
// REGBACKUP_BENCH_TAGS tags (default 100,000; eight a repository, each its
// own image) that costs the Go heap nothing (regtest.Synth), to io.Discard,
// and reports the most the heap held live and the most memory Go had
// mapped: what backup holds per tag, at a million tags without fifteen
// million inodes.
//
//	REGBACKUP_BENCH_TAGS=1000000 go test ./backup -run '^$' -bench Synthetic -benchtime 1x
//
// REGBACKUP_BENCH_HEAPPROFILE=FILE writes the heap profile of the peak;
// REGBACKUP_BENCH_REMOTE=1 makes the registry say it is remote storage
// (regtest.RemoteSynth: its blobs listed, an incremental taking its
// parent's manifests, as on an object store);
// REGBACKUP_BENCH_INCREMENTAL=1 measures an unchanged incremental on top of
// a first backup (not measured) instead.
func BenchmarkBackupSynthetic(b *testing.B) {
	synth := regtest.BenchSynth(b)
	var d drivers.Driver = synth
	if os.Getenv("REGBACKUP_BENCH_REMOTE") != "" {
		d = regtest.RemoteSynth{Synth: synth}
	}
	if path := os.Getenv("REGBACKUP_BENCH_HEAPPROFILE"); path != "" {
		defer regtest.HeapProfileAtPeak(path)()
	}
	// As the regbackup binary runs, so that mapped-MiB is about the peak
	// RSS it would have.
	defer memlimit.Set()()
	var base *archive.Meta
	what := "backup"
	if os.Getenv("REGBACKUP_BENCH_INCREMENTAL") != "" {
		what = "unchanged incremental"
	}
	b.ResetTimer()
	for range b.N {
		if what != "backup" {
			b.StopTimer()
			first, err := backup.Backup(context.Background(), d, io.Discard, backup.Options{Compression: archive.Zstd})
			if err != nil {
				b.Fatal(err)
			}
			// Through a sidecar file, as regbackup reads it (streamed:
			// archive.OpenMeta): first.Meta's strings are the first
			// snapshot's, and would keep it alive.
			first.Meta.Archive = "full.tar.zst"
			sidecar := filepath.Join(b.TempDir(), "full.tar.zst"+archive.MetaSuffix)
			f, err := os.Create(sidecar)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := first.Meta.WriteTo(f); err != nil {
				b.Fatal(err)
			}
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
			first = nil
			if base, err = archive.OpenMeta(func() (io.ReadCloser, error) { return os.Open(sidecar) }); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		runtime.GC()
		var rep *backup.Report
		var err error
		live, mapped := regtest.PeakMemory(func() {
			// Backup lets go of Base: so does the caller (see Options.Base).
			rep, err = backup.Backup(context.Background(), d, io.Discard, backup.Options{Compression: archive.Zstd, Base: take(&base)})
			if err == nil { // and its sidecar, as regbackup writes it after the archive
				_, err = rep.Meta.WriteTo(io.Discard)
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Tags != synth.Tags() {
			b.Fatalf("backup holds %d tags, the registry %d", rep.Tags, synth.Tags())
		}
		regtest.ReportPeak(b, live, mapped)
		b.ReportMetric(float64(live)/float64(synth.Tags()), "live-B/tag")
		goal := uint64(256 << 20) // issue 15: 256 MiB up to 100,000 tags, 512 MiB up to a million
		if synth.Tags() > 100000 {
			goal = 512 << 20
		}
		verdict := "PASS"
		if mapped >= goal {
			verdict = "FAIL"
		}
		b.Logf("%s of %d tags: %.0f MiB live, %.0f MiB mapped at the peak; goal under %d MiB: %s",
			what, synth.Tags(), float64(live)/(1<<20), float64(mapped)/(1<<20), goal>>20, verdict)
	}
}

// take is *p, which it sets to nil.
func take[T any](p **T) *T {
	v := *p
	*p = nil
	return v
}
