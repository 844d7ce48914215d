//go:build !linux

package filesystem

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/regbackup/regbackup/drivers"
)

// folder is a folder open for a walk; elsewhere than on Linux it is only
// a path, listed with os.ReadDir.
type folder struct{ s *subtree }

func openFolder(_ *folder, s *subtree) (*folder, error) { return &folder{s: s}, nil }

func (f *folder) close() {}

// list lists the folder in walk order: its regular files (stat'ed, and
// read when at most limit bytes and limit >= 0) and its subfolders.
// Entries that vanish meanwhile are left out. Errors name the path.
func (f *folder) list(ctx context.Context, limit int64) ([]walkEntry, error) {
	entries, err := os.ReadDir(f.s.full)
	if err != nil {
		return nil, wrapErr("walk", f.s.full, err)
	}
	slices.SortFunc(entries, func(a, b os.DirEntry) int {
		return walkCompare(a.Name(), a.IsDir(), b.Name(), b.IsDir())
	})
	out := make([]walkEntry, 0, len(entries))
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, wrapErr("walk", f.s.full, err)
		}
		name := e.Name()
		switch t := e.Type(); {
		case t.IsDir():
			out = append(out, walkEntry{dir: f.s.child(name)})
		case t.IsRegular() && !isTempName(name):
			full := filepath.Join(f.s.full, name)
			fi, err := e.Info()
			if err != nil {
				if isNotFound(err) {
					continue // removed since the folder was read
				}
				return nil, wrapErr("walk", full, err)
			}
			if !fi.Mode().IsRegular() {
				continue // replaced since the folder was read
			}
			we := walkEntry{file: drivers.FileInfo{Path: joinRel(f.s.rel, name), Size: fi.Size(), ModTime: fi.ModTime()}}
			if limit >= 0 && fi.Size() <= limit {
				data, err := readSmallFile(full, limit)
				if err != nil && isNotFound(err) {
					continue
				}
				if err == nil && int64(len(data)) <= limit {
					we.data = data
				}
			}
			out = append(out, we)
		}
	}
	return out, nil
}

// readSmallFile reads the regular file at full, at most limit+1 bytes,
// without following a symlink.
func readSmallFile(full string, limit int64) ([]byte, error) {
	fh, err := os.OpenFile(full, os.O_RDONLY|oNoFollow|oNonBlock, 0)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	if fi, err := fh.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, os.ErrNotExist
	}
	buf := make([]byte, limit+1)
	n, err := io.ReadFull(fh, buf)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, err
	}
	return buf[:n], nil
}
