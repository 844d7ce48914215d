package check

import (
	"context"
	"fmt"
	"time"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/snapshot"
)

// checkDatabase is Check for a registry whose metadata is in GitLab's
// database: a referenced blob storage lacks or holds with another size is
// damage, a manifest payload that does not hash to its digest too, and
// with ReadData a blob whose content does not; blobs the database does not
// reference are one notice with their total size, not orphans (the
// database's online garbage collector owns them). Uploads are reported as
// for storage.
func checkDatabase(ctx context.Context, d drivers.Driver, opts Options, sopts snapshot.Options, start time.Time) (*Report, error) {
	dbs, err := opts.Database.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer dbs.Close()
	s, err := snapshot.TakeDatabase(ctx, d, dbs, sopts)
	if err != nil {
		return nil, err
	}
	dbs.Close()
	rep := &Report{Manifests: s.Manifests.Len(), Blobs: s.Present.Len(), ReadData: opts.ReadData,
		Repositories: len(dbs.Repositories), Orphans: []Orphan{}, Metadata: "database"}
	for _, r := range dbs.Repositories {
		rep.Tags += len(r.Tags)
	}
	for _, size := range s.Present.All() {
		rep.BlobBytes += size
	}
	if err := findUploads(ctx, s, d, opts, rep); err != nil {
		return nil, err
	}
	if opts.ReadData {
		if err := hashBlobs(ctx, s, sopts.Problems, d, opts.Concurrency, sopts.Progress, rep); err != nil {
			return nil, err
		}
	}
	rep.Problems = s.Problems()
	rep.Duration = time.Since(start)
	if n := rep.Damaged(); n > 0 {
		return rep, fmt.Errorf("%d problem(s) in %s against its metadata database %s: %w", n, d, opts.Database, ErrDamagedStorage)
	}
	return rep, nil
}
