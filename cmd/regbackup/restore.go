package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/filesystem"
	"github.com/regbackup/regbackup/drivers/regconfig"
	"github.com/regbackup/regbackup/gitlabinstall"
	"github.com/regbackup/regbackup/metadb"
	"github.com/regbackup/regbackup/restore"
)

func restoreCommand() *cli.Command {
	return &cli.Command{
		Name:      "restore",
		Usage:     "restore an archive into registry storage, in place",
		UsageText: "regbackup restore ARCHIVE (--to LOCATION | --to-registry-config FILE) [--files-to DIR | --files-to-original] [options]",
		Description: `Writes the archive into the existing storage root: the root folder itself is never
removed, renamed or recreated (it is often a mount point). Every file goes through a temp
file in its own folder and a rename. Blobs come first, each verified before it is committed
(blobs already present with the right digest are skipped); link files follow only after the
whole archive checked out, in push order: layers, revisions, tag history, tags. A corrupt or
truncated archive therefore aborts before any link is written, and the registry keeps
serving what it served. Restart the registry afterwards (its blob cache may be stale).

ARCHIVE is a file, an object URL (below), or - for stdin. New files and folders get the owner of the root folder
(the registry's user) unless --owner. Included files (key material) are restored only with
--files-to or --files-to-original; private keys get mode 0600.

An incremental archive is restored with its parents, found beside it (or given with
--parent FILE): each is checked to be the very archive it was made on (catalog sha256),
read once and verified, before any link file is written. A missing parent exits 5. An
encrypted archive needs --identity FILE (exit 6 without the right one).

GitLab's own backups are restored the same way, with no extra flag: ARCHIVE may be
<backup_id>_gitlab_backup.tar (gitlab-backup create), the registry.tar.gz inside it (gzip
or zstd, told by its first bytes), or the folder it was extracted into. GitLab's
backup_information.yml is printed (version, date); a backup made with SKIP=registry is an
error that says so. The registry's folder is written in place (a mount point and its
lost+found stay), every blob is checked against its digest, link files are held (on disk
when there are many) until the whole stream was read and written only for blobs that were
there intact; uploads in progress and temp files are left out. A blob that does not match
its digest exits 3 before any link file is written; malformed link files and links to
blobs the backup lacks are listed and not written, the rest is restored, exit 3. The
registry's metadata database GitLab 18.10+ adds (db/registry_database.sql.gz) is restored after
the storage into the database the target config names (--to-registry-config or --gitlab): an
empty or freshly migrated one, or with --clean one that holds repositories.

` + archiveURLHelp + `

` + locationHelp + `

` + gitlabHelp + ` With --gitlab and no --to, the restore goes into the
install's registry storage; with --files-to-original the key material an archive of
backup --gitlab holds goes back to the install's paths, owned and moded as it was, and the
output says which services to restart.

With --to-registry-config, the restore goes into the storage that config names (a missing
filesystem root is created), and one line per key file the config names says whether the
archive holds it at that path and what happens to it. Key files are still written only with
--files-to-original (to their original paths: the config's paths when the archive was taken
with the same config) or --files-to DIR; a file that differs from the archive's copy is
reported as REPLACED before anything is written.

An archive of GitLab's registry with its metadata database needs --to-registry-config whose
database: section is on: the target database must be empty or freshly migrated (no
repositories; --clean replaces one that holds repositories), the blobs are restored and
verified first, then the dump with pg_restore in one transaction (an interrupted restore changes
nothing in the database: run it again), then storage gets its database-in-use lockfile. Run the
registry's database migrate up afterwards. --repository is refused for such archives; --pg-bin
DIR picks pg_restore.

Examples:
  regbackup restore /backups/registry-2026-11-23.tar.zst --to /var/lib/registry --files-to /certs
  regbackup restore backup.tar.zst --to-registry-config /etc/docker/registry/config.yml --files-to-original
  regbackup restore backup.tar.zst --to 's3://new-bucket/reg?region=eu-west-1'
  regbackup restore backup.tar.zst --to /var/lib/registry --repository 'group/*' --dry-run
  regbackup restore registry.tar.zst --to-registry-config /var/opt/gitlab/registry/config.yml --pg-bin /opt/gitlab/embedded/bin
  ssh backup-host cat registry.tar.zst | regbackup restore - --to /var/lib/registry --clean
  regbackup restore /backups/registry-2026-11-23.tar.zst --to /var/lib/registry --identity key.txt
  regbackup restore 's3://backups/registry/registry-2026-11-23.tar.zst?region=eu-west-1' --to /var/lib/registry
  regbackup restore 1764555303_2026_12_01_18.6.1_gitlab_backup.tar --to /var/opt/gitlab/gitlab-rails/shared/registry
  regbackup restore registry.tar.gz --to /home/git/data/shared/registry --repository 'group/*' --dry-run
  regbackup restore /backups/registry-2026-12-01.tar.zst --gitlab --files-to-original`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "to", Usage: "registry storage `LOCATION` to restore into: a folder, s3://, gs:// or azure:// (see above)"},
			&cli.StringFlag{Name: "to-registry-config", Usage: "restore into the storage this registry config.yml `FILE` names (REGISTRY_* variables applied); instead of --to"},
			&cli.StringSliceFlag{Name: "repository", Aliases: []string{"r"}, Usage: "restore only repositories matching this `GLOB` (and the blobs they need); repeatable; * stays within one path component"},
			leftoversFlag(),
			&cli.BoolFlag{Name: "clean", Usage: "after restoring, remove what the archive does not hold under docker/registry/v2 (never the root, never lost+found)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "check the whole archive and print what would change, writing nothing"},
			&cli.StringFlag{Name: "files-to", Usage: "write included files into `DIR`"},
			&cli.BoolFlag{Name: "files-to-original", Usage: "write included files to their original paths"},
			&cli.StringFlag{Name: "owner", Usage: "`UID:GID` for new files and folders (default: the root folder's owner, when run as root)"},
			pgBinFlag(),
			concurrencyFlag("blobs written (and presence checks, link files)"),
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only problems and errors"},
			&cli.BoolFlag{Name: "json", Usage: "print a JSON summary on stdout"},
			metricsFlag(), metricsPushFlag(),
		}, append(append(lockFlags(), parentFlags()...), gitlabFlags()...)...),
		Action: runRestore,
	}
}

func runRestore(c *cli.Context) (err error) {
	r := newRun(c, "restore")
	defer func() { err = r.finish(err) }()
	r.out.location, r.out.DryRun = redactLocation(c.String("to")), c.Bool("dry-run")
	name, err := oneArchiveArg(c.Args().Slice(), "restore")
	if err != nil {
		return err
	}
	r.out.Archive = name
	to, cfgFile := c.String("to"), c.String("to-registry-config")
	switch {
	case to != "" && cfgFile != "":
		return usagef("use either --to or --to-registry-config, not both")
	case cfgFile != "" && c.Bool("gitlab"):
		return usagef("use either --to-registry-config or --gitlab, not both")
	case to == "" && cfgFile == "" && !c.Bool("gitlab"):
		return usagef("--to, --to-registry-config or --gitlab is required: the registry storage to restore into (e.g. /var/lib/registry, s3://bucket/root), its config.yml, or the GitLab install's")
	case c.String("files-to") != "" && c.Bool("files-to-original"):
		return usagef("use either --files-to or --files-to-original, not both")
	}
	conc, err := concurrencyOption(c)
	if err != nil {
		return err
	}
	// Check everything that can be wrong before the target is touched: a
	// typo must not leave a new storage folder behind.
	uid, gid := -1, -1
	if o := c.String("owner"); o != "" {
		if uid, gid, err = parseOwner(o); err != nil {
			return err
		}
	}
	gl, err := findGitLab(c, to)
	if err != nil {
		return err
	}
	scan, err := restore.NewScan(c.StringSlice("repository"))
	if err != nil {
		return err
	}
	defer scan.Close()
	in, err := openInput(c, name, scan)
	if err != nil {
		return err
	}
	defer in.Close()
	ar := in.ar
	parents, err := in.parents()
	if err != nil {
		return err
	}
	var target *restoreTarget
	if gl != nil && to == "" {
		target = &restoreTarget{}
		target.d, target.created, err = gitlabStorage(c.Context, gl, true, c.Bool("dry-run"))
	} else {
		target, err = openRestoreTarget(c.Context, to, cfgFile, c.Bool("dry-run"))
	}
	if err != nil {
		return err
	}
	d := target.d
	r.setLocation(&r.out.Target, d.String())
	if !c.Bool("quiet") {
		if target.created {
			fmt.Fprintf(os.Stderr, "created %s (it did not exist)\n", d)
		}
		if ar != nil {
			target.describeKeyFiles(os.Stderr, ar.Catalog().Files, c.String("files-to"), c.Bool("files-to-original"), c.Bool("dry-run"))
		}
	}
	// A dry run writes nothing: it takes no lock and never waits.
	if !c.Bool("dry-run") {
		if err := r.lockStorage(d, false); err != nil {
			return err
		}
		r.beginWrites(d)
		r.removeLeftovers(d)
	}
	if uid >= 0 {
		fd, ok := d.(*filesystem.Driver)
		if !ok {
			return usagef("--owner applies only to filesystem locations, not %s", d.Name())
		}
		if d, err = filesystem.New(fd.Root(), filesystem.Options{UID: uid, GID: gid, SetOwner: true}); err != nil {
			return err
		}
	}
	mode, err := metadataMode(c.Context, target.cfg, d)
	if err != nil {
		return err
	}
	if d, err = throttled(d); err != nil {
		return err
	}
	rep := r.rep
	var db *restore.Database
	if mode == regconfig.DatabaseMetadata {
		tools, err := metadb.FindTools(c.String("pg-bin"))
		if err != nil {
			return err
		}
		db = &restore.Database{Config: target.cfg.Database, Tools: tools}
		if !c.Bool("quiet") {
			fmt.Fprintf(os.Stderr, "metadata: GitLab's metadata database %s (pg_restore %s from %s)\n", db.Config, tools.Version, tools.Dir)
		}
	}
	opts := restore.Options{Database: db, Repositories: c.StringSlice("repository"), Clean: c.Bool("clean"),
		DryRun: c.Bool("dry-run"), FilesTo: c.String("files-to"), FilesToOriginal: c.Bool("files-to-original"),
		Concurrency: conc, Progress: &rep.prog, Parents: parents, Identities: in.finder.Identities}
	if opts.DryRun {
		changes := os.Stdout
		if c.Bool("json") {
			changes = os.Stderr // stdout holds only the JSON
		}
		opts.Change = func(action, path string) {
			if action != "skip" {
				rep.fprintf(changes, "would %s %s\n", action, path)
			}
		}
	}
	if in.gl != nil {
		cfg := target.cfg
		if gl != nil && to == "" {
			cfg = gl.Config
		}
		return restoreGitLab(c, r, in, d, opts, gl, cfg)
	}
	if gl != nil {
		opts.FileTarget = func(f archive.File) string { return gitlabFileTarget(gl, f.Path) }
	}
	result, err := restore.FromScan(c.Context, ar, scan, d, opts)
	if err != nil {
		return err
	}
	verb := "restore"
	if opts.DryRun {
		verb = "restore --dry-run (nothing written)"
	}
	r.report(verb, result, restoreSummary(result))
	if !c.Bool("quiet") && !c.Bool("json") && !opts.DryRun {
		rep.printf("restored into %s; %s\n", d, restartHint(gl))
		if result.Metadata != "" {
			rep.printf("metadata database restored (schema %s): run the registry's `database migrate up` before starting it, which brings an older dump's schema forward (Omnibus: gitlab-ctl registry-database migrate up)\n", result.SchemaVersion)
		}
	}
	return nil
}

// restartHint says what to restart after a restore.
func restartHint(gl *gitlabinstall.Install) string {
	if gl != nil {
		return "restart GitLab's registry so it drops cached blob descriptors: " + gl.Restart
	}
	return "restart the registry so it drops cached blob descriptors"
}

// openTarget opens a restore target. A filesystem root that does not exist
// yet is created (a fresh machine); an existing one is used as it is.
func openTarget(ctx context.Context, loc string, dryRun bool) (drivers.Driver, bool, error) {
	d, err := drivers.Open(ctx, loc)
	if err == nil || dryRun {
		return d, false, err
	}
	if !strings.Contains(loc, "://") || strings.HasPrefix(loc, "file://") {
		root := strings.TrimPrefix(loc, "file://")
		if _, serr := os.Stat(root); os.IsNotExist(serr) {
			fd, ferr := filesystem.New(root, filesystem.Options{Create: true})
			if ferr != nil {
				return nil, false, ferr
			}
			return fd, true, nil
		}
	}
	return nil, false, err
}

func parseOwner(s string) (int, int, error) {
	u, g, ok := strings.Cut(s, ":")
	uid, err1 := strconv.Atoi(u)
	gid, err2 := strconv.Atoi(g)
	if !ok || err1 != nil || err2 != nil || uid < 0 || gid < 0 {
		return 0, 0, usagef("--owner %q: want numeric UID:GID, e.g. 999:999", s)
	}
	return uid, gid, nil
}
