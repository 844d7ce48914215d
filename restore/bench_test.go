package restore

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/regbackup/regbackup/internal/backuptest"
	"github.com/regbackup/regbackup/internal/regtest"
)

// BenchmarkReadSynthetic measures what verify and restore hold per tag:
// it backs up a made-up registry of REGBACKUP_BENCH_TAGS tags (default
// 100,000; regtest.Synth) to a zstd file once, not measured, then
// verifies it and restores it into storage that keeps nothing
// (regtest.Discard): all of it, with --clean, and with --repository
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
				d := &regtest.Discard{}
				backuptest.MeasurePeak(b, tc.name, tags, func() error {
					rep, err := Restore(context.Background(), f, d, tc.opts)
					if err == nil && (rep.Tags != tags || int(d.Links.Load()) != rep.Links || rep.Links != 5*tags) {
						err = fmt.Errorf("restored %d tags and %d link files (%d put), want %d and %d",
							rep.Tags, rep.Links, d.Links.Load(), tags, 5*tags)
					}
					return err
				})
			}
		})
	}
}
