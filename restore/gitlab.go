package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/gitlabbackup"
	"github.com/regbackup/regbackup/linkwriter"
	"github.com/regbackup/regbackup/parallel"
	"github.com/regbackup/regbackup/problem"
)

// RestoreGitLab reads a GitLab backup (gitlab-backup's outer tar, its
// registry.tar.gz, or the folder it extracts into) from gr and writes the
// registry into d, in place, as Restore does a regbackup archive: every
// blob verified against its path's digest before it is committed, many at
// once; the link files held (gitlabbackup.LinkSpool: on disk beyond a
// limit) until the whole stream has been read, then written in push order,
// each only when its blob was in the backup and intact. A blob that does
// not match its digest, a truncated or corrupt stream, or an unsafe entry
// stops the restore before any link file is written: the registry goes on
// serving what it served. Malformed link files and links to blobs the
// backup lacks are not written and are reported; the rest is restored and
// the error wraps gitlabbackup.ErrDamaged.
//
// GitLab's tarball holds no catalog, so with opts.Repositories the blobs
// the selected repositories need are known only once the stream has
// ended: every blob is committed as it passes, and those the target did
// not hold before and no selected link file names are removed again at the
// end (a dry run reports only the needed ones). Included files
// (FilesTo...) do not apply: GitLab's backups hold none.
func RestoreGitLab(ctx context.Context, gr *gitlabbackup.Reader, d drivers.Driver, opts Options) (*Report, error) {
	for _, g := range opts.Repositories {
		if _, err := path.Match(g, ""); err != nil {
			return nil, fmt.Errorf("--repository %q: %w", g, err)
		}
	}
	start := time.Now()
	rs := &restorer{d: d, opts: opts, sel: map[string]bool{}, problems: problem.NewList(opts.Progress.ProblemFunc()),
		files: map[string][]byte{}, rep: &Report{}, n: parallel.Concurrency(opts.Concurrency, d), bufBytes: restoreBuffer}
	g := &gitlabRestore{rs: rs, gr: gr, spool: gitlabbackup.NewLinkSpool("", gitlabSpoolLinks), matched: map[string]bool{},
		needed: map[string]bool{}, sizes: map[string]int64{}, provisional: map[string]bool{},
		filtered: len(opts.Repositories) > 0, change: opts.Change}
	defer g.spool.Close()
	if g.filtered {
		rs.opts.Change = g.interceptBlobs
	}
	opts.Progress.StartPhase("blobs", string(gr.Form())+": blobs, then link files")
	rs.keep = newMemKeep()
	w := rs.startBlobs(ctx)
	if err := w.finish(g.read(w)); err != nil {
		return nil, err
	}
	for _, n := range gr.Notes() {
		sev := problem.Notice
		if n.Damage {
			sev = problem.Damage
		}
		rs.problems.Add(sev, n.Path, n.Digest, "%s", n.Message)
	}
	if err := g.dropUnneeded(ctx); err != nil {
		return nil, err
	}
	if err := g.checkIntact(); err != nil {
		return nil, err
	}
	if g.filtered && len(rs.sel) == 0 {
		return nil, fmt.Errorf("no repository in the backup matches %s", strings.Join(opts.Repositories, ", "))
	}
	if err := rs.durableLinks(ctx, g.writeLinks); err != nil {
		return nil, err
	}
	if opts.Clean {
		if err := rs.clean(ctx); err != nil {
			return nil, err
		}
	}
	rs.rep.Repositories = len(rs.sel)
	rs.rep.Problems = rs.problems.All()
	rs.rep.Duration = time.Since(start)
	if n := rs.problems.Damaged(); n > 0 {
		return rs.rep, fmt.Errorf("%d problem(s) in the backup, each listed above and not restored; everything else was: %w", n, gitlabbackup.ErrDamaged)
	}
	return rs.rep, nil
}

// gitlabSpoolLinks is how many link files RestoreGitLab holds in memory
// (0: gitlabbackup.DefaultSpoolLinks); tests make it small.
var gitlabSpoolLinks = 0

// gitlabRestore is one RestoreGitLab.
type gitlabRestore struct {
	rs       *restorer
	gr       *gitlabbackup.Reader
	spool    *gitlabbackup.LinkSpool
	filtered bool
	matched  map[string]bool // repository name -> selected (memo of the globs)
	change   func(action, path string)

	// Guarded by rs.mu (workers report writes under it):
	needed      map[string]bool  // digests selected link files name
	sizes       map[string]int64 // blob sizes seen, for the counts of dropped blobs
	provisional map[string]bool  // blob paths written before any selected link named them
}

// read streams gr: blobs to the workers, selected link files to the spool.
func (g *gitlabRestore) read(w *blobWriter) error {
	rs := g.rs
	for {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		e, err := g.gr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", errArchive, err)
		}
		if e.Path.Kind == archive.KindBlob {
			if g.filtered {
				rs.mu.Lock()
				g.sizes[e.Path.Digest] = e.Size
				rs.mu.Unlock()
			}
			ok, err := w.add(e)
			if err != nil {
				return err
			}
			if ok {
				rs.kept(archive.BlobPath(e.Path.Digest)) // in memory: never fails
			}
			continue
		}
		if !g.selected(e.Path.Repo) {
			continue
		}
		if err := g.spool.Add(gitlabbackup.Link{Name: e.Name, Kind: e.Path.Kind, Digest: e.Link}); err != nil {
			return err
		}
		rs.kept(e.Name) // in memory: never fails
		switch e.Path.Kind {
		case archive.KindTagCurrentLink:
			rs.rep.Tags++
		case archive.KindRevisionLink:
			rs.rep.Manifests++
		}
		if g.filtered {
			rs.mu.Lock()
			g.needed[e.Link] = true
			rs.mu.Unlock()
		}
	}
}

// selected reports whether repository name is restored, and notes it.
func (g *gitlabRestore) selected(name string) bool {
	ok, known := g.matched[name]
	if !known {
		ok = len(g.rs.opts.Repositories) == 0
		for _, glob := range g.rs.opts.Repositories {
			if m, _ := path.Match(glob, name); m {
				ok = true
			}
		}
		g.matched[name] = ok
		if ok {
			g.rs.sel[name] = true
		}
	}
	return ok
}

// interceptBlobs is opts.Change in a restore of some repositories: a blob
// written before a selected link named it is held back, to be reported
// or removed at the end (dropUnneeded). Called with rs.mu held.
func (g *gitlabRestore) interceptBlobs(action, p string) {
	if action == "write" {
		if bp := archive.ParsePath(p); bp.Kind == archive.KindBlob && !g.needed[bp.Digest] {
			g.provisional[p] = true
			return
		}
	}
	if g.change != nil {
		g.change(action, p)
	}
}

// dropUnneeded removes the blobs written for a restore of some
// repositories that none of their link files name, and reports the others.
func (g *gitlabRestore) dropUnneeded(ctx context.Context) error {
	rs := g.rs
	var doomed []string
	rs.mu.Lock()
	for p := range g.provisional {
		dg := archive.ParsePath(p).Digest
		if g.needed[dg] {
			if g.change != nil {
				g.change("write", p)
			}
			continue
		}
		doomed = append(doomed, p)
		rs.keep.drop(p)
		rs.rep.Blobs--
		rs.rep.BlobBytes -= g.sizes[dg]
	}
	rs.mu.Unlock()
	if rs.opts.DryRun || len(doomed) == 0 {
		return nil
	}
	sort.Strings(doomed)
	return parallel.ForEach(ctx, rs.n, doomed, func(ctx context.Context, p string) error {
		if err := rs.d.Delete(ctx, p); err != nil && !errors.Is(err, drivers.ErrNotFound) {
			return fmt.Errorf("removing blob %s, which no selected repository needs: %w", p, err)
		}
		return nil
	})
}

// checkIntact fails when a blob did not match its digest, naming the
// repositories whose link files name it: no link file is written then.
func (g *gitlabRestore) checkIntact() error {
	bad := g.gr.Mismatches()
	if len(bad) == 0 {
		return nil
	}
	want := map[string]bool{}
	for _, m := range bad {
		want[m.Want] = true
		g.rs.problems.Add(problem.Damage, m.Path, m.Want, "%v", m)
	}
	repos := map[string]bool{}
	g.spool.Each(0, func(links []gitlabbackup.Link) error {
		for _, l := range links {
			if want[l.Digest] {
				repos[archive.ParsePath(l.Name).Repo] = true
			}
		}
		return nil
	})
	names := make([]string, 0, len(repos))
	for r := range repos {
		names = append(names, r)
	}
	sort.Strings(names)
	who := ""
	if len(names) > 0 {
		who = " (linked from " + strings.Join(names, ", ") + ")"
	}
	return fmt.Errorf("%s: %d blob(s) in the backup do not match their digest%s; the first: %w",
		errArchive, len(bad), who, bad[0])
}

// writeLinks writes the spooled link files in push order, batch by batch,
// each only when the backup held its blob intact.
func (g *gitlabRestore) writeLinks(ctx context.Context) error {
	rs := g.rs
	rs.opts.Progress.StartPhase("links", fmt.Sprintf("%d link files", g.spool.Len()))
	return g.spool.Each(4096, func(links []gitlabbackup.Link) error {
		batch := make([]linkwriter.Link, 0, len(links))
		for _, l := range links {
			if !g.gr.Held(l.Digest) {
				gitlabDangling(rs.problems, l)
				continue
			}
			batch = append(batch, linkwriter.Link{Name: l.Name, Kind: l.Kind, Digest: l.Digest})
		}
		return linkwriter.Write(ctx, rs.d, rs.n, batch, nil, rs.opts.DryRun, func(level []linkwriter.Link, written []bool) {
			rs.reportDone("write", written, func(i int) string { return level[i].Name }, &rs.rep.Links)
		})
	})
}

// dangling reports a link file to a blob the backup does not hold: normal
// for layer and tag history links after a garbage collection, damage for
// a manifest or a tag.
func gitlabDangling(ps *problem.List, l gitlabbackup.Link) {
	switch l.Kind {
	case archive.KindLayerLink, archive.KindTagIndexLink:
		ps.Add(problem.Notice, l.Name, l.Digest, "points to a blob the backup does not hold (garbage-collected?); not written")
	default:
		ps.Add(problem.Damage, l.Name, l.Digest, "points to a blob the backup does not hold; not written")
	}
}
