package snapshot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/blobio"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/parallel"
	"github.com/regbackup/regbackup/problem"
)

// MaxLinkSize is the most a link file may hold: a digest and some
// whitespace are about 71 bytes.
const MaxLinkSize = 1024

// readRepositories lists and reads every link file under repositories/,
// skipping uploads in progress and temp files: as the walk goes on drivers
// that can (drivers.WalkReader); else those whose listed MD5 does not
// vouch for their content (see vouching), concurrency at a time after the
// walk.
func (s *Snapshot) readRepositories(ctx context.Context, d drivers.Driver, concurrency int) error {
	v := &vouching{s: s}
	visit := func(fi drivers.FileInfo, data []byte) error {
		switch p := archive.ParsePath(fi.Path); {
		case p.Kind.IsLink() && len(data) > 0:
			if l := s.parseLink(fi.Path, p, data); l != nil {
				s.Links = append(s.Links, *l)
			}
		case p.Kind.IsLink(): // unread, or empty (see readLink)
			for _, l := range v.listed(fi, p) {
				if l != nil {
					s.Links = append(s.Links, *l)
				}
			}
		case strings.Contains(fi.Path, "/_uploads/"):
			s.Uploads = append(s.Uploads, fi)
		case strings.HasSuffix(fi.Path, ".tmp"):
		default:
			s.problems.Add(problem.Notice, fi.Path, "", "not part of the registry layout%s", s.then("left out"))
		}
		return nil
	}
	prefix := archive.RegistryRoot + "repositories/"
	var err error
	if wr, ok := d.(drivers.WalkReader); ok {
		err = wr.WalkRead(ctx, prefix, MaxLinkSize, visit)
	} else {
		err = d.Walk(ctx, prefix, func(fi drivers.FileInfo) error { return visit(fi, nil) })
	}
	if err != nil {
		return fmt.Errorf("listing repositories: %w", err)
	}
	if err := s.readLinks(ctx, d, concurrency, v.done()); err != nil {
		return err
	}
	sortLinks(s.Links)
	return nil
}

// readLinks reads the link files at paths, concurrency at a time.
func (s *Snapshot) readLinks(ctx context.Context, d drivers.Driver, concurrency int, paths []string) error {
	var mu sync.Mutex
	return parallel.ForEach(ctx, concurrency, paths, func(ctx context.Context, p string) error {
		l, err := s.readLink(ctx, d, p)
		if l != nil {
			mu.Lock()
			s.Links = append(s.Links, *l)
			mu.Unlock()
		}
		return err
	})
}

// emptyLinkRereads are the pauses before reading an empty link file
// again. The registry's filesystem driver writes a link by truncating the
// file and then writing it, so a backup of a registry that serves pushes
// can read a link in that instant; only a link that stays empty is damage.
var emptyLinkRereads = []time.Duration{10 * time.Millisecond, 50 * time.Millisecond, 250 * time.Millisecond}

// readLink reads and checks one link file (see parseLink), reading an
// empty one again after each of emptyLinkRereads.
func (s *Snapshot) readLink(ctx context.Context, d drivers.Driver, path string) (*Link, error) {
	var data []byte
	for i := 0; ; i++ {
		var err error
		data, err = blobio.ReadSmall(ctx, d, path, MaxLinkSize)
		if errors.Is(err, drivers.ErrNotFound) {
			return nil, nil // deleted since the walk: the registry no longer has it
		}
		if err != nil && !errors.Is(err, blobio.ErrTooLarge) {
			return nil, err
		}
		if len(data) > 0 || i == len(emptyLinkRereads) {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(emptyLinkRereads[i]):
		}
	}
	return s.parseLink(path, archive.ParsePath(path), data), nil
}

// parseLink checks the content of one link file. A malformed link whose
// digest is unambiguous (named by its path, or surrounded by whitespace)
// is repaired and reported; one that is not is reported and left out
// (nil).
func (s *Snapshot) parseLink(path string, p archive.Path, data []byte) *Link {
	dg, perr := archive.ParseLink(data)
	switch {
	case perr == nil && dg == p.Digest:
		dg = p.Digest // one string for both: a million tags have six million links
	case perr == nil && p.Digest != "" && dg != p.Digest:
		s.problems.Add(problem.Damage, path, dg, "link holds %s but its path names %s%s", dg, p.Digest, s.then("using the path's digest"))
		dg = p.Digest
	case perr != nil && p.Digest != "":
		s.problems.Add(problem.Damage, path, p.Digest, "%v%s", perr, s.then("repaired from its path"))
		dg = p.Digest
	case perr != nil && archive.ValidDigest(strings.TrimSpace(string(data))):
		dg = strings.TrimSpace(string(data))
		s.problems.Add(problem.Damage, path, dg, "%v%s", perr, s.then("repaired"))
	case perr != nil:
		s.problems.Add(problem.Damage, path, "", "%v%s", perr, s.then("tag left out"))
		return nil
	}
	l := newLink(path, p, dg, s.names)
	return &l
}
