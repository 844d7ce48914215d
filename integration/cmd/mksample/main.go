// Command mksample writes a sample registry storage tree (see package
// integration/sample) into a folder, with the filesystem driver:
//
//	mksample [-seed N] [-size 1GiB] [-small-files N] [-force] DIR
//
// It writes each file in place (see directPut), not through the driver's
// all-or-nothing Put, so that 100,000 tags (-small-files 100000, about
// 800,000 files) take a minute or two, not six.
//
// DIR can then be served by a registry (rootdirectory: DIR) or backed up by
// regbackup. mksample refuses a non-empty DIR unless -force is given.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/regbackup/regbackup/drivers"
	_ "github.com/regbackup/regbackup/drivers/filesystem" // registers "file"
	"github.com/regbackup/regbackup/integration/sample"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mksample:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		opts  sample.Options
		size  = flag.String("size", "3MiB", "distinct layer `bytes` to write (suffixes KiB MiB GiB, KB MB GB)")
		force = flag.Bool("force", false, "write into DIR even if it is not empty")
	)
	flag.Int64Var(&opts.Seed, "seed", 1, "seed: the same seed and sizes write the same tree")
	flag.IntVar(&opts.SmallFiles, "small-files", 0, "add `N` tiny tagged images (about 8 small files each)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: mksample [-seed N] [-size BYTES] [-small-files N] [-force] DIR")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	n, err := parseSize(*size)
	if err != nil {
		return err
	}
	opts.LayerBytes = n

	dir, err := filepath.Abs(flag.Arg(0))
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return err
		}
	case err != nil:
		return err
	case len(entries) > 0 && !*force:
		return fmt.Errorf("%s is not empty (use -force to write into it anyway)", dir)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fs, err := drivers.Open(ctx, dir)
	if err != nil {
		return err
	}
	d := newDirectPut(fs, dir)
	start := time.Now()
	reg, err := sample.Generate(ctx, d, opts)
	if err != nil {
		return err
	}
	var total int64
	for _, s := range reg.Blobs {
		total += s
	}
	fmt.Printf("mksample: %s: %d repositories, %d tags, %d blobs, %d bytes (%.1f MiB) in %s\n",
		dir, len(reg.Repositories), len(reg.Tags), len(reg.Blobs), total, float64(total)/(1<<20),
		time.Since(start).Round(time.Millisecond))
	return nil
}

// parseSize reads "1073741824", "1GiB", "512MiB", "64KiB", "1GB", "1G" (= GiB).
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}, {"B", 1},
	}
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range units {
		if v, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(v), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad -size %q: want bytes like 3145728, 3MiB or 1GiB", s)
	}
	return int64(n * float64(mult)), nil
}
