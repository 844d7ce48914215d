package filesystem

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/regbackup/regbackup/drivers"
)

var _ drivers.LeftoverRemover = (*Driver)(nil)

// RemoveLeftovers removes the temp files that Puts of a killed regbackup
// run left below prefix, as WalkLeftovers does, but walks only when a run
// may have left some: when the root holds a marker of a run other than this
// Driver's own (see BeginWrites), or cannot be listed. Without a marker it
// returns 0 at once: a walk of a big registry takes minutes. After a walk
// that removed everything, the markers of this host's runs go (the caller
// holds the exclusive lock: they are dead); another host's stay, for that
// run may be live. Temp files of a regbackup older than the markers are
// found only by WalkLeftovers.
func (d *Driver) RemoveLeftovers(ctx context.Context, prefix string, keep func(path string) bool) (int, error) {
	marks, err := d.UnfinishedRuns()
	if err == nil && len(marks) == 0 {
		return 0, nil
	}
	n, err := d.WalkLeftovers(ctx, prefix, keep)
	if err != nil {
		return n, err // the markers stay: the next run tries again
	}
	return n, clearMarks(marks)
}

// WalkLeftovers removes the temp files that Puts of a killed regbackup
// run left below prefix: files named exactly as tempName names them
// (".<base>.regbackup-<16 hex>.tmp"), never the registry's own temp files
// nor anything else; keep gets the temp file's slash path. It walks the whole subtree once, without following
// symlinks, and leaves the Puts of this Driver in flight alone. The caller
// holds the exclusive lock on the storage (see drivers.LeftoverRemover), so
// every other such file belongs to a run that is gone. Files it cannot
// remove are the error; folders that vanish meanwhile are skipped. It
// ignores markers (RemoveLeftovers reads them) and always walks.
func (d *Driver) WalkLeftovers(ctx context.Context, prefix string, keep func(path string) bool) (int, error) {
	rel, err := checkPrefix(prefix)
	if err != nil {
		return 0, invalidPath("remove leftovers", prefix, err)
	}
	mine := d.temps.snapshot()
	var removed int
	var errs []error
	err = filepath.WalkDir(d.full(rel), func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			if isNotFound(err) {
				return nil
			}
			errs = append(errs, wrapErr("remove leftovers", p, err))
			return nil
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if !de.Type().IsRegular() || !isOwnTempName(de.Name()) {
			return nil
		}
		if _, live := mine[p]; live {
			return nil
		}
		if r, err := filepath.Rel(d.root, p); err == nil && keep != nil && keep(filepath.ToSlash(r)) {
			return nil
		}
		switch err := os.Remove(p); {
		case err == nil:
			removed++
		case !isNotFound(err):
			errs = append(errs, wrapErr("remove leftovers", p, err))
		}
		return nil
	})
	if err != nil {
		return removed, wrapErr("remove leftovers", d.full(rel), err)
	}
	return removed, errors.Join(errs...)
}

// isOwnTempName reports whether name is exactly what tempName returns for
// some base: the files only this driver writes.
func isOwnTempName(name string) bool {
	stem, ok := strings.CutSuffix(name, tempSuffix)
	if !ok || !strings.HasPrefix(name, ".") {
		return false
	}
	i := strings.LastIndex(stem, tempMarker)
	if i < 1 {
		return false
	}
	hexPart := stem[i+len(tempMarker):]
	if len(hexPart) != 16 {
		return false
	}
	for j := range len(hexPart) {
		if c := hexPart[j]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
