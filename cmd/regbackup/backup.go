package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/backup"
	"github.com/regbackup/regbackup/drivers"
)

func backupCommand() *cli.Command {
	return &cli.Command{
		Name:      "backup",
		Usage:     "write a verified archive of a registry's storage",
		UsageText: "regbackup backup --from LOCATION -o ARCHIVE [--include-file PATH]... [options]",
		Description: `Takes a consistent snapshot of a live registry (link files first, then the manifests
they name) and streams every blob they reference into a tar archive, checking each blob's
sha256 as it is read. Unreferenced blobs (garbage) are left out unless --all-blobs.

LOCATION is a path or file:///path (the registry's rootdirectory, which holds docker/).
ARCHIVE is a file name, or - for stdout. An existing file is never overwritten without --force;
the archive appears under its name only once complete.

Damage found in the source (malformed or dangling links, missing or corrupt blobs) is
reported and left out, and the command exits 3; the archive is still complete and holds
everything that was intact.

Example:
  regbackup backup --from /var/lib/registry --include-file /certs/registry.key \
    --include-file /certs/registry.crt -o /backups/registry-2026-11-23.tar.zst`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "from", Usage: "registry storage `LOCATION` to back up"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "archive `FILE` to write, - for stdout"},
			&cli.StringSliceFlag{Name: "include-file", Usage: "also store this `PATH` (token key, certificate, htpasswd, TLS files); repeatable"},
			&cli.StringFlag{Name: "compression", Value: "zstd", Usage: "zstd, gzip or none"},
			&cli.IntFlag{Name: "level", Usage: "compression level (zstd 1-4, gzip 1-9); 0 = fastest, right for already-compressed layers"},
			&cli.BoolFlag{Name: "all-blobs", Usage: "also keep blobs nothing references (garbage a GC would delete)"},
			&cli.IntFlag{Name: "concurrency", Value: 4, Usage: "blobs read at once"},
			&cli.BoolFlag{Name: "force", Usage: "overwrite an existing archive file"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only damage and errors"},
			&cli.BoolFlag{Name: "json", Usage: "print a JSON summary on stdout (not with -o -)"},
			metricsFlag(),
		}, lockFlags()...),
		Action: runBackup,
	}
}

func runBackup(c *cli.Context) (err error) {
	from, out := c.String("from"), c.String("output")
	r := newRun(c, "backup")
	defer func() { err = r.finish(err) }()
	r.out.Archive, r.out.location = out, redactLocation(from)
	switch {
	case c.NArg() > 0:
		return usagef("backup takes no arguments (got %q); use --from and -o", c.Args().First())
	case from == "":
		return usagef("--from is required: the registry's storage root, e.g. /var/lib/registry")
	case out == "":
		return usagef("-o is required: the archive file to write, or - for stdout")
	case out == "-" && c.Bool("json"):
		return usagef("--json prints on stdout, which -o - already uses")
	case c.Int("concurrency") < 1:
		return usagef("--concurrency must be at least 1")
	}
	comp, err := archive.ParseCompression(c.String("compression"))
	if err != nil {
		return usageError{err}
	}
	d, err := drivers.Open(c.Context, from)
	if err != nil {
		return err
	}
	r.setLocation(&r.out.Source, d.String())
	if err := r.lockStorage(d, false); err != nil {
		return err
	}
	d = throttled(d)
	rep := r.rep
	opts := backup.Options{Compression: comp, Level: c.Int("level"), Concurrency: c.Int("concurrency"),
		AllBlobs: c.Bool("all-blobs"), IncludeFiles: c.StringSlice("include-file"), ToolVersion: version,
		Progress: &rep.prog}

	var result *backup.Report
	write := func(w io.Writer) error {
		var err error
		result, err = backup.Backup(c.Context, d, w, opts)
		return err
	}
	if out == "-" {
		err = write(os.Stdout)
	} else {
		err = writeAtomically(out, c.Bool("force"), write)
	}
	r.report("backup", result)
	if fi, serr := os.Stat(out); serr == nil && result != nil && out != "-" {
		r.out.ArchiveBytes = fi.Size()
	}
	if err == nil && out != "-" && !c.Bool("quiet") && !c.Bool("json") {
		rep.printf("archive: %s\n", out)
	}
	return err
}

// writeAtomically runs write on a temp file beside name and renames it to
// name only when write succeeded (or found only source damage, which still
// yields a complete archive). Anything else removes the temp file.
func writeAtomically(name string, force bool, write func(io.Writer) error) error {
	if _, err := os.Stat(name); err == nil && !force {
		return fmt.Errorf("%s already exists; choose another name or use --force", name)
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(filepath.Dir(name), "."+filepath.Base(name)+".partial-"+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("creating archive: %w", err)
	}
	err = write(f)
	if err == nil || errors.Is(err, backup.ErrDamagedSource) {
		if serr := f.Sync(); serr != nil {
			err = fmt.Errorf("writing %s: %w", name, serr)
		}
	}
	if cerr := f.Close(); cerr != nil && (err == nil || errors.Is(err, backup.ErrDamagedSource)) {
		err = fmt.Errorf("writing %s: %w", name, cerr)
	}
	if err != nil && !errors.Is(err, backup.ErrDamagedSource) {
		os.Remove(tmp)
		return err
	}
	if rerr := os.Rename(tmp, name); rerr != nil {
		os.Remove(tmp)
		return rerr
	}
	return err
}
