package regcopy

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/regconfig"
	"github.com/regbackup/regbackup/linkwriter"
	"github.com/regbackup/regbackup/metadb"
	"github.com/regbackup/regbackup/parallel"
	"github.com/regbackup/regbackup/problem"
	"github.com/regbackup/regbackup/progress"
	"github.com/regbackup/regbackup/selection"
	"github.com/regbackup/regbackup/snapshot"
)

// Options configure Copy.
type Options struct {
	// Repositories restricts the copy to repositories matching any of
	// these globs (path.Match syntax, as for restore.Options) and the blobs
	// they need. Empty copies everything.
	Repositories []string
	// Concurrency is how many blobs are copied (and target lookups, link
	// files written) at once; 0 means the target's preference,
	// drivers.DefaultConcurrency(dst, parallel.DefaultConcurrency). The snapshot of
	// the source uses it too when set, else the source's preference.
	Concurrency int
	// DryRun takes the snapshot and looks at the target, writing nothing;
	// the report counts what would be copied and written.
	DryRun bool
	// VerifyExisting reads and hashes every blob the target already holds
	// at the right size; one that does not match is copied again (and
	// reported). Without it, a blob of the right size is taken as is, and
	// on an object store a link file whose path names its digest is taken
	// as holding it when it has the digest's length (see linkwriter.Write);
	// with it, every link file is read.
	VerifyExisting bool
	// Change, when set, is told every change made (or, with DryRun, that
	// would be made): "copy" (through this process), "server-copy" or
	// "write" (a link file), and the path. It is called from one goroutine
	// at a time, not in any particular order for blobs.
	Change   func(action, path string)
	Progress *progress.Progress
	// Database, when set, is GitLab's metadata database of a registry in
	// database mode: the blobs its snapshot references are copied (no link
	// files: the registry keeps none then), and storage's database-in-use
	// lockfile is written at the target after them. The database itself
	// stays where it is.
	Database *metadb.DB
	// Shard, when set (Of > 0), copies only the needed blobs that fall in
	// it (see Shard) and writes nothing else: no link file, no lockfile.
	// Runs of every shard of one Of, side by side or one after another,
	// copy every blob once; a Copy without Shard afterwards finds them all
	// at the target and writes the links (and, with Database, the
	// lockfile). In database mode a shard run refuses, before copying, a
	// target the registry would not start on (see lockfiles).
	Shard Shard
}

// Report says what a Copy did (or, in a dry run, would do).
type Report struct {
	Repositories   int               `json:"repositories"`
	Tags           int               `json:"tags"`
	Manifests      int               `json:"manifests"`
	Blobs          int               `json:"blobs"`             // copied through this process
	ServerSide     int               `json:"server_side_blobs"` // copied inside the storage service
	BlobBytes      int64             `json:"blob_bytes"`        // bytes of both
	Skipped        int               `json:"skipped"`           // already at the target
	SkippedBytes   int64             `json:"skipped_bytes"`
	Replaced       int               `json:"replaced,omitempty"`     // with VerifyExisting: target copies that did not match, copied again
	Shard          string            `json:"shard,omitempty"`        // Options.Shard, "I/N"
	OtherShards    int               `json:"other_shards,omitempty"` // needed blobs left to the other shards
	Links          int               `json:"links"`                  // link files written
	LinksUnchanged int               `json:"links_unchanged"`        // already holding the right digest
	Problems       []problem.Problem `json:"problems,omitempty"`
	Duration       time.Duration     `json:"duration_ns"`
}

// Copy copies the registry under src into dst, backend to backend, with no
// archive in between, and never deletes anything at dst. It snapshots src
// (link files first, then the manifests they name: see snapshot.Take),
// copies the blobs the selected repositories need, each verified by digest
// on the way (see copyBlobs), syncs dst, and only then writes the link
// files in push order (see linkwriter.Write), so that dst never has a link
// to a blob it lacks, whenever the copy stops.
//
// Copy is resumable: a blob dst already holds at the right size, and a
// link file that already holds the right digest, are skipped, so running
// it again after an interruption finishes the job, and running it again
// after a full copy writes nothing. Blobs and links pushed to src during
// the copy are not copied; a re-run picks them up.
//
// With Options.Shard, Copy copies only the blobs of that shard and stops
// there, before any link: a plain Copy after every shard's writes them.
//
// A blob missing or corrupt in src is reported as problem.Damage, the links
// naming it are not written, and everything else is copied; Copy then
// returns the report and an error wrapping snapshot.ErrDamagedSource. Any other
// error stops the copy and is returned with a nil report; what was
// committed stays and a re-run continues from it.
func Copy(ctx context.Context, src, dst drivers.Driver, opts Options) (*Report, error) {
	start := time.Now()
	prog := opts.Progress
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listings when the copy ends early
	c := &copier{src: src, dst: dst, opts: opts, n: parallel.Concurrency(opts.Concurrency, dst), rep: &Report{}}
	_, c.serverSide = dst.(drivers.Copier)
	if _, remote := dst.(drivers.ConcurrencyHinter); remote {
		c.blobList = startListing(ctx, dst, archive.RegistryRoot+"blobs/", "blobs")
		if !opts.VerifyExisting && opts.Shard.Of == 0 {
			c.linkList = startListing(ctx, dst, archive.RegistryRoot+"repositories/", "link files")
		}
	}
	ps := problem.NewList(prog.ProblemFunc())
	snap, err := c.snapshot(ctx, snapshot.Options{Concurrency: opts.Concurrency, Progress: prog, Problems: ps})
	if err != nil {
		return nil, err
	}
	snap.Present = nil // Planned has the sizes of the blobs to copy: every blob's can go
	sel, need, counts, err := selectRepositories(snap, opts.Repositories)
	if err != nil {
		return nil, err
	}
	c.problems = ps
	if c.linkList != nil {
		// Their paths do not name their content: read those whose MD5 in
		// the listing does not show it.
		tags := map[string]string{}
		for _, l := range snap.Links {
			if l.Kind == archive.KindTagCurrentLink && sel[l.Repo()] {
				tags[l.Path()] = l.Digest()
			}
		}
		c.tagReads = startReading(ctx, dst, c.linkList, tags, c.n)
	}
	// The blobs to copy, as indexes into the plan: 4 bytes a blob, where
	// an archive.Blob would be some 120 with its digest's text.
	var blobs []int32
	for i := range snap.Planned.Len() {
		switch b := snap.Planned.At(i); {
		case need != nil && !need[b.Digest]:
		case opts.Shard.Holds(b.Digest):
			blobs = append(blobs, int32(i))
		default:
			c.rep.OtherShards++
		}
	}
	if opts.Shard.Of > 0 && opts.Database != nil {
		if _, err := c.lockfiles(ctx); err != nil {
			return nil, err
		}
	}
	if err := c.copyBlobs(ctx, snap.Planned, blobs); err != nil {
		return nil, err
	}
	// Blobs durable before any link names them; links durable at the end.
	if err := c.sync(ctx); err != nil {
		return nil, err
	}
	if opts.Shard.Of == 0 {
		if err := c.writeLinks(ctx, snap.Links, sel); err != nil {
			return nil, err
		}
		if opts.Database != nil {
			if err := c.writeLockfile(ctx); err != nil {
				return nil, err
			}
		}
		if err := c.sync(ctx); err != nil {
			return nil, err
		}
	}
	rep := c.rep
	rep.Shard = opts.Shard.String()
	rep.Repositories = len(sel)
	for _, r := range counts {
		if sel[r.name] {
			rep.Tags += r.tags
			rep.Manifests += r.manifests
		}
	}
	rep.Problems = snap.Problems()
	rep.Duration = time.Since(start)
	if n := ps.Damaged(); n > 0 {
		return rep, fmt.Errorf("%d problem(s) in the source; everything else was copied: %w", n, snapshot.ErrDamagedSource)
	}
	return rep, nil
}

// repoCount is what a copy's report says of one repository.
type repoCount struct {
	name            string
	tags, manifests int
}

// selectRepositories matches the globs against the snapshot's
// repositories: the repositories selected, the blobs they need (nil:
// every blob, when nothing was filtered) and every repository's counts.
// A copy of everything takes the repositories one at a time and never
// holds the catalog whole; with globs the catalog is made whole to follow
// the manifests' references, as it was before.
func selectRepositories(snap *snapshot.Snapshot, globs []string) (map[string]bool, map[string]bool, []repoCount, error) {
	var names archive.Catalog // the repositories' names only, for selection
	var counts []repoCount
	add := func(r *archive.Repository) error {
		names.Repositories = append(names.Repositories, archive.Repository{Name: r.Name})
		counts = append(counts, repoCount{name: r.Name, tags: len(r.Tags), manifests: len(r.Manifests)})
		return nil
	}
	if len(globs) > 0 {
		cat := snap.Catalog()
		for i := range cat.Repositories {
			add(&cat.Repositories[i])
		}
		sel, err := selection.Repositories(cat, globs)
		if err != nil {
			return nil, nil, nil, err
		}
		return sel, selection.Blobs(cat, sel, true), counts, nil
	}
	if err := snap.EachRepository(add); err != nil {
		return nil, nil, nil, err
	}
	sel, err := selection.Repositories(&names, nil)
	return sel, nil, counts, err
}

// copier is one Copy's state.
type copier struct {
	src, dst   drivers.Driver
	opts       Options
	n          int // requests in flight at the target
	problems   *problem.List
	serverSide bool // dst is a drivers.Copier and has not said it cannot
	// Listings of the target's blobs/ and repositories/, and those of its
	// tags' current links whose listed MD5 does not show their content,
	// read (nil: not listed; see listing). Links are not listed with
	// VerifyExisting: every one is read then.
	blobList, linkList, tagReads *listing

	mu     sync.Mutex // guards rep, failed, serverSide and calls to opts.Change
	rep    *Report
	failed map[string]bool // blobs that could not be copied (damage in the source)
}

func (c *copier) change(action, p string) {
	if c.opts.Change != nil {
		c.opts.Change(action, p)
	}
}

// snapshot takes the source's snapshot: from its link files, or, in
// database mode, from a snapshot of the metadata database (taken first, so
// that every blob it names is in storage: see snapshot.TakeDatabase).
func (c *copier) snapshot(ctx context.Context, opts snapshot.Options) (*snapshot.Snapshot, error) {
	if c.opts.Database == nil {
		return snapshot.Take(ctx, c.src, opts)
	}
	opts.Progress.StartPhase("database", fmt.Sprintf("snapshot of %s (PostgreSQL %s)", c.opts.Database, c.opts.Database.ServerVersion()))
	db, err := c.opts.Database.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return snapshot.TakeDatabase(ctx, c.src, db, opts)
}

// lockfiles reads the target's lockfiles, refusing a target that holds
// filesystem-in-use: a registry on the metadata database would not start
// on it.
func (c *copier) lockfiles(ctx context.Context) (regconfig.Lockfiles, error) {
	lf, err := regconfig.ReadLockfiles(ctx, c.dst)
	switch {
	case err != nil:
		return lf, err
	case lf.Filesystem:
		return lf, fmt.Errorf("%s holds %s: a registry on the metadata database will not start on it; remove it if nothing uses that storage without the database", c.dst, regconfig.LockfileFilesystem)
	}
	return lf, nil
}

// writeLockfile writes the target's database-in-use lockfile, after every
// blob: what GitLab's registry looks for before it serves storage from its
// database. A target that holds filesystem-in-use is refused (see
// lockfiles).
func (c *copier) writeLockfile(ctx context.Context) error {
	lf, err := c.lockfiles(ctx)
	if err != nil || lf.Database {
		return err
	}
	c.change("write", regconfig.LockfileDatabase)
	if c.opts.DryRun {
		return nil
	}
	content := regconfig.LockfileContent
	if err := c.dst.Put(ctx, regconfig.LockfileDatabase, strings.NewReader(content), int64(len(content))); err != nil {
		return fmt.Errorf("writing %s: %w", regconfig.LockfileDatabase, err)
	}
	return nil
}

// writeLinks writes the selected repositories' link files whose blob is at
// the target; a link whose blob could not be copied is reported and left
// out. They go to linkwriter.Write a kind at a time in push order, in
// batches of linkBatch, their paths made for one batch at a time: a
// million tags have six million link files.
func (c *copier) writeLinks(ctx context.Context, links []snapshot.Link, sel map[string]bool) error {
	todo := 0
	for i := range links {
		l := &links[i]
		if !sel[l.Repo()] {
			continue
		}
		if c.failed[l.Digest()] {
			c.problems.Add(problem.Damage, l.Path(), l.Digest(), "not written: its blob could not be copied")
			continue
		}
		todo++
	}
	c.opts.Progress.StartPhase("links", fmt.Sprintf("%d link files", todo))
	var known *linkwriter.Known
	if c.linkList != nil {
		l, err := c.linkList.wait(ctx)
		if err != nil {
			return err
		}
		tags, err := c.tagReads.wait(ctx)
		if err != nil {
			return err
		}
		known = &linkwriter.Known{Files: l.files, Content: tags.content}
	}
	write := func(batch []linkwriter.Link) error {
		return linkwriter.Write(ctx, c.dst, c.n, batch, known, c.opts.DryRun, func(level []linkwriter.Link, written []bool) {
			c.mu.Lock()
			defer c.mu.Unlock()
			for i, w := range written {
				if w {
					c.rep.Links++
					c.change("write", level[i].Name)
				} else {
					c.rep.LinksUnchanged++
				}
			}
		})
	}
	batch := make([]linkwriter.Link, 0, min(todo, linkBatch))
	for _, k := range archive.RestoreOrder() {
		for i := range links {
			l := &links[i]
			if l.Kind != k || !sel[l.Repo()] || c.failed[l.Digest()] {
				continue
			}
			batch = append(batch, linkwriter.Link{Name: l.Path(), Kind: k, Digest: l.Digest()})
			if len(batch) == linkBatch {
				if err := write(batch); err != nil {
					return err
				}
				batch = batch[:0]
			}
		}
		// A kind is all written before the next one starts.
		if len(batch) > 0 {
			if err := write(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return nil
}

// linkBatch is how many link files of one kind a copy hands to
// linkwriter.Write at a time.
const linkBatch = 16 << 10

// sync makes what was written so far durable, on backends that cache.
func (c *copier) sync(ctx context.Context) error {
	if s, ok := c.dst.(drivers.Syncer); ok && !c.opts.DryRun {
		return s.Sync(ctx)
	}
	return nil
}
