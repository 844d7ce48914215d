// Package metadb reads and writes the metadata database of GitLab's
// container registry (PostgreSQL; the `database:` section of the registry's
// config.yml, see regconfig.Database): the source of truth for repositories,
// tags and manifests when that database is on, while storage holds the blobs
// only.
//
// What it offers, for backup, restore, check and copy and for GitLab's own
// backups (db/registry_database.sql.gz):
//
//	db, err := metadb.Open(ctx, cfg.Database)          // one connection; errors are one line, never the password
//	snap, err := db.Snapshot(ctx)                      // REPEATABLE READ + pg_export_snapshot()
//	snap.Repositories, snap.Manifests, snap.Blobs      // tags -> digests, payloads, exactly the blobs referenced
//	tools, err := metadb.FindTools(pgBin)              // pg_dump/pg_restore/psql, newest found, or those in pgBin
//	err = snap.Dump(ctx, tools, w, false)              // pg_dump -Fc --snapshot=<id>: the same state as the lists
//	snap.Close()
//
//	state, err := db.State(ctx)                        // Empty, FreshSchema, HasRepositories, Foreign
//	err = metadb.Restore(ctx, cfg.Database, tools, r, metadb.RestoreOptions{Format: metadb.CustomFormat})
//	err = metadb.Restore(ctx, cfg.Database, tools, gunzipped, metadb.RestoreOptions{Format: metadb.PlainSQL})
//
// Dumps and restores stream through pg_dump/pg_restore/psql: no dump is held
// in memory. The password reaches them in PGPASSWORD, never on a command
// line. A pg_dump older than the server is refused with both versions named
// (ErrToolTooOld).
//
// The snapshot is consistent with storage in one direction: GitLab's
// registry writes a blob before any row names it, and its online garbage
// collector deletes a blob only after a review delay (24 h by default), so
// every blob a snapshot names is still in storage while a backup of ordinary
// length runs. Take the snapshot first, then copy the blobs.
//
// The schema is GitLab's (registry/datastore/migrations in the pinned
// source): repositories, manifests (payload bytea, digest bytea as "01"+hex
// for sha256 and "02"+hex for sha512, configuration_blob_digest), tags,
// layers, manifest_references, media_types, blobs, schema_migrations and
// post_deploy_schema_migrations, partitioned by top-level namespace.
//
// This package sits below the verbs: it imports drivers and archive only
// through regconfig, never backup, restore, check or copy, and it does not
// print.
package metadb
