package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/regconfig"
	"github.com/regbackup/regbackup/metadb"
	"github.com/regbackup/regbackup/problem"
)

// Database is the target of a restore in database mode: the metadata
// database of a GitLab registry (from its config) and the PostgreSQL
// programs that load a dump into it.
type Database struct {
	Config regconfig.Database
	Tools  *metadb.Tools
}

// ErrModeMismatch is returned (wrapped) when an archive and its target keep
// the registry's metadata in different places (storage, or GitLab's
// database).
var ErrModeMismatch = errors.New("the archive and the target keep the registry's metadata in different places")

// checkMode refuses an archive whose metadata mode is not the target's,
// and --repository in database mode (a dump is all or nothing).
func checkMode(cat *archive.Catalog, opts Options) error {
	isDB := cat.Metadata == archive.MetadataDatabase
	switch {
	case isDB && opts.Database == nil:
		return fmt.Errorf("%w: the archive holds GitLab's registry metadata database (%s, schema %s) and blobs without link files; restore it with --to-registry-config CONFIG, the registry's config.yml whose database: section is enabled and names the database to restore into",
			ErrModeMismatch, cat.Database.Source, cat.Database.SchemaVersion)
	case !isDB && opts.Database != nil:
		return fmt.Errorf("%w: the archive is of a registry whose metadata is in storage (link files), but the target config has the metadata database on; restore into a config with database: enabled: false, then move the metadata into the database with GitLab's `registry database import`", ErrModeMismatch)
	case isDB && len(opts.Repositories) > 0:
		return fmt.Errorf("--repository cannot restore part of a metadata database archive: the database dump is restored whole (restore everything, or restore into a scratch database and registry and copy the images you need with crane)")
	}
	return nil
}

// checkTarget refuses, before anything is written, a target database that
// holds repositories (without Clean): the dump would be refused at the end.
func (rs *restorer) checkTarget(ctx context.Context) error {
	db, err := metadb.Open(ctx, rs.opts.Database.Config)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := db.State(ctx)
	if err != nil {
		return err
	}
	switch {
	case rs.opts.Clean:
	case st.State == metadb.HasRepositories:
		return fmt.Errorf("metadata database %s: %w: it holds %d repositories; restore into an empty or freshly migrated database, or replace them with --clean", db, metadb.ErrNotEmpty, st.Repositories)
	case st.State == metadb.Foreign:
		return fmt.Errorf("metadata database %s: %w: it holds %s; restore into an empty or freshly migrated database, or drop them with --clean", db, metadb.ErrNotEmpty, st.State)
	}
	return nil
}

// spoolPart appends a verified dump part to the spool file (made at the
// first part and unlinked at once, so nothing is left behind whatever
// happens). A part whose content does not match its name fails here, and
// the restore stops before the database is touched.
func (rs *restorer) spoolPart(e *archive.Entry) error {
	if rs.dump == nil {
		f, err := os.CreateTemp("", "regbackup-dump-*")
		if err != nil {
			return fmt.Errorf("spooling the database dump: %w", err)
		}
		os.Remove(f.Name())
		rs.dump = f
	}
	n, err := io.Copy(rs.dump, e.Body)
	if err != nil {
		return fmt.Errorf("%s: %w", errArchive, err)
	}
	rs.dumpBytes += n
	return nil
}

// restoreDatabase loads the spooled dump into the target database, then
// writes the storage's database-in-use lockfile: after every blob is
// durable, so a registry started on the database finds what it names.
func (rs *restorer) restoreDatabase(ctx context.Context) error {
	if rs.dump == nil {
		return fmt.Errorf("the archive's catalog describes a metadata database but it holds no dump: %w", archive.ErrIncomplete)
	}
	rs.opts.Progress.StartPhase("database", fmt.Sprintf("pg_restore of %d bytes into %s", rs.dumpBytes, rs.opts.Database.Config))
	rs.change("write", "database "+rs.opts.Database.Config.String())
	if rs.opts.DryRun {
		return nil
	}
	if _, err := rs.dump.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("spooled dump: %w", err)
	}
	res, err := metadb.Restore(ctx, rs.opts.Database.Config, rs.opts.Database.Tools, rs.dump,
		metadb.RestoreOptions{Format: metadb.CustomFormat, Clean: rs.opts.Clean})
	if err != nil {
		return err
	}
	rs.rep.Metadata, rs.rep.SchemaVersion = archive.MetadataDatabase, res.After.SchemaVersion
	if before := res.Before.SchemaVersion; before != "" && before > res.After.SchemaVersion {
		rs.problems.Add(problem.Notice, "", "", "the dump's schema (%s) is older than the one the target had (%s): run the registry's `database migrate up` before starting it", res.After.SchemaVersion, before)
	}
	return rs.writeLockfile(ctx)
}

// writeLockfile writes docker/registry/lockfiles/database-in-use as
// GitLab's registry does, unless it is there.
func (rs *restorer) writeLockfile(ctx context.Context) error {
	if _, err := rs.d.Stat(ctx, regconfig.LockfileDatabase); err == nil {
		return nil
	} else if !errors.Is(err, drivers.ErrNotFound) {
		return fmt.Errorf("lockfile: %w", err)
	}
	rs.change("write", regconfig.LockfileDatabase)
	if err := rs.d.Put(ctx, regconfig.LockfileDatabase, strings.NewReader(regconfig.LockfileContent), int64(len(regconfig.LockfileContent))); err != nil {
		return fmt.Errorf("lockfile: %w", err)
	}
	return nil
}
