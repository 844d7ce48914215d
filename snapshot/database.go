package snapshot

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/blobio"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/metadb"
	"github.com/regbackup/regbackup/parallel"
	"github.com/regbackup/regbackup/problem"
)

// ErrLooksLikeDatabase is returned (wrapped) by Take when storage holds
// blobs but no link file, and Options.AllBlobs is not set: that is what
// GitLab's registry leaves when its metadata is in its database, and a
// backup of the storage alone would silently hold nothing.
var ErrLooksLikeDatabase = errors.New("storage holds blobs but no link file reaches them")

// looksLikeDatabase is the error Take returns for storage whose blobs no
// link reaches: it names the way out.
func looksLikeDatabase(d drivers.Driver, checking bool) error {
	way := "--registry-config CONFIG (the registry's config.yml with its database: section) to back up the database and the blobs it references together, or --all-blobs to save the blobs alone"
	if checking {
		way = "--registry-config CONFIG (the registry's config.yml with its database: section) to check the database against the storage"
	}
	return fmt.Errorf("%s: %w: it looks like GitLab's container registry with its metadata database, whose repositories, tags and manifests are in PostgreSQL, not in storage; give %s", d, ErrLooksLikeDatabase, way)
}

// TakeDatabase is Take for a registry whose metadata is in GitLab's
// database: db (a metadb.Snapshot, taken before this is called, so that
// every blob it names was in storage then and is still, GitLab's online GC
// waiting its review delay) gives the repositories, tags and manifests;
// storage under d is looked up for the blobs they reference (listed for
// object stores, check and AllBlobs; a Stat each otherwise). A referenced
// blob that storage lacks, or holds with another size, is damage. Links are
// empty: GitLab's registry keeps none in this mode. With ForCheck, the
// blobs storage holds that the database does not reference are one notice
// with their total size (not orphans: the database's online GC owns them).
func TakeDatabase(ctx context.Context, d drivers.Driver, db *metadb.Snapshot, opts Options) (*Snapshot, error) {
	ps := opts.Problems
	if ps == nil {
		ps = problem.NewList(opts.Progress.ProblemFunc())
	}
	names := newInterner()
	s := &Snapshot{Manifests: newManifestSet(names), Present: newBlobSizes(names),
		problems: ps, checking: opts.ForCheck, Database: db, names: names}
	defer func() { // needed while taking only; the manifests keep the strings
		s.Manifests.seal()
		s.names.freeze()
		s.names, s.statted = nil, nil
	}()
	concurrency := parallel.Concurrency(opts.Concurrency, d)
	opts.Progress.StartPhase("snapshot", fmt.Sprintf("metadata database: %d repositories, %d manifests, %d blobs referenced",
		len(db.Repositories), len(db.Manifests), len(db.Blobs)))
	for _, m := range db.Manifests {
		if opts.ForCheck && strings.HasPrefix(m.Digest, "sha256:") {
			if got := blobio.SHA256Digest(m.Payload); got != m.Digest {
				s.problems.Add(problem.Damage, "", m.Digest, "manifest payload in the metadata database hashes to %s", got)
			}
		}
		s.Manifests.put(&archive.Manifest{Digest: m.Digest, MediaType: m.MediaType,
			Size: int64(len(m.Payload)), References: m.References()})
	}
	if s.listsBlobs(d, opts.AllBlobs) {
		if err := s.listBlobs(ctx, d); err != nil {
			return nil, err
		}
	} else {
		s.statted = map[string]bool{}
		want := func(yield func(handle) bool) {
			for _, b := range db.Blobs {
				if !yield(s.names.put(b.Digest)) {
					return
				}
			}
		}
		if err := s.statBlobs(ctx, d, concurrency, want); err != nil {
			return nil, err
		}
	}
	var planned archive.Blobs
	referenced := map[string]bool{}
	for _, b := range db.Blobs {
		referenced[b.Digest] = true
		size, ok := s.Present.Size(b.Digest)
		switch {
		case !ok:
			s.problems.Add(problem.Damage, archive.BlobPath(b.Digest), b.Digest,
				"referenced by the metadata database but missing from storage%s", s.then("left out"))
		case size != b.Size:
			s.problems.Add(problem.Damage, archive.BlobPath(b.Digest), b.Digest,
				"storage holds %d bytes, the metadata database says %d%s", size, b.Size, s.then("copied as it is"))
			planned = append(planned, archive.Blob{Digest: b.Digest, Size: size})
		default:
			planned = append(planned, archive.Blob{Digest: b.Digest, Size: size})
		}
	}
	var unknown int
	var unknownBytes int64
	for dg, size := range s.Present.All() {
		if referenced[dg] {
			continue
		}
		unknown++
		unknownBytes += size
		if opts.AllBlobs {
			planned = append(planned, archive.Blob{Digest: dg, Size: size})
		}
	}
	if unknown > 0 && opts.ForCheck {
		s.problems.Add(problem.Notice, archive.RegistryRoot+"blobs/", "",
			"%d blob(s), %d bytes, in storage that the metadata database does not reference (uploads never tagged, or unreferenced: GitLab's online garbage collector deletes them after its review delay)", unknown, unknownBytes)
	}
	sort.Slice(planned, func(i, j int) bool { return planned[i].Digest < planned[j].Digest })
	s.Planned = &Plan{whole: planned}
	return s, nil
}

// databaseCatalog describes a TakeDatabase snapshot for an archive: the
// repositories, tags and manifests the database holds. The dump itself
// (and Catalog.Database's dump fields) are the backup's to fill.
func (s *Snapshot) databaseCatalog() *archive.Catalog {
	db := s.Database
	c := &archive.Catalog{Blobs: s.Planned.Slice(), Metadata: archive.MetadataDatabase,
		Database: &archive.Database{ServerVersion: db.Server.String(), ServerMajor: db.Server.Major,
			SchemaVersion: db.SchemaVersion, PostDeploy: db.PostDeploySchemaVersion, DumpFormat: archive.DumpFormatCustom}}
	for _, r := range db.Repositories {
		ar := archive.Repository{Name: r.Path, Layers: []string{}, Manifests: r.Manifests}
		for _, t := range r.Tags {
			ar.Tags = append(ar.Tags, archive.Tag{Name: t.Name, Current: t.Digest})
		}
		c.Repositories = append(c.Repositories, ar)
	}
	for _, m := range db.Manifests {
		c.Manifests = append(c.Manifests, *s.Manifests.Get(m.Digest))
		c.Database.ManifestsBytes += int64(len(m.Payload))
	}
	return c
}
