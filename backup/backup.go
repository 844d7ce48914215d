package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"time"

	"filippo.io/age"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/metadb"
	"github.com/regbackup/regbackup/problem"
	"github.com/regbackup/regbackup/progress"
	"github.com/regbackup/regbackup/snapshot"
)

// Options configure Backup.
type Options struct {
	Compression  archive.Compression
	Level        int      // codec level, 0 = fast default
	Concurrency  int      // blobs read at once, also link and manifest reads; 0: drivers.DefaultConcurrency(d, DefaultConcurrency)
	AllBlobs     bool     // also keep blobs nothing references (GC garbage)
	IncludeFiles []string // local files (key material) stored with the data
	ToolVersion  string
	Progress     *progress.Progress
	// Base, when set, makes the archive incremental: blobs Base or its
	// parents hold are left to them (see applyBase), unless that would
	// need more than MaxParents archives (0: DefaultMaxParents). The
	// snapshot takes the manifests Base lists rather than read them again;
	// Backup then lets go of Base.Manifests (sets it nil). A Base read by
	// archive.OpenMeta (as the store reads sidecars) is read again as a
	// stream when its blob list is needed, never held whole; one held
	// whole is some hundred MB at a million blobs, which the caller should
	// not hold while Backup runs: Backup drops it once the catalog is
	// planned.
	Base       *archive.Meta
	MaxParents int
	// Recipients encrypt the archive with age (compress, then encrypt).
	Recipients []age.Recipient
	// Now is the time recorded as the archive's creation; zero means the
	// clock (tests set it to play a week of nightly runs).
	Now time.Time
	// Database, when set, backs up a GitLab registry whose metadata is in
	// its database: the database's snapshot is taken first and dumped
	// whole into the archive (incremental or not), and storage is read for
	// the blobs it references only.
	Database *Database
}

// Report says what a Backup did.
type Report struct {
	progress.Totals
	Problems []problem.Problem `json:"problems,omitempty"`
	Duration time.Duration     `json:"duration_ns"`
	// Metadata is "database" for a backup of GitLab's metadata database
	// (DatabaseBytes: the size of its dump, SchemaVersion its newest
	// migration).
	Metadata      string `json:"metadata,omitempty"`
	DatabaseBytes int64  `json:"database_bytes,omitempty"`
	SchemaVersion string `json:"schema_version,omitempty"`
	// For an incremental archive, the parents it needs and how many of
	// its blobs they hold; Meta describes the archive for its
	// sidecar (the caller sets its file name).
	Parents        []string      `json:"parents,omitempty"`
	InheritedBlobs int           `json:"inherited_blobs,omitempty"`
	Meta           *archive.Meta `json:"-"`
}

// Backup snapshots the registry under d and streams an archive of it to
// out. It returns snapshot.ErrDamagedSource (wrapped) when the source had damage;
// the archive is then still complete and valid, holding everything that
// was intact. Any other error means the archive is unusable.
func Backup(ctx context.Context, d drivers.Driver, out io.Writer, opts Options) (*Report, error) {
	start := time.Now()
	prog := opts.Progress
	files, err := readIncludeFiles(opts.IncludeFiles)
	if err != nil {
		return nil, err
	}
	ps := problem.NewList(prog.ProblemFunc())
	sopts := snapshot.Options{Concurrency: opts.Concurrency, AllBlobs: opts.AllBlobs, Progress: prog, Problems: ps,
		Known: opts.Base}
	var snap *snapshot.Snapshot
	var dbSnap *metadb.Snapshot
	if opts.Database != nil {
		// The database first: every blob it names is in storage already.
		if dbSnap, err = opts.Database.snapshot(ctx, prog); err != nil {
			return nil, err
		}
		defer dbSnap.Close()
		snap, err = snapshot.TakeDatabase(ctx, d, dbSnap, sopts)
	} else {
		snap, err = snapshot.Take(ctx, d, sopts)
	}
	if opts.Base != nil {
		opts.Base.MediaTypes, opts.Base.Manifests, sopts.Known = nil, nil, nil // the snapshot has them now
	}
	if err != nil {
		return nil, err
	}
	snap.Present = nil // Planned has the sizes of the blobs to write: every blob's can go
	// The catalog's lists go from the snapshot straight into the archive
	// (WriteLists): cat holds the head and the blobs only.
	cat := snap.CatalogHead()
	if opts.Database != nil {
		opts.Database.describe(cat)
	}
	cat.ToolVersion = opts.ToolVersion
	cat.Source = d.String()
	cat.Created = start.UTC()
	if !opts.Now.IsZero() {
		cat.Created = opts.Now.UTC()
	}
	cat.AllBlobs = opts.AllBlobs
	for _, f := range files {
		cat.Files = append(cat.Files, f.File)
	}
	blobs, note, err := applyBase(cat, snap.Planned, opts.Base, opts.MaxParents)
	if err != nil {
		return nil, err
	}
	if note != "" {
		ps.Add(problem.Notice, "", "", "%s", note)
	}
	if cat.Incremental() {
		prog.StartPhase("incremental", fmt.Sprintf("on top of %s: %d of %d blobs are in %d parent archive(s)",
			opts.Base.Archive, blobs.Len()-blobs.local, blobs.Len(), len(cat.Parents)))
	}
	opts.Base = nil // blobs say what it holds now: its blob list (a hundred bytes a blob) can go
	w, err := archive.NewWriter(out, archive.WriterOptions{Compression: opts.Compression, Level: opts.Level,
		Recipients: opts.Recipients})
	if err != nil {
		return nil, err
	}
	counts, err := writeCatalog(w, cat, snap, blobs)
	if err != nil {
		w.Abort()
		return nil, fmt.Errorf("writing archive: %w", err)
	}
	// The archive holds the catalog now: of the snapshot, only the links
	// are left to write (and cat.Blobs, local, say which blobs are in),
	// and the manifests for the sidecar, which the next incremental takes
	// them from (kept compact until the sidecar is made, at the end).
	var sidecarManifests *snapshot.ManifestSet
	if dbSnap == nil { // a database's incremental takes its manifests from the database again
		sidecarManifests = snap.Manifests
	}
	snap.Manifests = nil
	var dumped int64
	if dbSnap != nil {
		if dumped, err = writeDump(ctx, w, dbSnap, opts.Database.Tools, opts.Compression != archive.None && opts.Compression != "", prog); err != nil {
			w.Abort()
			return nil, err
		}
		dbSnap.Close() // the dump is done: no need to hold the snapshot while blobs are copied
	}
	failed, err := writeBlobs(ctx, d, w, blobs.Local(), ps, opts.Concurrency, prog)
	if err != nil {
		w.Abort()
		return nil, err
	}
	prog.StartPhase("links", fmt.Sprintf("%d link files", len(snap.Links)))
	links := 0
	for _, l := range snap.Links {
		path, dg := l.Path(), l.Digest() // each made for the call: once a link
		if failed[dg] || !blobs.Has(dg) {
			w.DropLink(path)
			ps.Add(problem.Damage, path, dg, "left out: its blob could not be copied")
			continue
		}
		if err := w.WriteLink(path, dg); err != nil {
			w.Abort()
			return nil, fmt.Errorf("writing archive: %w", err)
		}
		links++
	}
	for _, f := range files {
		if err := w.WriteFile(f.File, f.content); err != nil {
			w.Abort()
			return nil, fmt.Errorf("writing archive: %w", err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("writing archive: %w", err)
	}
	tr := w.Trailer()
	rep := &Report{Totals: progress.Totals{Repositories: counts.Repositories, Manifests: counts.Manifests, Tags: counts.Tags,
		Blobs: tr.Blobs - len(tr.Corrupt), BlobBytes: tr.BlobBytes, Links: links, Files: len(files)},
		Problems: snap.Problems(), Duration: time.Since(start),
		InheritedBlobs: blobs.Len() - blobs.local,
		Meta:           newMeta(cat, blobs, sidecarManifests, w.CatalogSHA256(), &tr, len(opts.Recipients) > 0, opts.Compression)}
	if dbSnap != nil {
		rep.Metadata, rep.DatabaseBytes, rep.SchemaVersion = cat.Metadata, dumped, dbSnap.SchemaVersion
	}
	for _, p := range cat.Parents {
		rep.Parents = append(rep.Parents, p.Name)
	}
	if n := ps.Damaged(); n > 0 {
		return rep, fmt.Errorf("%d problem(s) in the source; the archive holds everything else: %w", n, snapshot.ErrDamagedSource)
	}
	return rep, nil
}

// writeCatalog writes the catalog: cat's head and blobs, snap's lists.
func writeCatalog(w *archive.Writer, cat *archive.Catalog, snap *snapshot.Snapshot, blobs archive.BlobList) (archive.CatalogCounts, error) {
	cw, err := w.BeginCatalog(cat)
	if err != nil {
		return archive.CatalogCounts{}, err
	}
	if err := snap.WriteLists(cw); err != nil {
		return archive.CatalogCounts{}, err
	}
	for b := range archive.EachBlob(blobs) {
		if err := cw.Blob(b); err != nil {
			return archive.CatalogCounts{}, err
		}
	}
	if err := cw.Close(); err != nil {
		return archive.CatalogCounts{}, err
	}
	cat.Format = cw.Format()
	return cw.Counts(), nil
}

// newMeta describes the archive for its sidecar: cat (whose lists went
// into the archive without it holding them) with manifests, the
// snapshot's (nil for none), made one at a time.
func newMeta(cat *archive.Catalog, blobs archive.BlobList, manifests *snapshot.ManifestSet, catalogSHA256 string, tr *archive.Trailer, encrypted bool, comp archive.Compression) *archive.Meta {
	m := archive.NewMetaOf("", cat, blobs, catalogSHA256, tr, encrypted, comp)
	m.DescribeManifests(manifests.All())
	return m
}

// writeBlobs copies the planned blobs into w in digest order and returns
// the set that did not go in intact (missing or marked corrupt): few, where
// the set of those written would be every blob.
func writeBlobs(ctx context.Context, d drivers.Driver, w *archive.Writer, blobs iter.Seq[archive.Blob], ps *problem.List, workers int, prog *progress.Progress) (map[string]bool, error) {
	var n int
	var total int64
	for b := range blobs {
		n++
		total += b.Size
	}
	prog.StartPhase("blobs", fmt.Sprintf("%d blobs, %d bytes", n, total))
	prog.Plan(n, total)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	failed := map[string]bool{}
	for s := range fetchBlobs(ctx, d, blobs, workers) {
		dg := s.blob.Digest
		r := &streamReader{s: s}
		if err := r.first(); err != nil {
			r.drain()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			reason := "vanished from storage after the snapshot (deleted or garbage-collected?)"
			if !errors.Is(err, drivers.ErrNotFound) {
				reason = err.Error()
			}
			w.MarkMissing(dg, reason)
			failed[dg] = true
			ps.Add(problem.Damage, archive.BlobPath(dg), dg, "%s; left out", reason)
			continue
		}
		_, werr := w.WriteBlob(dg, s.blob.Size, r, archive.LooksCompressed(r.head()))
		r.drain()
		if werr != nil && !errors.Is(werr, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("writing archive: %w", werr)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if r.err != nil || !r.done {
			reason := "changed while being read"
			if r.err != nil {
				reason = r.err.Error()
			}
			w.MarkCorrupt(dg, reason)
			failed[dg] = true
			ps.Add(problem.Damage, archive.BlobPath(dg), dg, "%s; its entry is marked corrupt and no link points to it", reason)
			continue
		}
		prog.Add(1, s.blob.Size)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return failed, nil
}
