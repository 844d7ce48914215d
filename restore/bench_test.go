package restore

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"testing"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/internal/backuptest"
)

// BenchmarkReadSynthetic measures what verify and restore hold per tag:
// it backs up a made-up registry of REGBACKUP_BENCH_TAGS tags (default
// 100,000; regtest.Synth) to a zstd file once, not measured, then
// verifies it and restores it into storage that keeps nothing
// (discardDriver): all of it, with --clean, and with --repository
// selecting every repository; it reports the peak live heap and Go's
// peak mapped memory (about the RSS) of each.
//
//	REGBACKUP_BENCH_TAGS=1000000 go test ./restore -run '^$' -bench Synthetic -benchtime 1x
//
// REGBACKUP_BENCH_HEAPPROFILE=FILE writes the heap profile of the peak
// (of the last sub-benchmark run: pick one with -bench Synthetic/restore);
// REGBACKUP_BENCH_ARCHIVES=DIR keeps the archive there for later runs.
func BenchmarkReadSynthetic(b *testing.B) {
	path, tags := backuptest.SynthArchive(b)
	open := func(b *testing.B) *os.File {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { f.Close() })
		return f
	}
	b.Run("verify", func(b *testing.B) {
		for range b.N {
			f := open(b)
			backuptest.MeasurePeak(b, "verify", tags, func() error {
				rep, _, err := Verify(context.Background(), f, nil)
				if err == nil && rep.Tags != tags {
					err = fmt.Errorf("verified %d tags, want %d", rep.Tags, tags)
				}
				return err
			})
		}
	})
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"restore", Options{}},
		{"restore-clean", Options{Clean: true}},
		// Every repository, through the selection's path: the most a
		// filtered restore holds.
		{"restore-repository", Options{Repositories: []string{"synth/*"}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				f := open(b)
				d := &discardDriver{}
				backuptest.MeasurePeak(b, tc.name, tags, func() error {
					rep, err := Restore(context.Background(), f, d, tc.opts)
					if err == nil && (rep.Tags != tags || int(d.links.Load()) != rep.Links || rep.Links != 5*tags) {
						err = fmt.Errorf("restored %d tags and %d link files (%d put), want %d and %d",
							rep.Tags, rep.Links, d.links.Load(), tags, 5*tags)
					}
					return err
				})
			}
		})
	}
}

// discardDriver is storage that keeps nothing, for measuring a restore
// of millions of files: it is empty (Stat and Reader find nothing), and a
// Put reads its file whole, checks the size and counts it.
type discardDriver struct {
	blobs, links atomic.Int64
}

var _ drivers.Driver = (*discardDriver)(nil)

func (*discardDriver) Name() string   { return "discard" }
func (*discardDriver) String() string { return "discard://" }

func (*discardDriver) Stat(_ context.Context, p string) (drivers.FileInfo, error) {
	return drivers.FileInfo{}, fmt.Errorf("discard: %s: %w", p, drivers.ErrNotFound)
}

func (*discardDriver) Reader(_ context.Context, p string) (io.ReadCloser, error) {
	return nil, fmt.Errorf("discard: %s: %w", p, drivers.ErrNotFound)
}

func (d *discardDriver) Put(_ context.Context, p string, r io.Reader, size int64) error {
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		return err
	}
	if size >= 0 && n != size {
		return fmt.Errorf("discard: %s: %d bytes, want %d", p, n, size)
	}
	if archive.ParsePath(p).Kind.IsLink() {
		d.links.Add(1)
	} else {
		d.blobs.Add(1)
	}
	return nil
}

func (*discardDriver) Walk(context.Context, string, drivers.WalkFunc) error { return nil }

func (*discardDriver) Delete(_ context.Context, p string) error {
	return fmt.Errorf("discard: %s: %w", p, drivers.ErrNotFound)
}
