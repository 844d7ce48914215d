package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/backup"
	"github.com/regbackup/regbackup/snapshot"
	"github.com/regbackup/regbackup/store"
)

// chainFlags are backup's flags for incremental archives, retention and
// encryption.
func chainFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "incremental", Usage: "write only the blobs the newest earlier archive beside -o (same name pattern, same folder or prefix) and its parents lack; a full backup when there is none"},
		&cli.StringFlag{Name: "incremental-from", Usage: "write only the blobs `ARCHIVE` (a file or an object URL) and its parents lack"},
		&cli.IntFlag{Name: "max-chain", Value: backup.DefaultMaxParents, Usage: "write a full backup instead of an incremental that would need more than `N` parent archives"},
		&cli.IntFlag{Name: "keep-last", Usage: "after a successful backup, prune: keep the newest `N` archives of the same name pattern"},
		&cli.IntFlag{Name: "keep-daily", Usage: "prune: keep the newest archive of each of the last `N` days that have one"},
		&cli.IntFlag{Name: "keep-weekly", Usage: "prune: keep the newest archive of each of the last `N` ISO weeks that have one"},
		&cli.IntFlag{Name: "keep-monthly", Usage: "prune: keep the newest archive of each of the last `N` months that have one"},
		&cli.StringSliceFlag{Name: "encrypt-to", Usage: "encrypt the archive with age to this public key (`age1...`); repeatable"},
		&cli.StringSliceFlag{Name: "encrypt-to-file", Usage: "encrypt to every age public key in `FILE` (one per line, # comments); repeatable"},
		identityFlag(),
	}
}

// keepPolicy reads the --keep-* flags.
func keepPolicy(c *cli.Context) (store.KeepPolicy, error) {
	k := store.KeepPolicy{Last: c.Int("keep-last"), Daily: c.Int("keep-daily"),
		Weekly: c.Int("keep-weekly"), Monthly: c.Int("keep-monthly")}
	if k.Last < 0 || k.Daily < 0 || k.Weekly < 0 || k.Monthly < 0 {
		return k, usagef("--keep-* values must not be negative")
	}
	return k, nil
}

// chainPlan is what backup's chain flags decided before the backup runs.
type chainPlan struct {
	out     string             // -o with {date} and {time} expanded, for people
	pattern string             // -o as given
	store   store.ArchiveStore // where the archive goes: -o's folder or prefix; nil with -o -
	name    string             // the archive's name in store
	patName string             // pattern's name part, {date} and {time} kept
	now     time.Time
	keep    store.KeepPolicy
	opts    func(*backup.Options)
	info    map[string]any // for the JSON summary
}

// planChain expands -o, reads the keys, finds the base of an incremental
// backup and checks the chain flags. Everything here happens before a
// byte is written.
func planChain(c *cli.Context, rep *reporter) (*chainPlan, error) {
	t, err := now()
	if err != nil {
		return nil, err
	}
	p := &chainPlan{pattern: c.String("output"), now: t, info: map[string]any{}}
	p.out = p.pattern
	if p.keep, err = keepPolicy(c); err != nil {
		return nil, err
	}
	from := c.String("incremental-from")
	switch {
	case c.Bool("incremental") && from != "":
		return nil, usagef("use either --incremental or --incremental-from, not both")
	case c.Bool("incremental") && p.out == "-":
		return nil, usagef("--incremental looks for the previous archive beside -o FILE; with -o - use --incremental-from ARCHIVE")
	case !p.keep.Empty() && p.out == "-":
		return nil, usagef("--keep-* prunes the folder of -o FILE; it cannot work with -o -")
	case c.Int("max-chain") < 1:
		return nil, usagef("--max-chain must be at least 1")
	}
	recipients, err := loadRecipients(c)
	if err != nil {
		return nil, err
	}
	ids, err := loadIdentities(c)
	if err != nil {
		return nil, err
	}
	if err := p.openOutput(c.Context); err != nil {
		return nil, err
	}
	var base *archive.Meta
	switch {
	case from != "":
		ref, err := store.OpenArchiveRef(c.Context, from)
		if err != nil {
			return nil, fmt.Errorf("--incremental-from: %w", err)
		}
		if p.store != nil && ref.Same(store.ArchiveRef{Store: p.store, Name: p.name}) {
			return nil, usagef("--incremental-from %s is the archive -o would write", from)
		}
		if base, err = store.LoadBase(c.Context, ref, ids); err != nil {
			return nil, keyError(c, from, err)
		}
	case c.Bool("incremental"):
		var ref store.ArchiveRef
		var notes []string
		base, ref, notes, err = store.FindBase(c.Context, p.store, p.patName, p.name, ids)
		if err != nil {
			return nil, err
		}
		for _, n := range notes {
			noticef(c, rep, "incremental: %s\n", n)
		}
		if base == nil {
			noticef(c, rep, "incremental: no earlier archive matching %s in %s: writing a full backup\n",
				store.NameGlob(p.patName), p.store)
			p.info["note"] = "no earlier archive: full backup"
		} else {
			p.info["base"] = ref.String()
		}
	}
	p.opts = func(o *backup.Options) {
		o.Base, o.MaxParents, o.Recipients, o.Now = base, c.Int("max-chain"), recipients, t
		base = nil // held by o alone, which backup.Backup lets go of when done with it
	}
	return p, nil
}

// openOutput splits -o into its folder (a local folder or an object store
// prefix, opened here so that an unreachable store fails before anything
// is read) and its name, and expands {date} and {time} in both.
func (p *chainPlan) openOutput(ctx context.Context) error {
	if p.pattern == "-" {
		return nil
	}
	folder, name, err := store.SplitArchiveURL(p.pattern)
	if err != nil {
		return usageError{fmt.Errorf("-o: %w", err)}
	}
	p.patName, p.name = name, store.ExpandName(name, p.now)
	if p.store, err = store.OpenArchiveStore(ctx, store.ExpandName(folder, p.now)); err != nil {
		return err
	}
	if store.IsObjectURL(p.pattern) {
		p.out = p.store.Where(p.name)
	} else {
		p.out = store.ExpandName(p.pattern, p.now)
	}
	return nil
}

// finishChain runs after the archive was written (err is the backup's
// outcome; o.ArchiveBytes its size, when known): it writes the sidecar beside a complete archive and, after a
// successful backup, prunes with the --keep-* rules. What it did goes into
// the command's outcome (--json).
func finishChain(c *cli.Context, p *chainPlan, result *backup.Report, err error, rep *reporter, o *outcome) error {
	if len(p.info) > 0 {
		o.Incremental = p.info
	}
	if p.out == "-" || result == nil || result.Meta == nil || (err != nil && !errors.Is(err, snapshot.ErrDamagedSource)) {
		return nil
	}
	ref := store.ArchiveRef{Store: p.store, Name: p.name}
	result.Meta.Size = o.ArchiveBytes // runBackup's Stat of the archive; 0 (unknown) when it failed
	if werr := store.WriteSidecar(c.Context, ref, result.Meta); werr != nil {
		return werr
	}
	if err != nil || p.keep.Empty() {
		return nil
	}
	ids, ierr := loadIdentities(c)
	if ierr != nil {
		return ierr
	}
	pr, perr := store.Prune(c.Context, store.PruneOptions{Store: p.store, Glob: store.NameGlob(p.patName),
		Keep: p.keep, Identities: ids})
	if pr != nil {
		o.Prune = pr
		if !c.Bool("json") {
			printPrune(rep, pr, c.Bool("quiet"))
		}
	}
	if perr != nil {
		return fmt.Errorf("the backup succeeded, pruning failed: %w", perr)
	}
	return nil
}

// noticef prints a line on stderr unless --quiet.
func noticef(c *cli.Context, rep *reporter, format string, args ...any) {
	if !c.Bool("quiet") {
		rep.printf(format, args...)
	}
}

// warnKeyMaterial prints one line when key material (--include-file, the
// key files of --registry-config) goes into an archive without
// encryption. It is printed even with --quiet: key material in the clear
// is worth a line in every cron log.
func warnKeyMaterial(rep *reporter, opts backup.Options, out string) {
	if len(opts.IncludeFiles) > 0 && len(opts.Recipients) == 0 {
		rep.printf("regbackup: WARNING: key material (%d included file(s)) goes into an UNENCRYPTED archive: anyone who can read %s can use it (add --encrypt-to age1...)\n",
			len(opts.IncludeFiles), out)
	}
}
