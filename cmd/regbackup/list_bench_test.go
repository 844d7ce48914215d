package main

import (
	"context"
	"os"
	"testing"

	"github.com/regbackup/regbackup/internal/backuptest"
)

// BenchmarkListSynthetic measures what `regbackup list` and `list --json`
// hold per tag, as the command runs them (output to /dev/null), on an
// archive of a made-up registry of REGBACKUP_BENCH_TAGS tags (default
// 100,000; see backuptest.SynthArchive), made once, not measured.
//
//	REGBACKUP_BENCH_TAGS=1000000 go test ./cmd/regbackup -run '^$' -bench Synthetic -benchtime 1x
func BenchmarkListSynthetic(b *testing.B) {
	path, tags := backuptest.SynthArchive(b)
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devnull.Close()
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"text", []string{"regbackup", "list", path}},
		{"json", []string{"regbackup", "list", "--json", path}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				backuptest.MeasurePeak(b, "list "+tc.name, tags, func() error {
					stdout := os.Stdout
					os.Stdout = devnull
					defer func() { os.Stdout = stdout }()
					return newApp().RunContext(context.Background(), tc.args)
				})
			}
		})
	}
}
