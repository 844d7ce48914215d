package backup

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
)

// maxLinkSize is the most a link file may hold: a digest and some
// whitespace are about 71 bytes.
const maxLinkSize = 1024

// walkReader is implemented by drivers that read small files as they walk
// cheaper than Walk and then a Reader per file (the filesystem).
// WalkRead is Walk that also gives fn the content of each file of at most
// limit bytes, or nil for larger files and files it could not read.
type walkReader interface {
	WalkRead(ctx context.Context, prefix string, limit int64, fn func(fi drivers.FileInfo, data []byte) error) error
}

// readRepositories lists and reads every link file under repositories/,
// skipping uploads in progress and temp files: as the walk goes on drivers
// that can (walkReader), else concurrency at a time after the walk.
func (s *Snapshot) readRepositories(ctx context.Context, d drivers.Driver, concurrency int) error {
	var paths []string // link files left to read through Reader
	visit := func(fi drivers.FileInfo, data []byte) error {
		switch p := archive.ParsePath(fi.Path); {
		case p.Kind.IsLink() && data != nil:
			if l := s.parseLink(fi.Path, p, data); l != nil {
				s.links = append(s.links, *l)
			}
		case p.Kind.IsLink():
			paths = append(paths, fi.Path)
		case strings.Contains(fi.Path, "/_uploads/"):
			s.uploads = append(s.uploads, fi)
		case strings.HasSuffix(fi.Path, ".tmp"):
		default:
			s.problems.add(Notice, fi.Path, "", "not part of the registry layout%s", s.then("left out"))
		}
		return nil
	}
	prefix := archive.RegistryRoot + "repositories/"
	var err error
	if wr, ok := d.(walkReader); ok {
		err = wr.WalkRead(ctx, prefix, maxLinkSize, visit)
	} else {
		err = d.Walk(ctx, prefix, func(fi drivers.FileInfo) error { return visit(fi, nil) })
	}
	if err != nil {
		return fmt.Errorf("listing repositories: %w", err)
	}
	if err := s.readLinks(ctx, d, concurrency, paths); err != nil {
		return err
	}
	sort.Slice(s.links, func(i, j int) bool {
		if s.links[i].P.Kind != s.links[j].P.Kind {
			return s.links[i].P.Kind < s.links[j].P.Kind
		}
		return s.links[i].Path < s.links[j].Path
	})
	return nil
}

// readLinks reads the link files at paths, concurrency at a time.
func (s *Snapshot) readLinks(ctx context.Context, d drivers.Driver, concurrency int, paths []string) error {
	var mu sync.Mutex
	return forEach(ctx, concurrency, paths, func(ctx context.Context, p string) error {
		l, err := s.readLink(ctx, d, p)
		if l != nil {
			mu.Lock()
			s.links = append(s.links, *l)
			mu.Unlock()
		}
		return err
	})
}

// readLink reads and checks one link file (see parseLink).
func (s *Snapshot) readLink(ctx context.Context, d drivers.Driver, path string) (*link, error) {
	data, err := readSmall(ctx, d, path, maxLinkSize)
	if errors.Is(err, drivers.ErrNotFound) {
		return nil, nil // deleted since the walk: the registry no longer has it
	}
	if err != nil && !errors.Is(err, errTooLarge) {
		return nil, err
	}
	return s.parseLink(path, archive.ParsePath(path), data), nil
}

// parseLink checks the content of one link file. A malformed link whose
// digest is unambiguous (named by its path, or surrounded by whitespace)
// is repaired and reported; one that is not is reported and left out
// (nil).
func (s *Snapshot) parseLink(path string, p archive.Path, data []byte) *link {
	dg, perr := archive.ParseLink(data)
	switch {
	case perr == nil && p.Digest != "" && dg != p.Digest:
		s.problems.add(Damage, path, dg, "link holds %s but its path names %s%s", dg, p.Digest, s.then("using the path's digest"))
		dg = p.Digest
	case perr != nil && p.Digest != "":
		s.problems.add(Damage, path, p.Digest, "%v%s", perr, s.then("repaired from its path"))
		dg = p.Digest
	case perr != nil && archive.ValidDigest(strings.TrimSpace(string(data))):
		dg = strings.TrimSpace(string(data))
		s.problems.add(Damage, path, dg, "%v%s", perr, s.then("repaired"))
	case perr != nil:
		s.problems.add(Damage, path, "", "%v%s", perr, s.then("tag left out"))
		return nil
	}
	return &link{Path: path, P: p, Digest: dg}
}
