package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/backup"
	"github.com/regbackup/regbackup/snapshot"
	"github.com/regbackup/regbackup/store"
)

func backupCommand() *cli.Command {
	return &cli.Command{
		Name:      "backup",
		Usage:     "write a verified archive of a registry's storage",
		UsageText: "regbackup backup (--from LOCATION | --registry-config FILE) -o ARCHIVE [--include-file PATH]... [options]",
		Description: `Takes a consistent snapshot of a live registry (link files first, then the manifests
they name) and streams every blob they reference into a tar archive, checking each blob's
sha256 as it is read. Unreferenced blobs (garbage) are left out unless --all-blobs.

` + locationHelp + `

With --registry-config, the key files the config names are stored too, as if given with
--include-file: http.tls.certificate, http.tls.key, http.tls.clientcas, auth.htpasswd.path,
auth.token.rootcertbundle and auth.token.jwks. One that does not exist or cannot be read
stops the backup before anything is written (the registry would not start without it);
--no-key-files backs up the storage only. The storage and files picked are printed first.

ARCHIVE is a file name, an object URL (below), or - for stdout. An existing file or object
is never overwritten without --force; the archive appears under its name only once complete.

` + archiveURLHelp + `

` + databaseHelp + ` --incremental copies the blobs by content as
always and the database dump whole every time.

Storage that holds blobs but no link file, with no database config, is refused (exit 1): that
is what GitLab's registry with its metadata database leaves, and a backup of it would be empty.
Give --registry-config, or --all-blobs to save the blobs alone.

` + gitlabHelp + ` With --gitlab, backup stores the key
and certificate with the data (what GitLab's own backup leaves out); --no-key-files leaves
them out.

Damage found in the source (malformed or dangling links, missing or corrupt blobs) is
reported and left out, and the command exits 3; the archive is still complete and holds
everything that was intact.

{date} and {time} in ARCHIVE are replaced by the local date (YYYY-MM-DD) and time (HHMMSS).
--incremental writes only the blobs that the newest earlier archive of the same name pattern
in the same folder or prefix (and the parents it needs) lacks, plus all of the metadata; a full backup
when there is none or the chain would exceed --max-chain. Each archive gets a small sidecar,
ARCHIVE.meta.json (times, checksums and blob digests; no secrets, no repository names),
which the next incremental backup and prune read. --keep-* prune the folder (or prefix) after a
successful backup (see regbackup prune --help). --encrypt-to age1... encrypts the archive
with age; without it, key material (--include-file, key files) prints a warning, even
with --quiet.

Examples:
  regbackup backup --from /var/lib/registry --include-file /certs/registry.key \
    --include-file /certs/registry.crt -o /backups/registry-2026-11-23.tar.zst
  regbackup backup --registry-config /etc/docker/registry/config.yml -o backup.tar.zst
  AWS_PROFILE=backup regbackup backup --from 's3://registry-bucket/reg?region=eu-west-1' -o backup.tar.zst
  regbackup backup --from 'azure://registry/reg?account=myaccount' -o backup.tar.zst
  regbackup backup --from /var/lib/registry -o '/backups/registry-{date}.tar.zst' \
    --incremental --keep-daily 7 --keep-weekly 4 --encrypt-to age1... --json
  regbackup backup --from /var/lib/registry \
    -o 's3://backups/registry/registry-{date}.tar.zst?region=eu-west-1' --incremental --keep-daily 7
  regbackup backup --gitlab -o '/backups/registry-{date}.tar.zst' --encrypt-to age1...`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "from", Usage: "registry storage `LOCATION` to back up: a folder, s3://, gs:// or azure:// (see above)"},
			&cli.StringFlag{Name: "registry-config", Usage: "back up the storage this registry config.yml `FILE` names (REGISTRY_* variables applied) and its key files; instead of --from"},
			&cli.BoolFlag{Name: "no-key-files", Usage: "with --registry-config: do not store the key files the config names"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "archive `FILE` to write: a path, s3://, gs:// or azure:// object URL, or - for stdout"},
			&cli.StringSliceFlag{Name: "include-file", Usage: "also store this `PATH` (token key, certificate, htpasswd, TLS files); repeatable"},
			&cli.StringFlag{Name: "compression", Value: "zstd", Usage: "zstd, gzip or none"},
			&cli.IntFlag{Name: "level", Usage: "compression level (zstd 1-4, gzip 1-9); 0 = fastest, right for already-compressed layers"},
			&cli.BoolFlag{Name: "all-blobs", Usage: "also keep blobs nothing references (garbage a GC would delete)"},
			pgBinFlag(),
			concurrencyFlag("blobs read (and link files, manifests)"),
			&cli.BoolFlag{Name: "force", Usage: "overwrite an existing archive file"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only damage and errors"},
			&cli.BoolFlag{Name: "json", Usage: "print a JSON summary on stdout (not with -o -)"},
			metricsFlag(), metricsPushFlag(),
		}, append(append(lockFlags(), chainFlags()...), gitlabFlags()...)...),
		Action: runBackup,
	}
}

func runBackup(c *cli.Context) (err error) {
	from, cfgFile, out := c.String("from"), c.String("registry-config"), c.String("output")
	r := newRun(c, "backup")
	defer func() { err = r.finish(err) }()
	r.out.Archive, r.out.location = out, redactLocation(from)
	switch {
	case c.NArg() > 0:
		return usagef("backup takes no arguments (got %q); use --from and -o", c.Args().First())
	case from != "" && cfgFile != "":
		return usagef("use either --from or --registry-config, not both")
	case cfgFile != "" && c.Bool("gitlab"):
		return usagef("use either --registry-config or --gitlab, not both")
	case from == "" && cfgFile == "" && !c.Bool("gitlab"):
		return usagef("--from, --registry-config or --gitlab is required: the registry's storage (e.g. /var/lib/registry, s3://bucket/root), its config.yml, or the GitLab install's")
	case c.Bool("no-key-files") && cfgFile == "" && !c.Bool("gitlab"):
		return usagef("--no-key-files goes with --registry-config or --gitlab")
	case out == "":
		return usagef("-o is required: the archive file or object URL to write, or - for stdout")
	case out == "-" && c.Bool("json"):
		return usagef("--json prints on stdout, which -o - already uses")
	}
	conc, err := concurrencyOption(c)
	if err != nil {
		return err
	}
	comp, err := archive.ParseCompression(c.String("compression"))
	if err != nil {
		return usageError{err}
	}
	withKeys := !c.Bool("no-key-files")
	gl, err := findGitLab(c, from)
	if err != nil {
		return err
	}
	var src *backupSource
	var glFiles []string
	if gl != nil {
		src = &backupSource{}
		if withKeys {
			if glFiles, err = gitlabKeyFiles(gl); err != nil {
				return err
			}
		}
		src.d, _, err = gitlabStorage(c.Context, gl, false, false)
	} else {
		src, err = openBackupSource(c.Context, from, cfgFile, withKeys, c.String("pg-bin"))
	}
	if err != nil {
		return err
	}
	defer src.db.close()
	d := src.d
	r.setLocation(&r.out.Source, d.String())
	if !c.Bool("quiet") {
		src.describe(os.Stderr, withKeys)
	}
	if err := r.lockStorage(d, false); err != nil {
		return err
	}
	if d, err = throttled(d); err != nil {
		return err
	}
	rep := r.rep
	plan, err := planChain(c, rep)
	if err != nil {
		return err
	}
	out = plan.out
	r.out.Archive = out
	opts := backup.Options{Compression: comp, Level: c.Int("level"), Concurrency: conc,
		AllBlobs: c.Bool("all-blobs"), IncludeFiles: append(append(c.StringSlice("include-file"), src.paths()...), glFiles...),
		ToolVersion: version, Progress: &rep.prog}
	plan.opts(&opts)
	if src.db != nil {
		opts.Database = &backup.Database{DB: src.db.db, Tools: src.db.tools}
	}
	warnKeyMaterial(rep, opts, out)

	var result *backup.Report
	write := func(w io.Writer) error {
		o := opts
		opts.Base = nil // Backup lets go of it half way (see backup.Options.Base): not held here meanwhile
		var err error
		result, err = backup.Backup(c.Context, d, w, o)
		return err
	}
	if out == "-" {
		err = write(os.Stdout)
	} else {
		if err := r.removePartials(plan.store, plan.name); err != nil {
			return err
		}
		err = writeAtomically(c.Context, plan.store, plan.name, out, c.Bool("force"), write)
	}
	r.report("backup", result, backupSummary(result))
	if out != "-" && result != nil {
		if fi, serr := plan.store.Stat(c.Context, plan.name); serr == nil {
			r.out.ArchiveBytes = fi.Size
		}
	}
	if ferr := finishChain(c, plan, result, err, rep, &r.out); ferr != nil && err == nil {
		err = ferr
	}
	if err == nil && out != "-" && !c.Bool("quiet") && !c.Bool("json") {
		rep.printf("archive: %s\n", out)
	}
	return err
}

// writeAtomically runs write on a new file name of st (shown as out) and
// makes it appear only when write succeeded (or found only source damage,
// which still yields a complete archive): a local temp file renamed into
// place, or an object upload completed. Anything else leaves nothing.
func writeAtomically(ctx context.Context, st store.ArchiveStore, name, out string, force bool, write func(io.Writer) error) error {
	_, err := st.Stat(ctx, name)
	switch {
	case err == nil && !force:
		return fmt.Errorf("%s already exists; choose another name or use --force", out)
	case err != nil && !errors.Is(err, os.ErrNotExist) && store.IsObjectURL(out):
		return err
	}
	w, err := st.Create(ctx, name)
	if err != nil {
		return fmt.Errorf("creating archive: %w", err)
	}
	err = write(w)
	if err != nil && !errors.Is(err, snapshot.ErrDamagedSource) {
		w.Abort()
		return err
	}
	if cerr := w.Commit(); cerr != nil {
		return cerr
	}
	return err
}
