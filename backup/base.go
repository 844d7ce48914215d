package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"filippo.io/age"

	"github.com/regbackup/regbackup/archive"
)

// archiveFiles lists the files in dir that may be archives: regular files
// matching glob (a file name pattern; "" matches all), not hidden (temp
// files start with a dot) and not sidecars.
func archiveFiles(dir, glob string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(name, ".") || strings.HasSuffix(name, archive.MetaSuffix) {
			continue
		}
		if glob != "" {
			if ok, _ := filepath.Match(glob, name); !ok {
				continue
			}
		}
		out = append(out, filepath.Join(dir, name))
	}
	return out, nil
}

// FindBase finds the archive an incremental backup to pattern (an -o name,
// {date} and {time} allowed) builds on: the newest (by creation time)
// archive in pattern's folder whose name matches the pattern, other than
// exclude (the file about to be written). It returns nil when there is
// none, with notes saying why candidates were passed over. An encrypted
// archive without a sidecar is passed over unless ids decrypt it.
func FindBase(ctx context.Context, pattern, exclude string, ids []age.Identity) (*archive.Meta, string, []string, error) {
	dir := filepath.Dir(pattern)
	files, err := archiveFiles(dir, NameGlob(pattern))
	if errors.Is(err, os.ErrNotExist) {
		return nil, "", nil, nil
	}
	if err != nil {
		return nil, "", nil, fmt.Errorf("looking for the previous archive: %w", err)
	}
	type cand struct {
		path string
		m    *archive.Meta
	}
	var cands []cand
	var notes []string
	for _, f := range files {
		if exclude != "" && SameFile(f, exclude) {
			continue
		}
		m, err := describeHead(ctx, f, ids)
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s passed over as a parent: %v", f, err))
			continue
		}
		cands = append(cands, cand{f, m})
	}
	if len(cands) == 0 {
		return nil, "", notes, nil
	}
	sort.Slice(cands, func(i, j int) bool {
		if !cands[i].m.Created.Equal(cands[j].m.Created) {
			return cands[i].m.Created.After(cands[j].m.Created)
		}
		return cands[i].path > cands[j].path
	})
	newest := cands[0]
	m, err := LoadBase(ctx, newest.path, ids)
	if err != nil {
		return nil, "", append(notes, fmt.Sprintf("the newest archive %s cannot be a parent: %v", newest.path, err)), nil
	}
	return m, newest.path, notes, nil
}

// LoadBase describes the archive at path for an incremental backup on top
// of it: from its sidecar, or by reading it whole (which verifies it) when
// it has none. Every parent it names must be beside it and match, or the
// incremental could not be restored: errors wrap ErrParentMissing or
// ErrParentMismatch.
func LoadBase(ctx context.Context, path string, ids []age.Identity) (*archive.Meta, error) {
	m, err := Describe(ctx, path, ids, true)
	if err != nil {
		return nil, err
	}
	f := &ParentFinder{Dir: filepath.Dir(path), Identities: ids, Child: filepath.Base(path)}
	for _, p := range m.Parents {
		if _, err := f.Locate(p); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// SameFile reports whether paths a and b name the same file: the same inode
// when both exist, else the same absolute path.
func SameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	if err1 == nil && err2 == nil {
		return os.SameFile(fa, fb)
	}
	aa, _ := filepath.Abs(a)
	ab, _ := filepath.Abs(b)
	return aa == ab
}
