package main

// GitLab's container registry with its metadata database: which mode a
// registry config is in, and the connection and PostgreSQL tools a backup,
// restore or check in database mode needs.

import (
	"context"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/regconfig"
	"github.com/regbackup/regbackup/metadb"
)

// pgBinFlag is --pg-bin, for the commands that run pg_dump or pg_restore.
func pgBinFlag() cli.Flag {
	return &cli.StringFlag{Name: "pg-bin", Usage: "take pg_dump, pg_restore and psql from `DIR` (e.g. /opt/gitlab/embedded/bin); default: the newest found"}
}

// databaseHelp describes database mode for --help.
const databaseHelp = `GitLab's container registry with its metadata database (database: enabled: true, or
"prefer", in its config.yml; REGISTRY_DATABASE_* applied): with --registry-config the
repositories, tags and manifests come from PostgreSQL, not from storage. regbackup takes a
snapshot of the database first (one REPEATABLE READ transaction), dumps it with pg_dump
--snapshot into the archive, then copies exactly the blobs it references. pg_dump must not
be older than the server; --pg-bin DIR picks the PostgreSQL programs (Omnibus GitLab ships
its own in /opt/gitlab/embedded/bin). The password is never printed or stored.`

// metadataMode decides, from cfg and the lockfiles in its storage d,
// whether the registry keeps its metadata in its database.
func metadataMode(ctx context.Context, cfg *regconfig.Config, d drivers.Driver) (regconfig.Metadata, error) {
	if cfg == nil {
		return regconfig.FilesystemMetadata, nil
	}
	lf, err := regconfig.ReadLockfiles(ctx, d)
	if err != nil {
		return 0, err
	}
	return cfg.Metadata(lf)
}

// metadataDB is an open metadata database and the tools for it.
type metadataDB struct {
	cfg   regconfig.Database
	db    *metadb.DB
	tools *metadb.Tools
}

// openMetadataDB connects to cfg's database and finds the PostgreSQL
// programs (in pgBin when set). An unreachable database is an error, never
// a fallback to storage only.
func openMetadataDB(ctx context.Context, cfg *regconfig.Config, pgBin string) (*metadataDB, error) {
	tools, err := metadb.FindTools(pgBin)
	if err != nil {
		return nil, err
	}
	db, err := metadb.Open(ctx, cfg.Database)
	if err != nil {
		return nil, fmt.Errorf("%w (from %s; regbackup never falls back to the storage alone)", err, cfg.File)
	}
	return &metadataDB{cfg: cfg.Database, db: db, tools: tools}, nil
}

// close ends the connection; nil is fine.
func (m *metadataDB) close() {
	if m != nil && m.db != nil {
		m.db.Close()
	}
}

// describe prints one line: the database, its server and the tools.
func (m *metadataDB) describe(w io.Writer) {
	fmt.Fprintf(w, "metadata: GitLab's metadata database %s (PostgreSQL %s; pg_dump %s from %s)\n",
		m.db, m.db.ServerVersion(), m.tools.Version, m.tools.Dir)
}
