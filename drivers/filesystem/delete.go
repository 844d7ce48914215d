package filesystem

import (
	"context"
	"os"
	"path"
)

// Delete removes the regular file at p, then the parent folders it left
// empty, walking up and stopping at the first folder that is not empty and
// always below the root. What Stat calls missing (a folder included) gives an
// error wrapping drivers.ErrNotFound and removes nothing. Failing to remove
// an empty parent is not an error.
func (d *Driver) Delete(ctx context.Context, p string) error {
	if err := checkPath(p); err != nil {
		return invalidPath("delete", p, err)
	}
	full := d.full(p)
	if err := ctx.Err(); err != nil {
		return wrapErr("delete", full, err)
	}
	fi, err := os.Lstat(full)
	if err != nil {
		if isNotFound(err) {
			return notFound("delete", full, "")
		}
		return wrapErr("delete", full, err)
	}
	if !fi.Mode().IsRegular() {
		return notFound("delete", full, "not a regular file: "+fi.Mode().Type().String())
	}
	if err := os.Remove(full); err != nil {
		if isNotFound(err) {
			return notFound("delete", full, "")
		}
		return wrapErr("delete", full, err)
	}
	d.pruneDirs(path.Dir(p))
	return nil
}
