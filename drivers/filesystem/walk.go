package filesystem

import (
	"context"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/regbackup/regbackup/drivers"
)

// Walk calls fn for each regular file at or below prefix (a folder, or a
// file, which is then reported alone), in lexical byte order of the full
// slash path, the order object stores list keys in: each folder's entries
// are visited sorted with folder names compared as name+"/", so
// "a-b", "a.b" and "a/x" come in that order. Symlinks, other non-regular
// files and temp files (see the package doc) are skipped; folders that
// vanish during the walk are skipped too. ctx is checked before each entry.
func (d *Driver) Walk(ctx context.Context, prefix string, fn drivers.WalkFunc) error {
	rel, err := checkPrefix(prefix)
	if err != nil {
		return invalidPath("walk", prefix, err)
	}
	full := d.full(rel)
	if err := ctx.Err(); err != nil {
		return wrapErr("walk", full, err)
	}
	if rel == "" {
		return d.walkDir(ctx, "", full, fn)
	}
	fi, err := os.Lstat(full)
	switch {
	case err != nil && isNotFound(err):
		return nil
	case err != nil:
		return wrapErr("walk", full, err)
	case fi.IsDir():
		return d.walkDir(ctx, rel, full, fn)
	case fi.Mode().IsRegular() && !isTempName(fi.Name()):
		return fn(drivers.FileInfo{Path: rel, Size: fi.Size(), ModTime: fi.ModTime()})
	}
	return nil
}

// walkDir walks folder rel ("" for the root), found on disk at full.
func (d *Driver) walkDir(ctx context.Context, rel, full string, fn drivers.WalkFunc) error {
	entries, err := os.ReadDir(full)
	if err != nil {
		if rel != "" && isNotFound(err) {
			return nil // removed since its parent was read
		}
		return wrapErr("walk", full, err)
	}
	for _, e := range walkOrder(entries) {
		if err := ctx.Err(); err != nil {
			return wrapErr("walk", full, err)
		}
		name := e.Name()
		childRel := path.Join(rel, name)
		switch t := e.Type(); {
		case t.IsDir():
			if err := d.walkDir(ctx, childRel, filepath.Join(full, name), fn); err != nil {
				return err
			}
		case t.IsRegular() && !isTempName(name):
			fi, err := e.Info()
			if err != nil {
				if isNotFound(err) {
					continue // removed since the folder was read
				}
				return wrapErr("walk", filepath.Join(full, name), err)
			}
			if !fi.Mode().IsRegular() {
				continue // replaced since the folder was read
			}
			if err := fn(drivers.FileInfo{Path: childRel, Size: fi.Size(), ModTime: fi.ModTime()}); err != nil {
				return err
			}
		}
	}
	return nil
}

// walkOrder sorts a folder's entries so that a depth-first walk yields full
// paths in lexical order: a folder sorts as its name followed by "/".
func walkOrder(entries []fs.DirEntry) []fs.DirEntry {
	key := func(e fs.DirEntry) string {
		if e.IsDir() {
			return e.Name() + "/"
		}
		return e.Name()
	}
	slices.SortStableFunc(entries, func(a, b fs.DirEntry) int {
		return strings.Compare(key(a), key(b))
	})
	return entries
}
