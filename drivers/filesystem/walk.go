package filesystem

import (
	"cmp"
	"context"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
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
	return d.walk(ctx, prefix, -1, func(fi drivers.FileInfo, _ []byte) error { return fn(fi) })
}

var _ drivers.WalkReader = (*Driver)(nil)

// WalkRead is Walk that also reads each file of at most limit bytes as it
// lists it, and gives fn the file's content (a new slice fn may keep);
// data is nil for larger files and for files it could list but not open
// (fn can then use Reader, which reports why). A registry's link files
// read this way cost about half the system calls of Walk and then a Reader
// each: each is opened relative to its folder, already open, and stat'ed
// once. A file is read once, from its start, up to the size it had when
// opened.
func (d *Driver) WalkRead(ctx context.Context, prefix string, limit int64, fn func(fi drivers.FileInfo, data []byte) error) error {
	return d.walk(ctx, prefix, max(limit, 0), fn)
}

// walkFunc receives each file of a walk, with its content when the walk
// reads files (limit >= 0) and the file is small enough, else nil.
type walkFunc func(fi drivers.FileInfo, data []byte) error

// walk is Walk, reading files of at most limit bytes when limit >= 0.
func (d *Driver) walk(ctx context.Context, prefix string, limit int64, fn walkFunc) error {
	rel, err := checkPrefix(prefix)
	if err != nil {
		return invalidPath("walk", prefix, err)
	}
	full := d.full(rel)
	if err := ctx.Err(); err != nil {
		return wrapErr("walk", full, err)
	}
	if rel == "" {
		return walkParallel(ctx, &subtree{full: full}, limit, fn)
	}
	fi, err := os.Lstat(full)
	switch {
	case err != nil && isNotFound(err):
		return nil
	case err != nil:
		return wrapErr("walk", full, err)
	case fi.IsDir():
		return walkParallel(ctx, &subtree{name: path.Base(rel), rel: rel, full: full}, limit, fn)
	case !fi.Mode().IsRegular() || isTempName(fi.Name()):
		return nil
	}
	info := drivers.FileInfo{Path: rel, Size: fi.Size(), ModTime: fi.ModTime()}
	if limit < 0 || fi.Size() > limit {
		return fn(info, nil)
	}
	data, err := d.readAll(ctx, rel, limit)
	switch {
	case err != nil && errors.Is(err, drivers.ErrNotFound):
		return nil // removed or replaced since the Lstat
	case err != nil:
		return err
	case int64(len(data)) > limit:
		data = nil // grew since the Lstat
	}
	return fn(info, data)
}

// readAll reads file rel through Reader, at most limit+1 bytes.
func (d *Driver) readAll(ctx context.Context, rel string, limit int64) ([]byte, error) {
	rc, err := d.Reader(ctx, rel)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, wrapErr("walk", d.full(rel), err)
	}
	return data, nil
}

// walkEntry is one entry of a folder, in walk order: a regular file (dir
// nil), with its content when the walk reads files, or a subfolder.
type walkEntry struct {
	file drivers.FileInfo
	data []byte
	dir  *subtree
}

// readFolder opens folder s (relative to parent, open, when not nil) and
// lists it in walk order, reading files of at most limit bytes when
// limit >= 0. A folder other than the root that no longer exists gives
// a nil folder and no error. The caller closes the folder.
func readFolder(ctx context.Context, parent *folder, s *subtree, limit int64) (*folder, []walkEntry, error) {
	f, err := openFolder(parent, s)
	if err != nil {
		if s.rel != "" && isNotFound(err) {
			return nil, nil, nil // removed since its parent was read
		}
		return nil, nil, wrapErr("walk", s.full, err)
	}
	entries, err := f.list(ctx, limit)
	if err != nil {
		f.close()
		if s.rel != "" && isNotFound(err) {
			return nil, nil, nil
		}
		return nil, nil, err
	}
	return f, entries, nil
}

// walkSerial walks folder s depth-first in the calling goroutine, opening
// it relative to parent when not nil.
func walkSerial(ctx context.Context, parent *folder, s *subtree, limit int64, fn walkFunc) error {
	f, entries, err := readFolder(ctx, parent, s, limit)
	if err != nil || f == nil {
		return err
	}
	defer f.close()
	for _, e := range entries {
		if e.dir != nil {
			if err := walkSerial(ctx, f, e.dir, limit, fn); err != nil {
				return err
			}
			continue
		}
		if err := ctx.Err(); err != nil {
			return wrapErr("walk", s.full, err)
		}
		if err := fn(e.file, e.data); err != nil {
			return err
		}
	}
	return nil
}

// child describes subfolder name of s.
func (s *subtree) child(name string) *subtree {
	full := s.full + string(filepath.Separator) + name // filepath.Join, without its cleaning: s.full is clean
	if strings.HasSuffix(s.full, string(filepath.Separator)) {
		full = filepath.Join(s.full, name) // a root such as "/"
	}
	return &subtree{name: name, rel: joinRel(s.rel, name), full: full}
}

// joinRel is path.Join for a clean slash path ("" for the root) and a
// name, without path.Join's cleaning.
func joinRel(rel, name string) string {
	if rel == "" {
		return name
	}
	return rel + "/" + name
}

// walkCompare orders a folder's entries so that a depth-first walk yields
// full paths in lexical order: a folder sorts as its name followed by "/".
// Names hold no "/", so past their common prefix the next byte decides.
func walkCompare(a string, aDir bool, b string, bDir bool) int {
	n := min(len(a), len(b))
	if c := strings.Compare(a[:n], b[:n]); c != 0 {
		return c
	}
	next := func(s string, dir bool) int {
		switch {
		case n < len(s):
			return int(s[n])
		case dir:
			return '/'
		}
		return -1 // the name ends here
	}
	return cmp.Compare(next(a, aDir), next(b, bDir))
}
