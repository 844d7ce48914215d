package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"filippo.io/age"

	"github.com/regbackup/regbackup/archive"
)

// archiveFiles lists the files in st that may be archives (see
// archivesIn).
func archiveFiles(ctx context.Context, st ArchiveStore, glob string) ([]ArchiveInfo, error) {
	list, err := st.List(ctx)
	if err != nil {
		return nil, err
	}
	return archivesIn(list, glob), nil
}

// archivesIn keeps the files of list that may be archives: matching glob
// (a file name pattern; "" matches all), not hidden (temp files start with
// a dot) and not sidecars, sorted by name.
func archivesIn(list []ArchiveInfo, glob string) []ArchiveInfo {
	var out []ArchiveInfo
	for _, fi := range list {
		name := fi.Name
		if strings.HasPrefix(name, ".") || strings.HasSuffix(name, archive.MetaSuffix) {
			continue
		}
		if glob != "" {
			if ok, _ := path.Match(glob, name); !ok {
				continue
			}
		}
		out = append(out, fi)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// FindBase finds the archive an incremental backup to pattern (an -o name
// in st, {date} and {time} allowed) builds on: the newest (by creation
// time) archive in st whose name matches the pattern, other than exclude
// (the name about to be written). It returns nil when there is none, with
// notes saying why candidates were passed over. An encrypted archive
// without a sidecar is passed over unless ids decrypt it.
func FindBase(ctx context.Context, st ArchiveStore, pattern, exclude string, ids []age.Identity) (*archive.Meta, ArchiveRef, []string, error) {
	files, err := archiveFiles(ctx, st, NameGlob(pattern))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ArchiveRef{}, nil, nil
	}
	if err != nil {
		return nil, ArchiveRef{}, nil, fmt.Errorf("looking for the previous archive in %s: %w", st, err)
	}
	excl := ArchiveRef{Store: st, Name: exclude}
	type cand struct {
		ref ArchiveRef
		m   *archive.Meta
	}
	var cands []cand
	var notes []string
	for _, f := range files {
		ref := ArchiveRef{Store: st, Name: f.Name}
		if exclude != "" && ref.Same(excl) {
			continue
		}
		m, err := describeHead(ctx, ref, ids)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ArchiveRef{}, nil, ctx.Err()
			}
			notes = append(notes, fmt.Sprintf("%s passed over as a parent: %v", ref, err))
			continue
		}
		cands = append(cands, cand{ref, m})
	}
	if len(cands) == 0 {
		return nil, ArchiveRef{}, notes, nil
	}
	sort.Slice(cands, func(i, j int) bool {
		if !cands[i].m.Created.Equal(cands[j].m.Created) {
			return cands[i].m.Created.After(cands[j].m.Created)
		}
		return cands[i].ref.Name > cands[j].ref.Name
	})
	newest := cands[0]
	m, err := LoadBase(ctx, newest.ref, ids)
	if err != nil {
		return nil, ArchiveRef{}, append(notes, fmt.Sprintf("the newest archive %s cannot be a parent: %v", newest.ref, err)), nil
	}
	return m, newest.ref, notes, nil
}

// LoadBase describes the archive ref for an incremental backup on top of
// it: from its sidecar, or by reading it whole (which verifies it) when it
// has none. Every parent it names must be beside it and match, or the
// incremental could not be restored: errors wrap archive.ErrParentMissing or
// archive.ErrParentMismatch.
func LoadBase(ctx context.Context, ref ArchiveRef, ids []age.Identity) (*archive.Meta, error) {
	m, err := Describe(ctx, ref, ids, true)
	if err != nil {
		return nil, err
	}
	f := &ParentFinder{Store: ref.Store, Identities: ids, Child: ref.Name}
	for _, p := range m.Parents {
		if _, err := f.Locate(ctx, p); err != nil {
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
