package filesystem

import (
	"context"

	"github.com/regbackup/regbackup/drivers"
)

var _ drivers.Syncer = (*Driver)(nil)

// Sync makes every completed Put durable: one syncfs(2) of the filesystem
// holding the root on Linux; on macOS sync(2) and F_FULLFSYNC of the root
// (syncfs_darwin.go); a full sync on other systems.
func (d *Driver) Sync(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := syncFS(d.root); err != nil {
		return wrapErr("sync", d.root, err)
	}
	return nil
}
