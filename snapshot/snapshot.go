package snapshot

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/blobio"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/regconfig"
	"github.com/regbackup/regbackup/metadb"
	"github.com/regbackup/regbackup/parallel"
	"github.com/regbackup/regbackup/problem"
	"github.com/regbackup/regbackup/progress"
)

// gitlabDatabaseLock marks storage whose metadata lives in GitLab's
// registry database (see gitlab.md): a storage-only backup is not enough.
const gitlabDatabaseLock = regconfig.LockfileDatabase

// ErrDamagedSource is returned (wrapped) by the commands that read a
// source through a snapshot (backup, copy) when the source storage has
// damage they could not carry over: malformed, dangling or repaired links,
// missing or corrupt blobs. What they wrote is still complete and valid;
// their report's Problems say what is missing from it.
var ErrDamagedSource = errors.New("source storage is damaged")

// Snapshot is a consistent view of a registry: every link file, read
// first, then every manifest they name, and the blobs all of those need.
// Blobs pushed after the link walk are not referenced and so not included.
//
// Take fills it from storage. Another source of the same answer (GitLab's
// metadata database, where tags and manifests live in PostgreSQL) fills
// the exported fields the same way: Links in restore order, Manifests by
// digest, Present and Planned; Catalog then describes it for an archive,
// and backup and copy work from it alike. Callers read it; a caller
// done with a part of it may drop that part (backup and copy let go of
// Present once it is taken, backup of Manifests and Planned once the
// catalog is written).
type Snapshot struct {
	// Links are every link file, in restore order (archive.RestoreOrder: layers, revisions, tag
	// index, tag current) and by path within a kind; links to blobs
	// storage lacks are left out (and reported).
	Links []Link
	// Manifests are the parsed manifests by digest: every one a revisions
	// or tag link names, and the children of indexes.
	Manifests *ManifestSet
	// Present maps blob digest to size: every blob in storage, or every
	// one the snapshot needed (see listsBlobs).
	Present *BlobSizes
	// Planned are the blobs to copy, sorted by digest: those the links and
	// manifests reference, or with Options.AllBlobs every blob in storage.
	Planned *Plan
	// Uploads are the files under _uploads/ (uploads in progress), which a
	// backup leaves out and check reports when stale.
	Uploads []drivers.FileInfo
	// Database, for a snapshot TakeDatabase took, is the metadata
	// database's view it was built from (Links are then empty); nil for
	// Take.
	Database *metadb.Snapshot

	statted  map[string]bool // while Take runs: blobs found missing (and manifests being read), beyond Present
	known    *knownSet       // while Take runs: Options.Known's manifests; nil when blobs are not listed
	names    *interner       // one string per digest, repository and tag name: placed while Take runs
	problems *problem.List
	checking bool // taken by check: problems say what is wrong, not what a backup does about it
}

// Options configure Take.
type Options struct {
	// Concurrency is how many links, manifests and Stats are read at once
	// (0: the backend's preference, parallel.Concurrency), so that an
	// object store has that many requests in flight.
	Concurrency int
	// AllBlobs plans every blob in storage, referenced or not.
	AllBlobs bool
	Progress *progress.Progress
	// Problems receives what the snapshot finds wrong; the caller may add
	// its own after. nil: a new List that tells Progress.Problem.
	Problems *problem.List
	// ForCheck takes the snapshot for check: blobs are listed (orphans are
	// found), and problems say what is wrong, not what a backup does about
	// it.
	ForCheck bool
	// Known is the sidecar of the archive an incremental backup goes on
	// top of, or nil: the manifests it describes (archive.Meta.Manifests)
	// are taken from it rather than read again when the blob listing
	// finds them with the known size: a digest is its content, and the
	// parent archive holds that content, checked when it was written.
	// Read only when it describes manifests and blobs are listed (an
	// object store, where a manifest is a GET), once, after the listing
	// (see loadKnown).
	Known *archive.Meta
}

// Problems lists what the snapshot found wrong, in the order found, and
// whatever the caller added to Options.Problems since.
func (s *Snapshot) Problems() []problem.Problem { return s.problems.All() }

// Take reads the registry under d: every link file under repositories/,
// every manifest a link names (indexes recursively), and which blobs
// exist: the blob list, or a Stat of each blob the links and manifests
// name (see listsBlobs). Each manifest read holds at most MaxManifestSize
// bytes.
func Take(ctx context.Context, d drivers.Driver, opts Options) (*Snapshot, error) {
	ps := opts.Problems
	if ps == nil {
		ps = problem.NewList(opts.Progress.ProblemFunc())
	}
	names := newInterner()
	s := &Snapshot{Manifests: newManifestSet(names), Present: newBlobSizes(names),
		problems: ps, checking: opts.ForCheck, names: names}
	defer func() { // needed while taking only; the links and manifests keep the strings
		s.Manifests.seal()
		s.names.freeze()
		s.names, s.statted, s.known = nil, nil, nil
	}()
	if err := s.take(ctx, d, opts.Concurrency, opts.AllBlobs, opts.Known, opts.Progress); err != nil {
		return nil, err
	}
	return s, nil
}

// take fills s; see Take.
func (s *Snapshot) take(ctx context.Context, d drivers.Driver, concurrency int, allBlobs bool, known *archive.Meta, prog *progress.Progress) error {
	concurrency = parallel.Concurrency(concurrency, d)
	prog.StartPhase("snapshot", "reading link files")
	if _, err := d.Stat(ctx, gitlabDatabaseLock); err == nil {
		s.problems.Add(problem.Notice, gitlabDatabaseLock, "", "GitLab's registry metadata database is in use: "+
			"tags and manifests live in PostgreSQL, not in storage; back up the registry database too")
	}
	if err := s.readLinksAndBlobs(ctx, d, concurrency, s.listsBlobs(d, allBlobs)); err != nil {
		return err
	}
	if len(s.Links) == 0 {
		if found, err := s.holdsBlobs(ctx, d); err != nil {
			return err
		} else if !found {
			return fmt.Errorf("%s holds no registry data (no %s): check the root directory", d, archive.RegistryRoot)
		} else if !allBlobs {
			return looksLikeDatabase(d, s.checking)
		}
	}
	if known != nil && known.HasManifests() && s.listsBlobs(d, allBlobs) {
		s.loadKnown(known)
	}
	prog.StartPhase("snapshot", fmt.Sprintf("%d link files; reading manifests", len(s.Links)))
	if err := s.readManifests(ctx, d, concurrency); err != nil {
		return err
	}
	if err := s.completeLinks(ctx, d); err != nil {
		return err
	}
	if err := s.statBlobs(ctx, d, concurrency, s.needed); err != nil {
		return err
	}
	if err := s.recheckMissing(ctx, d); err != nil {
		return err
	}
	s.statted = nil // every digest is in
	s.plan(allBlobs)
	s.dropTaglessIndexes()
	return nil
}

// readLinksAndBlobs reads the link files (readRepositories) and, when
// lists, lists the blobs beside them, both walks at once: on an object
// store each is a sequence of listing pages, one after the other. Blobs
// are then looked up again once the links are in: a blob pushed while
// the walks went on can be missing from the listing, which passed its
// prefix before, and present for a link read after. So Present holds what
// the listing found, and s.statted (empty) makes readManifest and
// statBlobs look up any other digest directly before plan calls it
// missing: nothing more for a registry nobody pushed to. Without the
// listing, manifests are looked up as they are read, other blobs after.
func (s *Snapshot) readLinksAndBlobs(ctx context.Context, d drivers.Driver, concurrency int, lists bool) error {
	s.statted = map[string]bool{}
	if !lists {
		return s.readRepositories(ctx, d, concurrency)
	}
	listed := make(chan error, 1)
	listCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { listed <- s.listBlobs(listCtx, d) }()
	err := s.readRepositories(ctx, d, concurrency)
	if err != nil {
		cancel()
	}
	if lerr := <-listed; err == nil {
		err = lerr
	}
	return err
}

// readManifests parses every manifest a revisions or tag link names, and
// the children of indexes, level by level. When the snapshot looks blobs
// up with Stat (s.statted not nil), reading a manifest is its lookup.
func (s *Snapshot) readManifests(ctx context.Context, d drivers.Driver, concurrency int) error {
	var mu sync.Mutex
	var queuedDigests handleSet      // a bit a digest: a million tags name a million manifests
	queuedOther := map[handle]bool{} // the strings that are no digest (read as missing)
	var next []handle
	queue := func(h handle) {
		if queuedDigests.has(h) {
			return
		} else if h.isDigest() {
			queuedDigests.add(h)
		} else if queuedOther[h] {
			return
		} else {
			queuedOther[h] = true
		}
		next = append(next, h)
	}
	for i := range s.Links {
		if l := &s.Links[i]; l.Kind != archive.KindLayerLink {
			queue(l.dg)
		}
	}
	for len(next) > 0 {
		level := next
		next = nil
		err := parallel.ForEach(ctx, concurrency, level, func(ctx context.Context, h handle) error {
			m, refs, err := s.readManifest(ctx, d, s.names.str(h), &mu)
			if err != nil || m == nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			s.Manifests.put(m)
			for _, c := range refs {
				queue(s.names.put(c))
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("reading manifests: %w", err)
		}
	}
	return nil
}

// readManifest reads, checks and parses the manifest dg, recording in
// Present whether it exists (under mu). It returns nil when dg is missing
// or damaged (damage is reported), and an index's children.
func (s *Snapshot) readManifest(ctx context.Context, d drivers.Driver, dg string, mu *sync.Mutex) (*archive.Manifest, []string, error) {
	mu.Lock()
	size, present := s.Present.Size(dg)
	looked := present || s.statted[dg]
	if !looked {
		s.statted[dg] = true
	}
	mu.Unlock()
	switch {
	case looked && !present, !archive.ValidDigest(dg):
		return nil, nil, nil // reported by plan
	case present && size > MaxManifestSize:
		s.problems.Add(problem.Damage, archive.BlobPath(dg), dg, "named as a manifest but %d bytes, over the registry's 4 MiB limit", size)
		return nil, nil, nil
	}
	if k := s.knownAt(dg); present && k != nil && k.Size == size {
		return s.knownManifest(k)
	}
	data, err := blobio.ReadSmall(ctx, d, archive.BlobPath(dg), MaxManifestSize)
	if errors.Is(err, drivers.ErrNotFound) {
		mu.Lock()
		s.Present.delete(dg)
		mu.Unlock()
		return nil, nil, nil
	}
	if errors.Is(err, blobio.ErrTooLarge) { // not looked up before, or grew since
		fi, err := d.Stat(ctx, archive.BlobPath(dg))
		if err != nil {
			return nil, nil, err
		}
		mu.Lock()
		s.Present.set(dg, fi.Size)
		mu.Unlock()
		s.problems.Add(problem.Damage, archive.BlobPath(dg), dg, "named as a manifest but %d bytes, over the registry's 4 MiB limit", fi.Size)
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if !present {
		size = int64(len(data))
		mu.Lock()
		s.Present.set(dg, size)
		delete(s.statted, dg) // found: Present says so
		mu.Unlock()
	}
	if got := blobio.SHA256Digest(data); got != dg {
		s.problems.Add(problem.Damage, archive.BlobPath(dg), dg, "manifest content hashes to %s", got)
		return nil, nil, nil
	}
	pm, err := ParseManifest(data)
	if err != nil {
		s.problems.Add(problem.Damage, archive.BlobPath(dg), dg, "%v", err)
		return nil, nil, nil
	}
	return s.manifest(dg, pm.MediaType, size, pm.Refs, pm.IsIndex)
}

// manifest is readManifest's answer for manifest dg, and an index's
// children. Its strings are interned when ManifestSet.put takes it.
func (s *Snapshot) manifest(dg, mediaType string, size int64, refs []string, index bool) (*archive.Manifest, []string, error) {
	m := &archive.Manifest{Digest: dg, MediaType: mediaType, Size: size, References: refs}
	if index {
		return m, refs, nil
	}
	return m, nil, nil
}

// knownManifest is readManifest's answer for a manifest of Options.Known.
func (s *Snapshot) knownManifest(k *archive.Manifest) (*archive.Manifest, []string, error) {
	return s.manifest(k.Digest, k.MediaType, k.Size, k.References, isIndexType(k.MediaType))
}

// plan decides which blobs to copy and reports every reference to a blob
// that storage does not hold.
func (s *Snapshot) plan(allBlobs bool) {
	var want handleSet
	kept := s.Links[:0]
	for _, l := range s.Links {
		if _, ok := s.Present.sizeOf(l.dg); ok {
			want.add(l.dg)
			kept = append(kept, l)
			continue
		}
		switch l.Kind {
		case archive.KindLayerLink, archive.KindTagIndexLink:
			// Normal after a manifest was deleted and garbage-collected.
			s.problems.Add(problem.Notice, l.Path(), l.Digest(), "points to a blob no longer in storage (garbage-collected?)%s", s.then("left out"))
		default:
			s.problems.Add(problem.Damage, l.Path(), l.Digest(), "points to a blob missing from storage%s", s.then("left out"))
		}
	}
	s.Links = kept
	ms := s.Manifests
	ms.seal() // by digest, so that problems come in that order
	for i := range ms.recs {
		for _, h := range ms.refsOf(&ms.recs[i]) {
			if _, ok := s.Present.sizeOf(h); ok {
				want.add(h)
			} else if ref := s.names.str(h); archive.ValidDigest(ref) {
				s.problems.Add(problem.Damage, "", ref, "referenced by manifest %s but missing from storage (a foreign layer is fine)",
					s.names.str(ms.recs[i].dg))
			}
		}
	}
	if allBlobs {
		want = nil
		for h := range s.Present.byHandle() {
			want.add(h)
		}
	}
	p := &Plan{names: s.names, hs: s.names.sorted(want)}
	p.sizes = make([]int64, len(p.hs))
	for i, h := range p.hs {
		p.sizes[i], _ = s.Present.sizeOf(h)
	}
	s.Planned = p
}

// then is the end of a problem's message saying what a backup does about
// it ("; left out"); Check reports only what is wrong.
func (s *Snapshot) then(action string) string {
	if s.checking {
		return ""
	}
	return "; " + action
}
