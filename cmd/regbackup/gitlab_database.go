package main

// GitLab 18.10+ backups: db/registry_database.sql.gz, the registry's
// metadata database, restored into the database the target config names.

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/regconfig"
	"github.com/regbackup/regbackup/gitlabbackup"
	"github.com/regbackup/regbackup/metadb"
)

// databaseLock is what GitLab's registry writes at
// docker/registry/lockfiles/database-in-use.
const databaseLock = `{"version":1}`

// restoreGitLabDatabase restores the backup's registry database dump, if
// it holds one and cfg (the target's registry config) names a database:
// after the storage (its blobs are what the rows name), with metadb's
// rules (an empty or freshly migrated target; --clean to replace one that
// holds repositories), then marks the storage database-in-use unless it
// is marked filesystem-in-use.
func restoreGitLabDatabase(c *cli.Context, r *run, gl *gitlabbackup.Reader, d drivers.Driver, cfg *regconfig.Config, dryRun bool) error {
	part := gl.Database()
	if part == nil || cfg == nil || cfg.Database.Enabled == regconfig.DatabaseOff {
		return nil
	}
	db := cfg.Database
	if dryRun {
		r.rep.printf("would restore %s (%s) into the registry database %s\n", part.Name, human(part.Size), db)
		return nil
	}
	tools, err := metadb.FindTools("")
	if err != nil {
		return fmt.Errorf("restoring %s: %w", part.Name, err)
	}
	dump, err := gl.OpenDatabase()
	if err != nil || dump == nil {
		return fmt.Errorf("restoring %s: the dump was not kept: %v", part.Name, err)
	}
	defer dump.Close()
	res, err := metadb.Restore(c.Context, db, tools, dump, metadb.RestoreOptions{Format: metadb.PlainSQL, Clean: c.Bool("clean")})
	if err != nil {
		return fmt.Errorf("restoring %s into %s (the storage was restored; run the same command again once this is fixed): %w", part.Name, db, err)
	}
	if err := markDatabaseInUse(c.Context, d); err != nil {
		return err
	}
	if !c.Bool("quiet") {
		fmt.Fprintf(os.Stderr, "registry database: %s restored into %s (it was %s; it holds %d repositories now)\n", part.Name, db, res.Before.State, res.After.Repositories)
	}
	return nil
}

// markDatabaseInUse writes the database-in-use lockfile, unless the storage
// says its metadata is in link files (both is a registry that does not
// start).
func markDatabaseInUse(ctx context.Context, d drivers.Driver) error {
	if _, err := d.Stat(ctx, regconfig.LockfileFilesystem); err == nil {
		return fmt.Errorf("the storage holds %s: the registry will not start with the database restored; remove it once the storage is no longer used without the database", regconfig.LockfileFilesystem)
	}
	if err := d.Put(ctx, regconfig.LockfileDatabase, strings.NewReader(databaseLock), int64(len(databaseLock))); err != nil {
		return fmt.Errorf("writing %s: %w", regconfig.LockfileDatabase, err)
	}
	return nil
}
