package regconfig

import (
	"context"
	"errors"
	"fmt"

	"github.com/regbackup/regbackup/drivers"
)

// The lockfiles GitLab's container registry keeps in its storage to say
// where the metadata lives (registry/storage/locks.go): both hold
// {"version":1}. The registry writes and checks them only when lockfiles are
// enforced (REGISTRY_FF_ENFORCE_LOCKFILES, off by default in 4.32), so
// storage may hold neither.
const (
	LockfileDatabase   = "docker/registry/lockfiles/database-in-use"
	LockfileFilesystem = "docker/registry/lockfiles/filesystem-in-use"
	// LockfileContent is what the registry writes into either.
	LockfileContent = `{"version":1}`
)

// Lockfiles says which lockfiles a registry's storage holds.
type Lockfiles struct {
	Database   bool // database-in-use
	Filesystem bool // filesystem-in-use
}

// ErrBothLockfiles is returned (wrapped) when storage holds both lockfiles:
// the registry refuses to start on such storage, and so does regbackup.
var ErrBothLockfiles = errors.New("storage holds both database-in-use and filesystem-in-use lockfiles")

// ReadLockfiles looks the lockfiles up in d. Both present gives
// ErrBothLockfiles with what to do.
func ReadLockfiles(ctx context.Context, d drivers.Driver) (Lockfiles, error) {
	var lf Lockfiles
	for _, l := range []struct {
		path string
		set  *bool
	}{{LockfileDatabase, &lf.Database}, {LockfileFilesystem, &lf.Filesystem}} {
		_, err := d.Stat(ctx, l.path)
		switch {
		case err == nil:
			*l.set = true
		case !errors.Is(err, drivers.ErrNotFound):
			return Lockfiles{}, fmt.Errorf("lockfile %s: %w", l.path, err)
		}
	}
	if lf.Database && lf.Filesystem {
		return lf, fmt.Errorf("%s: %w; the registry refuses to start on it too: remove the one that is wrong (%s when the metadata database holds the registry, %s when it does not)",
			d, ErrBothLockfiles, LockfileFilesystem, LockfileDatabase)
	}
	return lf, nil
}

// Metadata is where a registry keeps its repositories, tags and manifests.
type Metadata int

const (
	// FilesystemMetadata: link files and manifests in storage.
	FilesystemMetadata Metadata = iota
	// DatabaseMetadata: GitLab's metadata database (PostgreSQL); storage
	// holds blobs only.
	DatabaseMetadata
)

func (m Metadata) String() string {
	if m == DatabaseMetadata {
		return "database"
	}
	return "filesystem"
}

// Metadata decides where the registry this config runs keeps its metadata,
// given its storage's lockfiles, as GitLab's registry decides at start:
// database enabled true -> the database; prefer -> the database unless
// storage holds filesystem-in-use; false -> the filesystem. Storage whose
// lockfile contradicts the config (database-in-use with the database off,
// filesystem-in-use with it on) is an error: a backup would miss the
// metadata, and the registry (with lockfiles enforced) would not start.
func (c *Config) Metadata(lf Lockfiles) (Metadata, error) {
	if lf.Database && lf.Filesystem {
		return 0, fmt.Errorf("%s: %w", c, ErrBothLockfiles)
	}
	switch c.Database.Enabled {
	case DatabaseOn:
		if lf.Filesystem {
			return 0, fmt.Errorf("registry config %s enables the metadata database, but its storage holds %s (metadata still on the filesystem): import it with `registry database import` first, or set database.enabled: false", c.File, LockfileFilesystem)
		}
		return DatabaseMetadata, nil
	case DatabasePrefer:
		if lf.Filesystem {
			return FilesystemMetadata, nil
		}
		return DatabaseMetadata, nil
	}
	if lf.Database {
		return 0, fmt.Errorf("registry config %s has the metadata database off, but its storage holds %s: the repositories, tags and manifests are in GitLab's registry database; give the config that enables it (database: enabled: true)", c.File, LockfileDatabase)
	}
	return FilesystemMetadata, nil
}
