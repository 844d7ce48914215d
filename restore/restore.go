package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"filippo.io/age"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/gitlabbackup"
	"github.com/regbackup/regbackup/internal/atomicfile"
	"github.com/regbackup/regbackup/linkwriter"
	"github.com/regbackup/regbackup/parallel"
	"github.com/regbackup/regbackup/problem"
	"github.com/regbackup/regbackup/progress"
)

// Report says what a Restore did (or, with DryRun, would do).
type Report struct {
	progress.Totals
	Skipped int `json:"skipped,omitempty"` // blobs already present
	Removed int `json:"removed,omitempty"` // --clean
	// StaleTemps counts the temp files of included files that a killed
	// restore left beside them, removed before those files were written.
	StaleTemps int               `json:"stale_temp_files,omitempty"`
	Problems   []problem.Problem `json:"problems,omitempty"`
	Duration   time.Duration     `json:"duration_ns"`
	// Metadata is "database" when GitLab's metadata database was restored
	// (SchemaVersion: the newest migration it now holds).
	Metadata      string `json:"metadata,omitempty"`
	SchemaVersion string `json:"schema_version,omitempty"`
}

// Options configure Restore.
type Options struct {
	// Repositories restricts the restore to repositories matching any of
	// these globs (path.Match syntax, "*" stays within one name component)
	// and the blobs they need. Empty restores everything.
	Repositories []string
	// Clean removes, after everything else was written, the files under
	// docker/registry/v2/ the archive does not hold (only inside the
	// selected repositories when Repositories is set; blobs then stay).
	Clean bool
	// DryRun reads and checks the whole archive and reports what would
	// change, writing nothing.
	DryRun bool
	// FilesTo writes included files under this folder; FilesToOriginal
	// writes them to their original paths. Neither: they are not restored.
	FilesTo         string
	FilesToOriginal bool
	// FileTarget, with FilesToOriginal, may name another place for an
	// included file (a GitLab install's path for its key, under another
	// root than the one it was backed up from); "" keeps the original.
	FileTarget func(f archive.File) string
	// Change, when set, is told every change made (or, with DryRun, that
	// would be made): "write", "skip" or "remove", and the path. It is
	// called from one goroutine at a time, but blobs are written in
	// parallel, so not in archive order.
	Change func(action, path string)
	// Concurrency is how many blobs are written (and presence checks, link
	// files, removals made) at once; 0 means the backend's preference,
	// drivers.DefaultConcurrency(d, parallel.DefaultConcurrency): 16 or so for
	// object stores, 4 for a local disk. Memory stays bounded whatever it
	// is (see blobWriter).
	Concurrency int
	Progress    *progress.Progress
	// Parents opens the parent archives of an incremental archive, and
	// Identities decrypt them. See restoreParents.
	Parents    ParentOpener
	Identities []age.Identity
	// Database is the target metadata database for an archive of a GitLab
	// registry in database mode (required for one, refused for any other
	// archive). Its dump is restored after every blob, then the storage's
	// database-in-use lockfile is written; Clean lets it replace a
	// database that holds repositories.
	Database *Database
}

// Restore reads an archive from in and writes it into the registry
// storage d, in place: the storage root itself is never removed, renamed
// or recreated. Blobs are verified before each is committed, and written
// opts.Concurrency at a time with bounded memory (see blobWriter); link
// files are written only after the whole archive checked out and the blobs
// were synced, in push order (layers, revisions, tag index, tag current),
// so a corrupt or truncated archive leaves the registry serving what it
// served. The first error stops everything and is the one returned.
func Restore(ctx context.Context, in io.Reader, d drivers.Driver, opts Options) (*Report, error) {
	scan, err := NewScan(opts.Repositories)
	if err != nil {
		return nil, err
	}
	defer scan.Close()
	ar, err := archive.NewReaderOptions(in, archive.ReaderOptions{Visitor: scan.Visitor()})
	if err != nil {
		return nil, err
	}
	defer ar.Close()
	return FromScan(ctx, ar, scan, d, opts)
}

// FromReader is Restore from an archive whose catalog the caller has
// already read whole (a Reader without a Visitor), e.g. to check the input
// before touching the target. FromScan does the same in bounded memory.
func FromReader(ctx context.Context, ar *archive.Reader, d drivers.Driver, opts Options) (*Report, error) {
	scan, err := NewScan(opts.Repositories)
	if err != nil {
		return nil, err
	}
	scan.replay(ar.Catalog())
	return FromScan(ctx, ar, scan, d, opts)
}

// FromScan is Restore from an archive whose catalog the caller has read
// with scan's Visitor (NewScan(opts.Repositories)), so that its lists were
// never held whole.
func FromScan(ctx context.Context, ar *archive.Reader, scan *CatalogScan, d drivers.Driver, opts Options) (*Report, error) {
	defer scan.Close()
	rs, err := newRestorer(ar, scan, d, opts)
	if err != nil {
		return nil, err
	}
	defer rs.links.Close()
	defer func() { rs.keep.close() }()
	return rs.run(ctx, ar)
}

func newRestorer(ar *archive.Reader, scan *CatalogScan, d drivers.Driver, opts Options) (*restorer, error) {
	if err := checkMode(ar.Catalog(), opts); err != nil {
		return nil, err
	}
	scan.finish()
	sel, err := scan.selected()
	if err != nil {
		return nil, err
	}
	need, err := scan.need(ar)
	if err != nil {
		return nil, err
	}
	return &restorer{d: d, opts: opts, scan: scan, sel: sel, need: need,
		links:    gitlabbackup.NewLinkSpool("", restoreSpoolLinks),
		problems: problem.NewList(opts.Progress.ProblemFunc()), files: map[string][]byte{}, rep: &Report{},
		n: parallel.Concurrency(opts.Concurrency, d), bufBytes: restoreBuffer}, nil
}

// restoreSpoolLinks is how many link files a restore holds in memory
// before it spills them to temp files: 16,384 of some 300 bytes each (the
// tar header's name and the digest), where gitlabbackup's default of
// 100,000 took 65 MB at 100,000 tags. A variable so tests can make it
// spill sooner.
var restoreSpoolLinks = 16 << 10

// linkBatch is how many link files of one kind are handed to
// linkwriter.Write at a time.
const linkBatch = 16 << 10

// run restores the archive ar, whose catalog newRestorer was given.
func (rs *restorer) run(ctx context.Context, ar *archive.Reader) (*Report, error) {
	start := time.Now()
	prog, opts, cat, sel := rs.opts.Progress, rs.opts, ar.Catalog(), rs.sel
	total, count := rs.scan.bytes, rs.scan.blobs
	if rs.need != nil {
		total, count = rs.need.bytes, rs.need.count
	}
	if opts.Database != nil {
		if err := rs.checkTarget(ctx); err != nil {
			return nil, err
		}
	}
	prog.StartPhase("blobs", fmt.Sprintf("%d blobs, %d bytes", count, total))
	prog.Plan(count, total)
	defer func() {
		if rs.dump != nil {
			rs.dump.Close()
		}
	}()
	if err := rs.readArchive(ctx, ar); err != nil {
		return nil, err
	}
	if err := rs.restoreParents(ctx, ar); err != nil {
		return nil, err
	}
	if err := rs.durableLinks(ctx, rs.writeLinks); err != nil {
		return nil, err
	}
	if opts.Database != nil {
		if err := rs.restoreDatabase(ctx); err != nil {
			return nil, err
		}
	}
	if err := rs.writeFiles(cat); err != nil {
		return nil, err
	}
	if opts.Clean {
		if err := rs.clean(ctx); err != nil {
			return nil, err
		}
	}
	rs.rep.Repositories = len(sel)
	rs.rep.Tags, rs.rep.Manifests = rs.scan.tags()
	rs.rep.Problems = rs.problems.All()
	rs.rep.Duration = time.Since(start)
	return rs.rep, nil
}

type restorer struct {
	d        drivers.Driver
	opts     Options
	scan     *CatalogScan
	sel      map[string]bool // selected repositories
	need     *blobSelection  // blobs to restore; nil: all
	links    *gitlabbackup.LinkSpool
	files    map[string][]byte // included files by entry name, verified
	keep     *keepSet          // paths the archive holds (for --clean; nil without)
	problems *problem.List
	n        int     // requests in flight
	bufBytes int64   // bytes of blobs buffered for the workers, at most
	budget   *budget // the last blob phase's, for tests

	dump      *os.File // the database dump, spooled (unlinked) for after the blobs
	dumpBytes int64

	mu  sync.Mutex // guards rep and calls to opts.Change
	rep *Report
}

// needs reports whether blob d is to be restored.
func (rs *restorer) needs(d string) bool { return rs.need == nil || rs.need.hasDigest(d) }

// kept records that the archive holds path p, for --clean.
func (rs *restorer) kept(p string) error {
	if rs.keep == nil {
		return nil
	}
	return rs.keep.add(p)
}

func (rs *restorer) change(action, p string) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.changeLocked(action, p)
}

func (rs *restorer) changeLocked(action, p string) {
	if rs.opts.Change != nil {
		rs.opts.Change(action, p)
	}
}

// readArchive streams every entry: blobs are verified and committed, many
// at once (see blobWriter), links and files are kept for later, and the
// trailer is checked. When it returns, every blob Put has returned.
func (rs *restorer) readArchive(ctx context.Context, ar *archive.Reader) error {
	if rs.opts.Clean {
		rs.keep = newSpilledKeep()
	}
	w := rs.startBlobs(ctx)
	return w.finish(rs.readEntries(w, ar))
}

func (rs *restorer) readEntries(w *blobWriter, ar *archive.Reader) error {
	for {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		e, err := ar.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", errArchive, err)
		}
		switch {
		case e.Path.Kind == archive.KindBlob:
			if !rs.needs(e.Path.Digest) {
				continue // Next drains and verifies it
			}
			ok, err := w.add(e)
			if err != nil {
				return err
			}
			if ok {
				if err := rs.kept(archive.BlobPath(e.Path.Digest)); err != nil {
					return err
				}
			}
		case e.Path.Kind.IsLink():
			if rs.sel[e.Path.Repo] {
				// The link alone, not its Entry: a million tags have
				// six million of them.
				if err := rs.links.Add(gitlabbackup.Link{Name: e.Name, Kind: e.Path.Kind, Digest: e.Link}); err != nil {
					return err
				}
				if err := rs.kept(e.Name); err != nil {
					return err
				}
			}
		case e.DatabasePart > 0:
			if err := rs.spoolPart(e); err != nil {
				return err
			}
		case e.File != nil:
			data, err := io.ReadAll(e.Body)
			if err != nil {
				return fmt.Errorf("reading archive: %w", err)
			}
			rs.files[e.Name] = data
		}
	}
	for _, m := range ar.Mismatches() {
		rs.problems.Add(problem.Damage, m.Path, m.Want, "damaged in the source when it was backed up; not restored")
	}
	return nil
}

// writeLinks writes the selected link files in push order, skipping those
// that already hold the right digest (see linkwriter.Write). They come
// from the spool a batch at a time, so a million tags' six million links
// are never all in memory; the batches of one kind follow each other, so
// a kind still starts only once the one before is all written.
func (rs *restorer) writeLinks(ctx context.Context) error {
	rs.opts.Progress.StartPhase("links", fmt.Sprintf("%d link files", rs.links.Len()))
	batch := make([]linkwriter.Link, 0, linkBatch)
	return rs.links.Each(linkBatch, func(links []gitlabbackup.Link) error {
		batch = batch[:0]
		for _, l := range links {
			batch = append(batch, linkwriter.Link{Name: l.Name, Kind: l.Kind, Digest: l.Digest})
		}
		return linkwriter.Write(ctx, rs.d, rs.n, batch, nil, rs.opts.DryRun, func(level []linkwriter.Link, written []bool) {
			rs.reportDone("write", written, func(i int) string { return level[i].Name }, &rs.rep.Links)
		})
	})
}

// durableLinks makes the blobs written durable before write writes any
// link file that names them, and the link files durable at the end.
func (rs *restorer) durableLinks(ctx context.Context, write func(context.Context) error) error {
	if err := rs.sync(ctx); err != nil {
		return err
	}
	if err := write(ctx); err != nil {
		return err
	}
	return rs.sync(ctx)
}

// reportDone tells Change, in order, about the paths done (done[i] for
// the path name(i)), and counts them in *n.
func (rs *restorer) reportDone(action string, done []bool, name func(int) string, n *int) {
	for i, ok := range done {
		if ok {
			*n++
			rs.change(action, name(i))
		}
	}
}

// writeFiles restores included files where the user asked.
func (rs *restorer) writeFiles(cat *archive.Catalog) error {
	if len(cat.Files) == 0 {
		return nil
	}
	if rs.opts.FilesTo == "" && !rs.opts.FilesToOriginal {
		rs.problems.Add(problem.Notice, "", "", "the archive holds %d included file(s) (key material); not restored: use --files-to DIR or --files-to-original", len(cat.Files))
		return nil
	}
	rs.opts.Progress.StartPhase("files", fmt.Sprintf("%d included files", len(cat.Files)))
	targets := fileTargets(cat.Files, rs.opts.FilesTo)
	for _, f := range cat.Files {
		target := targets[f.Entry]
		if rs.opts.FileTarget != nil && rs.opts.FilesToOriginal {
			if t := rs.opts.FileTarget(f); t != "" {
				target = t
			}
		}
		content, ok := rs.files[f.Entry]
		if !ok {
			return fmt.Errorf("included file %s: not in the archive: %w", f.Path, archive.ErrCorrupt)
		}
		mode := os.FileMode(f.Mode & 0o777)
		if isPrivateKey(f, content) {
			mode = 0o600
		}
		rs.change("write", target)
		rs.rep.Files++
		if rs.opts.DryRun {
			continue
		}
		rs.rep.StaleTemps += atomicfile.RemoveStale(target)
		if err := writeFileAtomic(target, content, mode, f.UID, f.GID); err != nil {
			return fmt.Errorf("restoring included file %s: %w", f.Path, err)
		}
	}
	return nil
}

// clean removes what the archive does not hold, after everything else was
// written. Only docker/registry/v2/ is touched; the root and anything
// beside docker/ (lost+found) never are.
func (rs *restorer) clean(ctx context.Context) error {
	rs.opts.Progress.StartPhase("clean", "removing what the archive does not hold")
	var prefixes []string
	if len(rs.opts.Repositories) == 0 {
		prefixes = []string{archive.RegistryRoot}
	} else {
		for r := range rs.sel {
			prefixes = append(prefixes, archive.RegistryRoot+"repositories/"+r+"/")
		}
		sort.Strings(prefixes)
	}
	if err := rs.keep.build(); err != nil {
		return err
	}
	for _, prefix := range prefixes {
		var doomed []string
		err := rs.d.Walk(ctx, prefix, func(fi drivers.FileInfo) error {
			if kept, err := rs.keep.has(fi.Path); err != nil || kept {
				return err
			}
			if len(rs.opts.Repositories) > 0 {
				// Another (unselected) repository nested inside this one.
				if p := archive.ParsePath(fi.Path); p.Kind != archive.KindUnknown && !rs.sel[p.Repo] {
					return nil
				}
			}
			doomed = append(doomed, fi.Path)
			return nil
		})
		if err != nil {
			return fmt.Errorf("clean: %w", err)
		}
		removed := make([]bool, len(doomed))
		err = parallel.ForEach(ctx, rs.n, parallel.Indexes(len(doomed)), func(ctx context.Context, i int) error {
			if !rs.opts.DryRun {
				if err := rs.d.Delete(ctx, doomed[i]); err != nil && !errors.Is(err, drivers.ErrNotFound) {
					return fmt.Errorf("clean: %w", err)
				}
			}
			removed[i] = true
			return nil
		})
		rs.reportDone("remove", removed, func(i int) string { return doomed[i] }, &rs.rep.Removed)
		if err != nil {
			return err
		}
	}
	return nil
}
