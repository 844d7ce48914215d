package snapshot

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/parallel"
)

// errFound stops a walk at its first file.
var errFound = errors.New("found")

// listsBlobs reports whether the snapshot learns which blobs exist by
// listing blobs/ rather than by a Stat of each blob it needs. Check and
// allBlobs need the listing (orphans, garbage), and so do object stores
// (drivers.ConcurrencyHinter: a request per Stat, while a listing page
// names a thousand blobs). On a local disk a Stat is one system call where
// the listing reads two folders and stats a file per blob, garbage
// included: about a fifth of the calls.
func (s *Snapshot) listsBlobs(d drivers.Driver, allBlobs bool) bool {
	_, remote := d.(drivers.ConcurrencyHinter)
	return allBlobs || s.checking || remote
}

// listBlobs records every blob in storage in Present.
func (s *Snapshot) listBlobs(ctx context.Context, d drivers.Driver) error {
	err := d.Walk(ctx, archive.RegistryRoot+"blobs/", func(fi drivers.FileInfo) error {
		if p := archive.ParsePath(fi.Path); p.Kind == archive.KindBlob {
			s.Present.set(p.Digest, fi.Size)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing blobs: %w", err)
	}
	return nil
}

// statBlobs looks up, concurrency at a time, each of digests (handles of
// the snapshot's interner) neither in Present (listed, or looked up) nor
// looked up before, recording the blobs that exist in Present. Invalid
// digests are skipped: no blob has such a path.
func (s *Snapshot) statBlobs(ctx context.Context, d drivers.Driver, concurrency int, digests iter.Seq[handle]) error {
	if s.statted == nil {
		s.statted = map[string]bool{}
	}
	var set handleSet
	for h := range digests {
		if _, ok := s.Present.sizeOf(h); !ok && h.isDigest() { // a digest archive.ValidDigest accepts
			var buf [digestLen]byte
			if !s.statted[s.names.text(h, &buf)] {
				set.add(h)
			}
		}
	}
	todo := s.names.sorted(set)
	var mu sync.Mutex
	err := parallel.ForEach(ctx, concurrency, todo, func(ctx context.Context, h handle) error {
		dg := s.names.str(h)
		fi, err := d.Stat(ctx, archive.BlobPath(dg))
		if errors.Is(err, drivers.ErrNotFound) {
			mu.Lock()
			s.statted[dg] = true // missing: plan reports it
			mu.Unlock()
			return nil
		}
		if err != nil {
			return err
		}
		mu.Lock()
		s.Present.setHandle(h, fi.Size)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return fmt.Errorf("looking up blobs: %w", err)
	}
	return nil
}

// holdsBlobs reports whether storage holds any blob: from Present when
// it holds one, else by walking blobs/ to the first one.
func (s *Snapshot) holdsBlobs(ctx context.Context, d drivers.Driver) (bool, error) {
	if s.Present.Len() > 0 {
		return true, nil
	}
	err := d.Walk(ctx, archive.RegistryRoot+"blobs/", func(fi drivers.FileInfo) error {
		if archive.ParsePath(fi.Path).Kind == archive.KindBlob {
			return errFound
		}
		return nil
	})
	if errors.Is(err, errFound) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("listing blobs: %w", err)
	}
	return false, nil
}

// needed yields every digest the links hold and the manifests reference,
// with repeats: for a million tags a list of them would be some hundred
// MB, the few missing from Present are what statBlobs keeps.
func (s *Snapshot) needed(yield func(handle) bool) {
	for i := range s.Links {
		if !yield(s.Links[i].dg) {
			return
		}
	}
	for _, h := range s.Manifests.refs { // every record's, and a replaced record's: a repeat at most
		if !yield(h) {
			return
		}
	}
}
