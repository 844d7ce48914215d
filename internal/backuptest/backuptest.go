// Package backuptest makes archives for the tests of the packages that
// read them (restore, store) and of backup itself.
//
// It is for tests only.
package backuptest

import (
	"bytes"
	"testing"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/backup"
	"github.com/regbackup/regbackup/drivers"
)

// Archive backs d up with opts (zstd unless opts say, at least 3 reads
// at once) and returns the archive and Backup's report and error.
func Archive(t *testing.T, d drivers.Driver, opts backup.Options) ([]byte, *backup.Report, error) {
	t.Helper()
	var buf bytes.Buffer
	if opts.Compression == "" {
		opts.Compression = archive.Zstd
	}
	opts.Concurrency = max(opts.Concurrency, 3)
	rep, err := backup.Backup(t.Context(), d, &buf, opts)
	return buf.Bytes(), rep, err
}
