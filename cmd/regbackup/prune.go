package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/regbackup/regbackup/store"
	"github.com/urfave/cli/v2"
)

func pruneCommand() *cli.Command {
	return &cli.Command{
		Name:      "prune",
		Usage:     "delete old archives by retention rules, never one a kept incremental needs",
		UsageText: "regbackup prune DEST [--keep-last N] [--keep-daily N] [--keep-weekly N] [--keep-monthly N] [--dry-run] [options]",
		Description: `Keeps, like restic and borg: the newest N archives (--keep-last), and the newest archive
of each of the last N days, ISO weeks and months that have one (--keep-daily, --keep-weekly,
--keep-monthly; local time). An archive kept for any rule is kept. Every parent a kept
incremental archive needs is kept too, and their parents, whatever their age.

DEST is a folder (every regbackup archive in it), or an archive name pattern as given to
backup -o, with {date} and {time} (only the archives of that pattern). Both may be object
URLs: s3://BUCKET/PREFIX?region=... (every archive directly under PREFIX), or
s3://BUCKET/PREFIX/registry-{date}.tar.zst?region=...; gs:// and azure:// alike, with the
credentials backup takes from the environment. An archive's time is
its creation time, read from its sidecar (NAME.meta.json) or, when that is missing or
damaged, its catalog; an encrypted archive without a readable sidecar needs --identity.
Prune deletes nothing until it has read every archive's parents: an archive it cannot
read (encrypted without a fitting --identity: exit 6; damaged: exit 3; a failed read, such
as permission denied or an object store error: exit 1) stops it before the first deletion,
named in one line. Files that are not regbackup archives are never touched. Regbackup's own partial files (.NAME.partial-*) older than a day, and sidecars
whose archive is gone, are removed too.

Examples:
  regbackup prune /backups --keep-last 3 --keep-daily 7 --keep-weekly 4 --keep-monthly 6 --dry-run
  regbackup prune '/backups/registry-{date}.tar.zst' --keep-daily 14
  regbackup prune 's3://backups/registry/registry-{date}.tar.zst?region=eu-west-1' --keep-daily 14`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "keep-last", Usage: "keep the newest `N` archives"},
			&cli.IntFlag{Name: "keep-daily", Usage: "keep the newest archive of each of the last `N` days that have one"},
			&cli.IntFlag{Name: "keep-weekly", Usage: "keep the newest archive of each of the last `N` ISO weeks that have one"},
			&cli.IntFlag{Name: "keep-monthly", Usage: "keep the newest archive of each of the last `N` months that have one"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print what would be kept and deleted, deleting nothing"},
			identityFlag(),
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only what is deleted, and errors"},
			&cli.BoolFlag{Name: "json", Usage: "print a JSON report on stdout"},
		},
		Action: runPrune,
	}
}

func runPrune(c *cli.Context) (err error) {
	r := newRun(c, "prune")
	defer func() { err = r.finish(err) }()
	args := c.Args().Slice()
	switch {
	case len(args) == 0:
		return usagef("prune needs the folder of the archives (or an archive name pattern)")
	case len(args) > 1:
		return usagef("prune takes one folder, got %d arguments", len(args))
	}
	keep, err := keepPolicy(c)
	if err != nil {
		return err
	}
	if keep.Empty() {
		return usagef("prune needs at least one of --keep-last, --keep-daily, --keep-weekly, --keep-monthly")
	}
	ids, err := loadIdentities(c)
	if err != nil {
		return err
	}
	opts := store.PruneOptions{Keep: keep, DryRun: c.Bool("dry-run"), Identities: ids}
	if opts.Store, opts.Glob, err = pruneStore(c.Context, args[0]); err != nil {
		return err
	}
	r.out.location, r.out.DryRun = opts.Store.String(), opts.DryRun
	pr, err := store.Prune(c.Context, opts)
	if pr != nil {
		r.out.Report = pr
		if !c.Bool("json") {
			printPrune(r.rep, pr, c.Bool("quiet"))
		}
	}
	return err
}

// pruneStore opens prune's DEST: a folder or an object store prefix (every
// archive in it), or an -o pattern with {date} or {time} (the archives of
// that pattern, glob non-empty).
func pruneStore(ctx context.Context, dest string) (st store.ArchiveStore, glob string, err error) {
	if store.IsObjectURL(dest) {
		folder, name, serr := store.SplitArchiveURL(dest)
		if serr != nil { // ends in "/" or names a bucket: a prefix
			st, err = store.OpenArchiveStore(ctx, dest)
			return st, "", err
		}
		parent, err := store.OpenArchiveStore(ctx, folder)
		if err != nil {
			return nil, "", err
		}
		if store.HasPlaceholder(name) {
			return parent, store.NameGlob(name), nil
		}
		if _, err := parent.Stat(ctx, name); err == nil {
			return nil, "", fmt.Errorf("prune: %s is an archive, not a prefix: give the prefix of the archives, or the -o pattern they were written with ({date} or {time} in it)", parent.Where(name))
		}
		st, err = store.OpenArchiveStore(ctx, dest) // a prefix
		return st, "", err
	}
	if fi, err := os.Stat(dest); err == nil && fi.IsDir() {
		return store.NewLocalStore(dest), "", nil
	}
	if _, derr := os.Stat(filepath.Dir(dest)); derr != nil {
		return nil, "", fmt.Errorf("prune: %s: no such folder", dest)
	}
	if !store.HasPlaceholder(dest) {
		return nil, "", fmt.Errorf("prune: %s is not a folder: give the folder of the archives, or the -o pattern they were written with ({date} or {time} in it)", dest)
	}
	return store.NewLocalStore(filepath.Dir(dest)), store.NameGlob(dest), nil
}

// printPrune prints one line per file prune looked at, newest first, and
// a summary; with quiet only what was deleted.
func printPrune(rep *reporter, pr *store.PruneReport, quiet bool) {
	del := "delete"
	if pr.DryRun {
		del = "would delete"
	}
	kept := 0
	for _, a := range pr.Archives {
		when := a.Created.Local().Format("2006-01-02 15:04:05")
		if a.Keep {
			kept++
			if !quiet {
				rep.printf("prune: keep %s (%s; %s)\n", a.Path, when, strings.Join(a.Reasons, ", "))
			}
			continue
		}
		rep.printf("prune: %s %s (%s; %s; no rule keeps it)\n", del, a.Path, when, human(a.Size))
	}
	for _, a := range pr.Ignored {
		if !quiet {
			rep.printf("prune: leave %s alone: %s\n", a.Path, strings.Join(a.Reasons, ", "))
		}
	}
	for _, p := range pr.Partials {
		rep.printf("prune: %s %s (a partial file older than a day)\n", del, p)
	}
	for _, p := range pr.Sidecars {
		rep.printf("prune: %s %s (its archive is gone)\n", del, p)
	}
	if !quiet {
		verb := "deleted"
		if pr.DryRun {
			verb = "would delete (dry run, nothing deleted)"
		}
		rep.printf("prune: kept %d archives, %s %d (%s)\n", kept, verb, pr.Deleted, human(pr.Freed))
	}
}
