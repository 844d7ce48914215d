package filesystem

import (
	"context"
	"io"
	"os"

	"github.com/regbackup/regbackup/drivers"
)

// Stat reports on the regular file at p. A missing path, a folder, a symlink
// or any other non-regular file gives an error wrapping drivers.ErrNotFound.
func (d *Driver) Stat(ctx context.Context, p string) (drivers.FileInfo, error) {
	if err := checkPath(p); err != nil {
		return drivers.FileInfo{}, invalidPath("stat", p, err)
	}
	full := d.full(p)
	if err := ctx.Err(); err != nil {
		return drivers.FileInfo{}, wrapErr("stat", full, err)
	}
	fi, err := os.Lstat(full)
	if err != nil {
		if isNotFound(err) {
			return drivers.FileInfo{}, notFound("stat", full, "")
		}
		return drivers.FileInfo{}, wrapErr("stat", full, err)
	}
	if !fi.Mode().IsRegular() {
		return drivers.FileInfo{}, notFound("stat", full, "not a regular file: "+fi.Mode().Type().String())
	}
	return drivers.FileInfo{Path: p, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Reader opens the regular file at p; the result is an *os.File. What Stat
// calls missing gives an error wrapping drivers.ErrNotFound. A symlink is
// never followed.
func (d *Driver) Reader(ctx context.Context, p string) (io.ReadCloser, error) {
	if err := checkPath(p); err != nil {
		return nil, invalidPath("read", p, err)
	}
	full := d.full(p)
	if err := ctx.Err(); err != nil {
		return nil, wrapErr("read", full, err)
	}
	f, err := os.OpenFile(full, os.O_RDONLY|oNoFollow|oNonBlock, 0)
	if err != nil {
		if isNotFound(err) {
			return nil, notFound("read", full, "")
		}
		return nil, wrapErr("read", full, err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, wrapErr("read", full, err)
	}
	if !fi.Mode().IsRegular() {
		_ = f.Close()
		return nil, notFound("read", full, "not a regular file: "+fi.Mode().Type().String())
	}
	return f, nil
}
