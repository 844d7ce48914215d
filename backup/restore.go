package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
)

// RestoreOptions configure Restore.
type RestoreOptions struct {
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
	// Change, when set, is told every change made (or, with DryRun, that
	// would be made): "write", "skip" or "remove", and the path.
	Change   func(action, path string)
	Progress *Progress
	// Parents opens the parent archives of an incremental archive, and
	// Identities decrypt them. See restoreParents.
	Parents    ParentOpener
	Identities []age.Identity
}

// Restore reads an archive from in and writes it into the registry
// storage d, in place: the storage root itself is never removed, renamed
// or recreated. Blobs are verified before each is committed; link files
// are written only after the whole archive checked out, in push order
// (layers, revisions, tag index, tag current), so a corrupt or truncated
// archive leaves the registry serving what it served.
func Restore(ctx context.Context, in io.Reader, d drivers.Driver, opts RestoreOptions) (*Report, error) {
	ar, err := archive.NewReader(in)
	if err != nil {
		return nil, err
	}
	defer ar.Close()
	return RestoreArchive(ctx, ar, d, opts)
}

// RestoreArchive is Restore from an archive whose catalog the caller has
// already read, e.g. to check the input before touching the target.
func RestoreArchive(ctx context.Context, ar *archive.Reader, d drivers.Driver, opts RestoreOptions) (*Report, error) {
	start := time.Now()
	prog := opts.Progress
	cat := ar.Catalog()
	sel, err := selectRepositories(cat, opts.Repositories)
	if err != nil {
		return nil, err
	}
	rs := &restorer{d: d, opts: opts, sel: sel, need: neededBlobs(cat, sel, len(opts.Repositories) > 0),
		problems: newProblems(prog.problem()), files: map[string][]byte{}, rep: &Report{}}
	var total int64
	for _, b := range cat.Blobs {
		if rs.need[b.Digest] {
			total += b.Size
		}
	}
	prog.phase("blobs", fmt.Sprintf("%d blobs, %d bytes", len(rs.need), total))
	prog.plan(len(rs.need), total)
	if err := rs.readArchive(ctx, ar); err != nil {
		return nil, err
	}
	if err := rs.restoreParents(ctx, cat); err != nil {
		return nil, err
	}
	// Blobs durable before any link names them; links durable at the end.
	if err := rs.sync(ctx); err != nil {
		return nil, err
	}
	if err := rs.writeLinks(ctx); err != nil {
		return nil, err
	}
	if err := rs.sync(ctx); err != nil {
		return nil, err
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
	for _, r := range cat.Repositories {
		if sel[r.Name] {
			rs.rep.Tags += len(r.Tags)
			rs.rep.Manifests += len(r.Manifests)
		}
	}
	rs.rep.Problems = rs.problems.list
	rs.rep.Duration = time.Since(start)
	return rs.rep, nil
}

type restorer struct {
	d        drivers.Driver
	opts     RestoreOptions
	sel      map[string]bool // selected repositories
	need     map[string]bool // blobs to restore
	links    []*archive.Entry
	files    map[string][]byte // included files by entry name, verified
	keep     map[string]bool   // paths the archive holds (for --clean)
	problems *problems
	rep      *Report
}

func (rs *restorer) change(action, p string) {
	if rs.opts.Change != nil {
		rs.opts.Change(action, p)
	}
}

// readArchive streams every entry: blobs are verified and committed one by
// one, links and files are kept for later, and the trailer is checked.
func (rs *restorer) readArchive(ctx context.Context, ar *archive.Reader) error {
	rs.keep = map[string]bool{}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		e, err := ar.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading archive (no link file was written; the registry still serves what it served): %w", err)
		}
		switch {
		case e.Path.Kind == archive.KindBlob:
			if !rs.need[e.Path.Digest] {
				continue // Next drains and verifies it
			}
			if err := rs.restoreBlob(ctx, e); err != nil {
				return err
			}
		case e.Path.Kind.IsLink():
			if rs.sel[e.Path.Repo] {
				rs.links = append(rs.links, e)
				rs.keep[e.Name] = true
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
		rs.problems.add(Damage, m.Path, m.Want, "damaged in the source when it was backed up; not restored")
	}
	return nil
}

// sync makes what was written so far durable, on backends that cache.
func (rs *restorer) sync(ctx context.Context) error {
	if s, ok := rs.d.(drivers.Syncer); ok && !rs.opts.DryRun {
		return s.Sync(ctx)
	}
	return nil
}

// restoreBlob commits one blob unless the target already holds it intact.
func (rs *restorer) restoreBlob(ctx context.Context, e *archive.Entry) error {
	p := archive.BlobPath(e.Path.Digest)
	rs.keep[p] = true
	if rs.present(ctx, p, e.Path.Digest, e.Size) {
		rs.rep.Skipped++
		rs.opts.Progress.add(1, e.Size)
		return nil
	}
	if rs.opts.DryRun {
		rs.change("write", p)
		rs.rep.Blobs++
		rs.rep.BlobBytes += e.Size
		rs.opts.Progress.add(1, e.Size)
		return nil
	}
	err := rs.d.Put(ctx, p, e.Body, e.Size)
	switch {
	case errors.Is(err, archive.ErrDigestMismatch):
		// Either damaged at the source and explained by the trailer, or
		// corrupt in the archive: the trailer check decides. Nothing was
		// committed either way.
		delete(rs.keep, p)
		return nil
	case err != nil:
		return fmt.Errorf("restoring blob %s: %w", e.Path.Digest, err)
	}
	rs.change("write", p)
	rs.rep.Blobs++
	rs.rep.BlobBytes += e.Size
	rs.opts.Progress.add(1, e.Size)
	return nil
}

// present reports whether the target already holds blob p with the right
// size and digest.
func (rs *restorer) present(ctx context.Context, p, digest string, size int64) bool {
	fi, err := rs.d.Stat(ctx, p)
	if err != nil || fi.Size != size {
		return false
	}
	rc, err := rs.d.Reader(ctx, p)
	if err != nil {
		return false
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return false
	}
	return "sha256:"+hex.EncodeToString(h.Sum(nil)) == digest
}

// writeLinks writes the selected link files in push order, skipping those
// that already hold the right digest.
func (rs *restorer) writeLinks(ctx context.Context) error {
	sort.SliceStable(rs.links, func(i, j int) bool { return rs.links[i].Path.Kind < rs.links[j].Path.Kind })
	rs.opts.Progress.phase("links", fmt.Sprintf("%d link files", len(rs.links)))
	for _, e := range rs.links {
		if err := ctx.Err(); err != nil {
			return err
		}
		if cur, err := readSmall(ctx, rs.d, e.Name, 128); err == nil && string(cur) == e.Link {
			continue
		}
		rs.rep.Links++
		rs.change("write", e.Name)
		if rs.opts.DryRun {
			continue
		}
		if err := rs.d.Put(ctx, e.Name, strings.NewReader(e.Link), int64(len(e.Link))); err != nil {
			return fmt.Errorf("writing link: %w", err)
		}
	}
	return nil
}

// writeFiles restores included files where the user asked.
func (rs *restorer) writeFiles(cat *archive.Catalog) error {
	if len(cat.Files) == 0 {
		return nil
	}
	if rs.opts.FilesTo == "" && !rs.opts.FilesToOriginal {
		rs.problems.add(Notice, "", "", "the archive holds %d included file(s) (key material); not restored: use --files-to DIR or --files-to-original", len(cat.Files))
		return nil
	}
	rs.opts.Progress.phase("files", fmt.Sprintf("%d included files", len(cat.Files)))
	targets := fileTargets(cat.Files, rs.opts.FilesTo)
	for _, f := range cat.Files {
		target := targets[f.Entry]
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
	rs.opts.Progress.phase("clean", "removing what the archive does not hold")
	var prefixes []string
	if len(rs.opts.Repositories) == 0 {
		prefixes = []string{archive.RegistryRoot}
	} else {
		for r := range rs.sel {
			prefixes = append(prefixes, archive.RegistryRoot+"repositories/"+r+"/")
		}
		sort.Strings(prefixes)
	}
	for _, prefix := range prefixes {
		var doomed []string
		err := rs.d.Walk(ctx, prefix, func(fi drivers.FileInfo) error {
			if rs.keep[fi.Path] {
				return nil
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
		for _, p := range doomed {
			rs.change("remove", p)
			rs.rep.Removed++
			if rs.opts.DryRun {
				continue
			}
			if err := rs.d.Delete(ctx, p); err != nil && !errors.Is(err, drivers.ErrNotFound) {
				return fmt.Errorf("clean: %w", err)
			}
		}
	}
	return nil
}

// selectRepositories matches the globs against the catalog's repositories.
func selectRepositories(cat *archive.Catalog, globs []string) (map[string]bool, error) {
	sel := map[string]bool{}
	for _, g := range globs {
		if _, err := path.Match(g, ""); err != nil {
			return nil, fmt.Errorf("--repository %q: %w", g, err)
		}
	}
	for _, r := range cat.Repositories {
		if len(globs) == 0 {
			sel[r.Name] = true
		}
		for _, g := range globs {
			if ok, _ := path.Match(g, r.Name); ok {
				sel[r.Name] = true
			}
		}
	}
	if len(globs) > 0 && len(sel) == 0 {
		var names []string
		for _, r := range cat.Repositories {
			names = append(names, r.Name)
		}
		return nil, fmt.Errorf("no repository in the archive matches %s (it holds: %s)",
			strings.Join(globs, ", "), strings.Join(names, ", "))
	}
	return sel, nil
}

// neededBlobs is every blob when nothing was filtered, else the blobs the
// selected repositories link to and what their manifests reference.
func neededBlobs(cat *archive.Catalog, sel map[string]bool, filtered bool) map[string]bool {
	need := map[string]bool{}
	if !filtered {
		for _, b := range cat.Blobs {
			need[b.Digest] = true
		}
		return need
	}
	refs := map[string][]string{}
	for _, m := range cat.Manifests {
		refs[m.Digest] = m.References
	}
	var add func(string)
	add = func(dg string) {
		if need[dg] {
			return
		}
		need[dg] = true
		for _, r := range refs[dg] {
			add(r)
		}
	}
	for _, r := range cat.Repositories {
		if !sel[r.Name] {
			continue
		}
		for _, dg := range r.Layers {
			add(dg)
		}
		for _, dg := range r.Manifests {
			add(dg)
		}
		for _, t := range r.Tags {
			add(t.Current)
			for _, dg := range t.Index {
				add(dg)
			}
		}
	}
	// Only blobs the archive plans to hold.
	inCat := map[string]bool{}
	for _, b := range cat.Blobs {
		inCat[b.Digest] = true
	}
	for dg := range need {
		if !inCat[dg] {
			delete(need, dg)
		}
	}
	return need
}
