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
//
// Folders are read walkWorkers at a time (see walkParallel); fn is called
// from Walk's own goroutine, one file at a time, never after Walk returned.
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
		return walkParallel(ctx, rel, full, fn)
	}
	fi, err := os.Lstat(full)
	switch {
	case err != nil && isNotFound(err):
		return nil
	case err != nil:
		return wrapErr("walk", full, err)
	case fi.IsDir():
		return walkParallel(ctx, rel, full, fn)
	case fi.Mode().IsRegular() && !isTempName(fi.Name()):
		return fn(drivers.FileInfo{Path: rel, Size: fi.Size(), ModTime: fi.ModTime()})
	}
	return nil
}

// walkEntry is one entry of a folder, in walk order: a regular file (dir
// nil) or a subfolder.
type walkEntry struct {
	file drivers.FileInfo
	dir  *subtree
}

// readFolder lists folder rel ("" for the root), found on disk at full, in
// walk order: its regular files, stat'ed, and its subfolders. A folder
// other than the root that no longer exists lists as empty.
func readFolder(ctx context.Context, rel, full string) ([]walkEntry, error) {
	entries, err := os.ReadDir(full)
	if err != nil {
		if rel != "" && isNotFound(err) {
			return nil, nil // removed since its parent was read
		}
		return nil, wrapErr("walk", full, err)
	}
	out := make([]walkEntry, 0, len(entries))
	for _, e := range walkOrder(entries) {
		if err := ctx.Err(); err != nil {
			return nil, wrapErr("walk", full, err)
		}
		name := e.Name()
		childRel := path.Join(rel, name)
		switch t := e.Type(); {
		case t.IsDir():
			out = append(out, walkEntry{dir: &subtree{rel: childRel, full: filepath.Join(full, name)}})
		case t.IsRegular() && !isTempName(name):
			fi, err := e.Info()
			if err != nil {
				if isNotFound(err) {
					continue // removed since the folder was read
				}
				return nil, wrapErr("walk", filepath.Join(full, name), err)
			}
			if !fi.Mode().IsRegular() {
				continue // replaced since the folder was read
			}
			out = append(out, walkEntry{file: drivers.FileInfo{Path: childRel, Size: fi.Size(), ModTime: fi.ModTime()}})
		}
	}
	return out, nil
}

// walkSerial walks folder rel depth-first in the calling goroutine.
func walkSerial(ctx context.Context, rel, full string, fn drivers.WalkFunc) error {
	entries, err := readFolder(ctx, rel, full)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.dir != nil {
			if err := walkSerial(ctx, e.dir.rel, e.dir.full, fn); err != nil {
				return err
			}
			continue
		}
		if err := ctx.Err(); err != nil {
			return wrapErr("walk", full, err)
		}
		if err := fn(e.file); err != nil {
			return err
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
