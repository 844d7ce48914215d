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

{date} and {time} in ARCHIVE are replaced by the local date (YYYY-MM-DD) and time (HHMMSS).
--incremental writes only the blobs that the newest earlier archive of the same name pattern
in the same folder (and the parents it needs) lacks, plus all of the metadata; a full backup
when there is none or the chain would exceed --max-chain. Each archive gets a small sidecar,
ARCHIVE.meta.json (times, checksums and blob digests; no secrets, no repository names),
which the next incremental backup and prune read. --keep-* prune the folder after a
successful backup (see regbackup prune --help). --encrypt-to age1... encrypts the archive
with age; without it, --include-file prints a warning, even with --quiet.

Examples:
  regbackup backup --from /var/lib/registry --include-file /certs/registry.key \
    --include-file /certs/registry.crt -o /backups/registry-2026-11-23.tar.zst
  regbackup backup --from /var/lib/registry -o '/backups/registry-{date}.tar.zst' \
    --incremental --keep-daily 7 --keep-weekly 4 --encrypt-to age1... --json`,
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
		}, chainFlags()...),
		Action: runBackup,
	}
}

func runBackup(c *cli.Context) error {
	from, out := c.String("from"), c.String("output")
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
	rep := newReporter(c.Bool("quiet"))
	defer rep.stop()
	plan, err := planChain(c, rep)
	if err != nil {
		return err
	}
	out = plan.out
	opts := backup.Options{Compression: comp, Level: c.Int("level"), Concurrency: c.Int("concurrency"),
		AllBlobs: c.Bool("all-blobs"), IncludeFiles: c.StringSlice("include-file"), ToolVersion: version,
		Progress: &rep.prog}
	plan.opts(&opts)

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
	extra := map[string]any{"archive": out, "source": d.String()}
	if ferr := finishChain(c, plan, result, err, rep, extra); ferr != nil && err == nil {
		err = ferr
	}
	rep.summary(c.Bool("json"), "backup", result, extra)
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
