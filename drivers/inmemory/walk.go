package inmemory

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/regbackup/regbackup/drivers"
)

// Walk calls fn for the file named prefix, if any, and every file whose path
// starts with prefix + "/", in lexical order, from a snapshot taken when Walk
// starts (fn may call the Driver, Delete included). ctx is checked before
// each call.
func (d *Driver) Walk(ctx context.Context, prefix string, fn drivers.WalkFunc) error {
	p, err := checkPrefix(prefix)
	if err != nil {
		return invalidPath("walk", prefix, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: walk %s: %w", driverName, prefix, err)
	}
	var infos []drivers.FileInfo
	d.mu.RLock()
	for k, f := range d.files {
		if p == "" || k == p || strings.HasPrefix(k, p+"/") {
			infos = append(infos, drivers.FileInfo{Path: k, Size: int64(len(f.data)), ModTime: f.modTime})
		}
	}
	d.mu.RUnlock()
	slices.SortFunc(infos, func(a, b drivers.FileInfo) int { return strings.Compare(a.Path, b.Path) })
	for _, fi := range infos {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: walk %s: %w", driverName, prefix, err)
		}
		if err := fn(fi); err != nil {
			return err
		}
	}
	return nil
}
