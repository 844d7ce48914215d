package metadb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"

	"github.com/regbackup/regbackup/drivers/regconfig"
)

// State is what a database holds, as far as a restore is concerned.
type State int

const (
	// Empty: no tables, sequences, functions or schemas of its own.
	Empty State = iota
	// FreshSchema: a registry schema (schema_migrations) and no
	// repositories: what `registry database migrate up` leaves on a new
	// install, or a reinstalled GitLab has.
	FreshSchema
	// HasRepositories: a registry schema holding repositories.
	HasRepositories
	// Foreign: objects, but no registry schema.
	Foreign
)

func (s State) String() string {
	return [...]string{"empty", "a freshly migrated registry schema without repositories", "a registry with repositories", "objects that are not a registry schema"}[s]
}

// DatabaseState describes a database before a restore.
type DatabaseState struct {
	State         State
	Repositories  int64  // rows of repositories (HasRepositories)
	SchemaVersion string // newest schema_migrations row, "" without one
}

// State reports what db holds.
func (db *DB) State(ctx context.Context) (DatabaseState, error) {
	var st DatabaseState
	var objects int64
	if err := db.conn.QueryRow(ctx, objectCount).Scan(&objects); err != nil {
		return st, db.errorf("looking at what it holds: %w", err)
	}
	if objects == 0 {
		return st, nil
	}
	var hasSchema, hasRepos bool
	if err := db.conn.QueryRow(ctx, `SELECT to_regclass('public.schema_migrations') IS NOT NULL,
		to_regclass('public.repositories') IS NOT NULL`).Scan(&hasSchema, &hasRepos); err != nil {
		return st, db.errorf("looking at what it holds: %w", err)
	}
	if !hasSchema || !hasRepos {
		st.State = Foreign
		return st, nil
	}
	if err := db.conn.QueryRow(ctx, "SELECT coalesce(max(id), '') FROM schema_migrations").Scan(&st.SchemaVersion); err != nil {
		return st, db.errorf("schema version: %w", err)
	}
	if err := db.conn.QueryRow(ctx, "SELECT count(*) FROM repositories").Scan(&st.Repositories); err != nil {
		return st, db.errorf("counting repositories: %w", err)
	}
	st.State = FreshSchema
	if st.Repositories > 0 {
		st.State = HasRepositories
	}
	return st, nil
}

// userSchemas are the schemas that are the database's own (not PostgreSQL's,
// not an extension's).
const userSchemas = `SELECT n.oid, n.nspname FROM pg_namespace n
	WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
	AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')`

// objectCount counts relations and routines in userSchemas, and schemas
// other than public, that no extension owns.
const objectCount = `WITH s AS (` + userSchemas + `)
	SELECT (SELECT count(*) FROM pg_class c JOIN s ON s.oid = c.relnamespace
		WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'))
	+ (SELECT count(*) FROM pg_proc p JOIN s ON s.oid = p.pronamespace
		WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'))
	+ (SELECT count(*) FROM s WHERE s.nspname <> 'public')`

// Format is the format of a dump.
type Format int

const (
	// CustomFormat is pg_dump -Fc, restored with pg_restore (what
	// Snapshot.Dump writes).
	CustomFormat Format = iota
	// PlainSQL is a plain SQL script (pg_dump's default), restored with
	// psql: GitLab's db/registry_database.sql.gz once gunzipped.
	PlainSQL
)

// RestoreOptions say how Restore treats the target.
type RestoreOptions struct {
	Format Format
	// Clean lets Restore replace a database that holds repositories (or
	// objects that are not a registry's): everything of its own is dropped
	// first. Without it only an Empty or FreshSchema database is restored
	// into.
	Clean bool
}

// ErrNotEmpty is returned (wrapped) when the target database holds
// repositories, or objects that are not a registry schema, and
// RestoreOptions.Clean is not set.
var ErrNotEmpty = errors.New("the target database is not empty")

// RestoreResult says what Restore found and left.
type RestoreResult struct {
	Before DatabaseState // the target before the restore
	After  DatabaseState // the target after it
}

// Restore loads dump (read as a stream; plain SQL must already be
// decompressed) into the database cfg names, with the client programs in
// tools:
//
//  1. the target must be Empty or FreshSchema (a freshly migrated schema,
//     no repositories), unless opts.Clean; otherwise ErrNotEmpty and
//     nothing is changed;
//  2. a target that is not Empty has everything of its own dropped (tables,
//     sequences, views, routines and types in public; every other schema
//     of its own, e.g. partitions), the registry's repositories and
//     schema_migrations last;
//  3. pg_restore (CustomFormat) or psql (PlainSQL) loads the dump in one
//     transaction (--single-transaction, stop at the first error), with
//     --no-owner --no-privileges for pg_restore, so the config's user owns
//     what it creates.
//
// An interrupted Restore leaves a target that the same call accepts again
// (FreshSchema or HasRepositories during step 2, Empty after it; step 3 is
// all or nothing), so running it again completes. Writing the storage's
// database-in-use lockfile afterwards is the caller's job. A dump of an
// older schema than the registry's is brought forward by the registry's
// `database migrate up`.
func Restore(ctx context.Context, cfg regconfig.Database, tools *Tools, dump io.Reader, opts RestoreOptions) (RestoreResult, error) {
	var res RestoreResult
	if cfg.DBName == "" {
		return res, fmt.Errorf("metadata database %s: database.dbname is empty: name the database to restore into", cfg)
	}
	db, err := Open(ctx, cfg)
	if err != nil {
		return res, err
	}
	defer db.Close()
	if res.Before, err = db.State(ctx); err != nil {
		return res, err
	}
	switch res.Before.State {
	case HasRepositories:
		if !opts.Clean {
			return res, db.errorf("%w: it holds %d repositories; restore into an empty or freshly migrated database, or replace them with --clean", ErrNotEmpty, res.Before.Repositories)
		}
	case Foreign:
		if !opts.Clean {
			return res, db.errorf("%w: it holds %s; restore into an empty or freshly migrated database, or drop them with --clean", ErrNotEmpty, res.Before.State)
		}
	}
	if res.Before.State != Empty {
		if err := db.dropOwn(ctx); err != nil {
			return res, err
		}
	}
	if err := load(ctx, cfg, tools, dump, opts.Format); err != nil {
		return res, db.errorf("%w", err)
	}
	if res.After, err = db.State(ctx); err != nil {
		return res, err
	}
	return res, nil
}

// dropOwn drops everything of the database's own: tables, views,
// sequences, routines and types in public that no extension owns, and every
// other schema of its own (e.g. partitions). A registry schema has hundreds
// of partitions, more than one transaction can lock, so each table goes in
// a transaction of its own, and repositories and schema_migrations go last:
// until then the database still reads as FreshSchema (or HasRepositories),
// so an interrupted drop is finished by the same command run again.
func (db *DB) dropOwn(ctx context.Context) error {
	rows, err := db.conn.Query(ctx, `WITH s AS (`+userSchemas+`)
		SELECT 3, format('DROP SCHEMA IF EXISTS %I CASCADE', nspname) FROM s WHERE nspname <> 'public'
		UNION ALL
		SELECT CASE WHEN c.relnamespace = 'public'::regnamespace AND c.relname IN ('repositories', 'schema_migrations', 'post_deploy_schema_migrations') THEN 5
			WHEN c.relnamespace = 'public'::regnamespace AND c.relkind <> 'S' THEN 1 ELSE 2 END,
			format('DROP %s IF EXISTS %I.%I CASCADE', CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
			WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, s.nspname, c.relname)
		FROM pg_class c JOIN s ON s.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
		AND NOT c.relispartition
		AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
		-- sequences a column owns (serial, identity) go with their table
		AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
			AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
		UNION ALL
		SELECT 4, format('DROP ROUTINE IF EXISTS public.%I(%s) CASCADE', p.proname, pg_get_function_identity_arguments(p.oid))
		FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
		AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
		UNION ALL
		SELECT 4, format('DROP TYPE IF EXISTS public.%I CASCADE', t.typname)
		FROM pg_type t WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd', 'r', 'm')
		AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
		ORDER BY 1, 2`)
	if err != nil {
		return db.errorf("listing what to drop: %w", err)
	}
	var stmts, last []string
	var order int
	var stmt string
	if _, err := pgx.ForEachRow(rows, []any{&order, &stmt}, func() error {
		if order == 5 {
			last = append(last, stmt)
		} else {
			stmts = append(stmts, stmt)
		}
		return nil
	}); err != nil {
		return db.errorf("listing what to drop: %w", err)
	}
	for _, s := range stmts {
		if _, err := db.conn.Exec(ctx, s); err != nil {
			return db.errorf("%s: %w", s, err)
		}
	}
	if len(last) == 0 {
		return nil
	}
	// One statement, one transaction: the registry tables go together.
	if _, err := db.conn.Exec(ctx, strings.Join(last, "; ")); err != nil {
		return db.errorf("%s: %w", strings.Join(last, "; "), err)
	}
	return nil
}

// load runs pg_restore or psql with dump on its standard input.
func load(ctx context.Context, cfg regconfig.Database, tools *Tools, dump io.Reader, f Format) error {
	var cmd *exec.Cmd
	var name string
	switch f {
	case CustomFormat:
		name = "pg_restore"
		cmd = exec.CommandContext(ctx, tools.PGRestore, "--no-owner", "--no-privileges", "--single-transaction",
			"--exit-on-error", "--no-password", "--dbname="+cfg.DBName)
	case PlainSQL:
		name = "psql"
		cmd = exec.CommandContext(ctx, tools.PSQL, "--no-psqlrc", "--quiet", "--no-password", "--single-transaction",
			"--set=ON_ERROR_STOP=1", "--dbname="+cfg.DBName, "--file=-", "--output=/dev/null")
	default:
		return fmt.Errorf("unknown dump format %d", f)
	}
	cmd.Env = toolEnv(cfg)
	cmd.Stdin = dump
	// Should regbackup die, the restore dies with it: its transaction is
	// rolled back and a second run starts from the same state.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr bytes.Buffer
	cmd.Stderr = &limited{w: &stderr, n: 8 << 10}
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return toolError(name, err, stderr.String(), cfg.Password)
	}
	return nil
}
