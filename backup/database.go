package backup

import (
	"context"
	"fmt"
	"io"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/metadb"
	"github.com/regbackup/regbackup/progress"
)

// Database is the metadata database of a GitLab registry, for a backup
// in database mode: the connection (its snapshot is taken first, before
// storage is looked at) and the PostgreSQL client programs that dump it.
type Database struct {
	DB    *metadb.DB
	Tools *metadb.Tools
}

// snapshot takes the database's snapshot, after checking that pg_dump can
// dump its server.
func (db *Database) snapshot(ctx context.Context, prog *progress.Progress) (*metadb.Snapshot, error) {
	if err := db.Tools.CanDump(db.DB.ServerVersion()); err != nil {
		return nil, err
	}
	prog.StartPhase("database", fmt.Sprintf("snapshot of %s (PostgreSQL %s)", db.DB, db.DB.ServerVersion()))
	return db.DB.Snapshot(ctx)
}

// describe fills what the catalog says about the dump.
func (db *Database) describe(c *archive.Catalog) {
	c.Database.Source = db.DB.String()
	c.Database.DumpTool = db.Tools.Version.String()
}

// writeDump streams pg_dump of snap into w's database entries.
//
// The archive's codec compresses the dump when it compresses at all: then
// pg_dump does not (raw), which makes the dump several times faster.
func writeDump(ctx context.Context, w *archive.Writer, snap *metadb.Snapshot, tools *metadb.Tools, raw bool, prog *progress.Progress) (int64, error) {
	prog.StartPhase("database", fmt.Sprintf("pg_dump of snapshot %s (schema %s)", snap.ID, snap.SchemaVersion))
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := snap.Dump(ctx, tools, pw, raw)
		pw.CloseWithError(err)
		done <- err
	}()
	n, err := w.WriteDatabase(pr)
	pr.CloseWithError(fmt.Errorf("archive writer stopped"))
	if derr := <-done; derr != nil {
		return n, derr
	}
	if err != nil {
		return n, fmt.Errorf("writing archive: %w", err)
	}
	return n, nil
}
