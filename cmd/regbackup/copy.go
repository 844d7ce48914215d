package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/problem"
	"github.com/regbackup/regbackup/regcopy"
	"github.com/regbackup/regbackup/snapshot"
)

func copyCommand() *cli.Command {
	return &cli.Command{
		Name:      "copy",
		Usage:     "copy a registry's storage to another backend, with no archive in between",
		UsageText: "regbackup copy (--from LOCATION | --registry-config FILE) (--to LOCATION | --to-registry-config FILE) [options]",
		Description: `Copies a registry's storage from one backend to another (a folder to S3, S3 to Azure,
...) for a migration. It takes a snapshot of the source first (link files, then the
manifests they name), copies every blob those need, each checked against its sha256 on the
way (a corrupt or missing source blob is reported, exit 3, and the links naming it are not
written), and writes the link files last, in push order: layers, revisions, tag history,
tags. Blobs are copied inside the storage service when source and target are on the same
one (S3 CopyObject, GCS rewrite, Azure copy from URL), else streamed through this process.
Blobs copied inside the service are not hashed by regbackup (their bytes never reach it);
--verify-existing on a later run hashes every blob at the target.

copy never deletes anything at the target, and leaves alone what it finds there that the
source lacks. It is resumable: a blob already at the target with the right size (and, with
--verify-existing, the right sha256) and a link file already holding the right digest are
skipped, so an interrupted copy is finished by running the same command again, and a run
with nothing new copies nothing.

The source may keep serving while it is copied. Pushes made meanwhile are not copied: to
catch up, make the source registry read-only for a short while (storage: maintenance:
readonly: enabled: true), run the same copy again (it copies only what changed), and point
clients to the new registry. At the end, copy prints the storage section of the config.yml
a registry on the target needs.

With --registry-config of GitLab's registry with its metadata database (database: enabled),
copy takes a snapshot of the database first and copies exactly the blobs it references,
verified and resumable as above, then writes the target's database-in-use lockfile. The
database stays where it is: point the registry's storage section at the target (printed at
the end) and keep its database section.

With --shard I/N, copy copies only the blobs of shard I of N and writes nothing else: no
link file, no lockfile. Shard I holds the blobs whose sha256's first 8 hex digits, read as a
number v, give floor(v * N / 2^32) = I: contiguous digest prefix ranges (with N = 16, shard I
holds the digests starting with hex digit I; with N = 4, shard 0 holds 0-3, shard 1 4-7, ...).
The N shards are disjoint and together hold every blob, so N runs, one per shard, side by
side on N machines, copy every blob once; a plain copy (no --shard) run afterwards finds
every blob at the target and writes the links (and, in database mode, the lockfile). Each
shard run takes the snapshot of the source itself; it holds the target's lock shared, so
shard runs on one host may overlap, and a plain copy waits for them. A failed shard is
resumed by running it again. See "Migrating a very large registry" in the README.

` + locationHelp + `

The target takes the same forms (--to LOCATION or --to-registry-config FILE); a missing
target folder is created. The target is locked like a restore's, the source shared like a
check's.

` + gitlabHelp + ` With --gitlab, copy reads the install's registry storage
(its storage only: key material stays where it is).

Examples:
  regbackup copy --from /var/lib/registry --to 's3://new-bucket/registry?region=eu-west-1'
  regbackup copy --registry-config old.yml --to-registry-config new.yml
  regbackup copy --from /var/lib/registry --to 'azure://registry?account=myaccount' --dry-run
  regbackup copy --from /var/lib/registry --to /mnt/new --repository 'team/*' --concurrency 8
  regbackup copy --from 's3://old/reg?region=eu-west-1' --to 's3://new/reg?region=eu-west-1' --verify-existing
  regbackup copy --gitlab --to 's3://gitlab-registry/registry?region=eu-west-1'
  regbackup copy --from 's3://old/reg?region=eu-west-1' --to 'gs://new/reg' --shard 2/4   # then: the same without --shard
  regbackup copy --registry-config /var/opt/gitlab/registry/config.yml --to 's3://bucket/registry?region=eu-west-1'`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "from", Usage: "registry storage `LOCATION` to copy: a folder, s3://, gs:// or azure:// (see above)"},
			&cli.StringFlag{Name: "registry-config", Usage: "copy the storage this registry config.yml `FILE` names (REGISTRY_* variables applied); instead of --from"},
			&cli.StringFlag{Name: "to", Usage: "registry storage `LOCATION` to copy into"},
			&cli.StringFlag{Name: "to-registry-config", Usage: "copy into the storage this registry config.yml `FILE` names; instead of --to"},
			&cli.StringSliceFlag{Name: "repository", Aliases: []string{"r"}, Usage: "copy only repositories matching this `GLOB` (and the blobs they need); repeatable; * stays within one path component"},
			concurrencyFlag("blobs copied (and target lookups, link files)"),
			&cli.BoolFlag{Name: "dry-run", Usage: "print what would be copied (blobs, bytes, link files), writing nothing"},
			&cli.StringFlag{Name: "shard", Usage: "copy only the blobs of shard `I/N` (I from 0 to N-1, by digest prefix: see above), no link file; then a plain copy writes the links"},
			leftoversFlag(),
			&cli.BoolFlag{Name: "verify-existing", Usage: "read and hash the blobs already at the target (not just their size); copy again those that do not match"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only damage and errors"},
			&cli.BoolFlag{Name: "json", Usage: "print a JSON summary on stdout"},
			metricsFlag(), metricsPushFlag(),
		}, append(lockFlags(), gitlabFlags()...)...),
		Action: runCopy,
	}
}

// copyReport is copy's report in the JSON outcome: the core's, and the
// storage section a registry on the target needs.
type copyReport struct {
	*regcopy.Report
	Storage map[string]any `json:"storage"` // {"s3": {...}}; nil when the target cannot say
}

func runCopy(c *cli.Context) (err error) {
	from, cfgFile := c.String("from"), c.String("registry-config")
	to, toCfg := c.String("to"), c.String("to-registry-config")
	dryRun := c.Bool("dry-run")
	r := newRun(c, "copy")
	defer func() { err = r.finish(err) }()
	r.out.location, r.out.DryRun = redactLocation(to), dryRun
	switch {
	case c.NArg() > 0:
		return usagef("copy takes no arguments (got %q); use --from and --to", c.Args().First())
	case from != "" && cfgFile != "":
		return usagef("use either --from or --registry-config, not both")
	case cfgFile != "" && c.Bool("gitlab"):
		return usagef("use either --registry-config or --gitlab, not both")
	case from == "" && cfgFile == "" && !c.Bool("gitlab"):
		return usagef("--from, --registry-config or --gitlab is required: the registry storage to copy (e.g. /var/lib/registry, s3://bucket/root), its config.yml, or the GitLab install's")
	case to != "" && toCfg != "":
		return usagef("use either --to or --to-registry-config, not both")
	case to == "" && toCfg == "":
		return usagef("--to or --to-registry-config is required: the storage to copy into (e.g. s3://bucket/root) or its registry's config.yml")
	}
	var shard regcopy.Shard
	if c.IsSet("shard") {
		if shard, err = regcopy.ParseShard(c.String("shard")); err != nil {
			return usagef("--shard %v", err)
		}
	}
	conc, err := concurrencyOption(c)
	if err != nil {
		return err
	}
	src, err := openStorageSource(c, from, cfgFile)
	if err != nil {
		return err
	}
	defer src.db.close()
	r.out.Source = src.d.String()
	target, err := openCopyTarget(c, to, toCfg, dryRun)
	if err != nil {
		return err
	}
	dst := target.d
	if target.standIn {
		r.setLocation(&r.out.Target, redactLocation(to))
	} else {
		r.setLocation(&r.out.Target, dst.String())
	}
	if lockKey(src.d) == lockKey(dst) {
		return usagef("the source and the target are the same storage (%s)", dst)
	}
	if !c.Bool("quiet") {
		describeCopySource(src)
		if target.created {
			fmt.Fprintf(os.Stderr, "created %s (it did not exist)\n", dst)
		}
		if target.cfg != nil {
			fmt.Fprintf(os.Stderr, "target storage: %s (%s driver from %s%s)\n", dst, target.cfg.Driver, target.cfg.File, overridesNote(target.cfg))
		}
	}
	if err := r.lockStorage(src.d, true); err != nil {
		return err
	}
	if !dryRun {
		// Shards write disjoint blobs and no link: they may overlap.
		if err := r.lockStorage(dst, shard.Of > 0); err != nil {
			return err
		}
		r.beginWrites(dst)
		// A shard holds the lock shared: the temp files of other shards
		// there may be live. The plain copy after them removes leftovers.
		if shard.Of == 0 {
			r.removeLeftovers(dst)
		}
	}
	rep := r.rep
	opts := regcopy.Options{Repositories: c.StringSlice("repository"), Concurrency: conc, DryRun: dryRun,
		VerifyExisting: c.Bool("verify-existing"), Shard: shard, Progress: &rep.prog}
	if src.db != nil {
		opts.Database = src.db.db
		if !c.Bool("quiet") {
			src.db.describe(os.Stderr)
		}
	}
	if dryRun {
		changes := os.Stdout
		if c.Bool("json") {
			changes = os.Stderr // stdout holds only the JSON
		}
		opts.Change = func(action, path string) { rep.fprintf(changes, "would %s %s\n", action, path) }
	}
	srcD, err := throttled(src.d)
	if err != nil {
		return err
	}
	result, err := regcopy.Copy(c.Context, srcD, dst, opts)
	if result == nil {
		return err
	}
	storage := storageSection(dst)
	if target.standIn {
		// A dry run into a folder not made yet: the folder it would be.
		if abs, aerr := filepath.Abs(strings.TrimPrefix(to, "file://")); aerr == nil {
			storage = map[string]any{"filesystem": map[string]any{"rootdirectory": abs}}
		}
	}
	r.out.Report = copyReport{Report: result, Storage: storage}
	r.out.Blobs, r.out.Bytes = result.Blobs+result.ServerSide, result.BlobBytes
	if c.Bool("json") || c.Bool("quiet") {
		return copyError(err)
	}
	rep.stop() // the summary follows: no bar in between
	printCopy(rep, result, dryRun)
	if shard.Of > 0 {
		rep.printf("once every shard of %d is done, the same command without --shard writes the link files (it finds the blobs there)\n", shard.Of)
		return copyError(err)
	}
	if !dryRun {
		rep.printf("a last run of the same command while the source registry is read-only for a short while " +
			"(storage: maintenance: readonly: enabled: true) catches up with pushes made during this copy\n")
	}
	printStorageSection(r.out.Target, storage)
	return copyError(err)
}

// describeCopySource says which storage a --registry-config gave, and
// that the key files it names are not copied (copy moves storage only).
func describeCopySource(src *backupSource) {
	if src.cfg == nil {
		return
	}
	fmt.Fprintf(os.Stderr, "source storage: %s (%s driver from %s%s)\n", src.d, src.cfg.Driver, src.cfg.File, overridesNote(src.cfg))
	printIgnored(os.Stderr, src.cfg)
	for _, k := range src.cfg.KeyFiles {
		fmt.Fprintf(os.Stderr, "key file %s (%s): not copied (copy moves storage only); the new registry needs it too\n", k.Path, k.Key)
	}
}

// copyError says what damage in the source means for a copy.
func copyError(err error) error {
	if errors.Is(err, snapshot.ErrDamagedSource) {
		return hinted{err.Error() + " (each damaged path is listed above; repair it at the source, or push those images again, and run the same copy again)", err}
	}
	return err
}

// copyTarget is where a copy writes: a restore's target, or, for a dry
// run into a folder that does not exist yet, an empty in-memory stand-in.
type copyTarget struct {
	*restoreTarget
	standIn bool
}

// openCopyTarget opens --to or --to-registry-config like a restore's
// target. A dry run into a folder that does not exist yet looks at an
// empty in-memory stand-in: everything would be copied.
func openCopyTarget(c *cli.Context, to, toCfg string, dryRun bool) (*copyTarget, error) {
	t, err := openRestoreTarget(c.Context, to, toCfg, dryRun)
	if err == nil || !dryRun || toCfg != "" || strings.Contains(strings.TrimPrefix(to, "file://"), "://") {
		return &copyTarget{restoreTarget: t}, err
	}
	if _, serr := os.Stat(strings.TrimPrefix(to, "file://")); !os.IsNotExist(serr) {
		return nil, err
	}
	d, oerr := drivers.Open(c.Context, "inmemory://")
	if oerr != nil {
		return nil, oerr
	}
	return &copyTarget{restoreTarget: &restoreTarget{d: d}, standIn: true}, nil
}

// printCopy prints copy's closing lines for people.
func printCopy(rep *reporter, res *regcopy.Report, dryRun bool) {
	verb, copied, written := "copy", "copied", "written"
	if dryRun {
		verb, copied, written = "copy --dry-run (nothing written)", "to copy", "to write"
	}
	damaged := 0
	for _, p := range res.Problems {
		if p.Severity == problem.Damage {
			damaged++
		}
	}
	if res.Shard != "" {
		verb = strings.Replace(verb, "copy", "copy --shard "+res.Shard, 1)
	}
	line := fmt.Sprintf("%s: %d repositories, %d tags; blobs: %d %s (%s), %d server-side, %d already at the target (%s)",
		verb, res.Repositories, res.Tags, res.Blobs, copied, human(res.BlobBytes), res.ServerSide, res.Skipped, human(res.SkippedBytes))
	if res.Replaced > 0 {
		line += fmt.Sprintf(", %d replaced (did not match)", res.Replaced)
	}
	if res.Shard != "" {
		line += fmt.Sprintf(", %d in other shards; no link written", res.OtherShards)
	} else {
		line += fmt.Sprintf("; links: %d %s, %d unchanged", res.Links, written, res.LinksUnchanged)
	}
	line += fmt.Sprintf("; in %s", res.Duration.Round(time.Millisecond))
	if damaged > 0 {
		line += fmt.Sprintf("; %d problem(s)", damaged)
	}
	rep.printf("%s\n", line)
}
