package restore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/gitlabbackup"
	"github.com/regbackup/regbackup/problem"
	"github.com/regbackup/regbackup/progress"
	"github.com/regbackup/regbackup/snapshot"
)

// VerifyGitLab reads a whole GitLab backup and checks it as a restore
// would: every blob against its path's digest, every link file well formed
// and naming a blob the backup holds, the stream complete. It writes
// nothing and returns a catalog of what the backup holds (repositories,
// tags, the manifests its revision links name, the blobs held intact), as
// a regbackup archive's would say, for ListCatalog. A nil error means a
// restore will succeed; a blob that does not match is an error wrapping
// archive.ErrDigestMismatch, damage one wrapping gitlabbackup.ErrDamaged.
func VerifyGitLab(ctx context.Context, gr *gitlabbackup.Reader, prog *progress.Progress) (*Report, *archive.Catalog, error) {
	start := time.Now()
	prog.StartPhase("verify", string(gr.Form()))
	ps := problem.NewList(prog.ProblemFunc())
	rep := &Report{}
	sizes := map[string]int64{}
	parsed := map[string]*archive.Manifest{} // blobs that parse as manifests
	type repoLinks struct {
		layers, manifests []string
		tags              map[string]*archive.Tag
	}
	repos := map[string]*repoLinks{}
	var links []gitlabbackup.Link
	for {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		e, err := gr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return rep, nil, err
		}
		if e.Path.Kind == archive.KindBlob {
			n, m, err := readGitLabBlob(e)
			if err != nil {
				continue // a mismatch: Mismatches has it
			}
			sizes[e.Path.Digest] = n
			if m != nil {
				parsed[e.Path.Digest] = m
			}
			prog.Add(1, n)
			continue
		}
		r := repos[e.Path.Repo]
		if r == nil {
			r = &repoLinks{tags: map[string]*archive.Tag{}}
			repos[e.Path.Repo] = r
		}
		links = append(links, gitlabbackup.Link{Name: e.Name, Kind: e.Path.Kind, Digest: e.Link})
	}
	for _, n := range gr.Notes() {
		sev := problem.Notice
		if n.Damage {
			sev = problem.Damage
		}
		ps.Add(sev, n.Path, n.Digest, "%s", n.Message)
	}
	for _, m := range gr.Mismatches() {
		ps.Add(problem.Damage, m.Path, m.Want, "%v", m)
	}
	// Links in push order, each checked against the blobs held, as a
	// restore writes them.
	sort.SliceStable(links, func(i, j int) bool { return links[i].Kind < links[j].Kind })
	for _, l := range links {
		if !gr.Held(l.Digest) {
			gitlabDangling(ps, l)
			continue
		}
		p := archive.ParsePath(l.Name)
		r := repos[p.Repo]
		rep.Links++
		switch l.Kind {
		case archive.KindLayerLink:
			r.layers = append(r.layers, l.Digest)
		case archive.KindRevisionLink:
			r.manifests = append(r.manifests, l.Digest)
		case archive.KindTagIndexLink, archive.KindTagCurrentLink:
			t := r.tags[p.Tag]
			if t == nil {
				t = &archive.Tag{Name: p.Tag}
				r.tags[p.Tag] = t
			}
			if l.Kind == archive.KindTagCurrentLink {
				t.Current = l.Digest
			} else {
				t.Index = append(t.Index, l.Digest)
			}
		}
	}
	cat := &archive.Catalog{Format: string(gr.Form()), Source: string(gr.Form())}
	if info := gr.Info(); info != nil {
		cat.Source = info.String()
		if t, err := time.Parse("2006-01-02 15:04:05.999999999 -07:00", info.CreatedAt); err == nil {
			cat.Created = t
		}
	}
	named := map[string]bool{}
	for name, r := range repos {
		ar := archive.Repository{Name: name, Layers: r.layers, Manifests: r.manifests}
		for _, t := range r.tags {
			ar.Tags = append(ar.Tags, *t)
		}
		sort.Slice(ar.Tags, func(i, j int) bool { return ar.Tags[i].Name < ar.Tags[j].Name })
		for _, dg := range r.manifests {
			named[dg] = true
		}
		cat.Repositories = append(cat.Repositories, ar)
		rep.Tags += len(ar.Tags)
	}
	sort.Slice(cat.Repositories, func(i, j int) bool { return cat.Repositories[i].Name < cat.Repositories[j].Name })
	for dg, m := range parsed {
		if named[dg] {
			cat.Manifests = append(cat.Manifests, *m)
		}
	}
	sort.Slice(cat.Manifests, func(i, j int) bool { return cat.Manifests[i].Digest < cat.Manifests[j].Digest })
	for dg, n := range sizes {
		cat.Blobs = append(cat.Blobs, archive.Blob{Digest: dg, Size: n})
		rep.Blobs++
		rep.BlobBytes += n
	}
	sort.Slice(cat.Blobs, func(i, j int) bool { return cat.Blobs[i].Digest < cat.Blobs[j].Digest })
	rep.Repositories, rep.Manifests = len(cat.Repositories), len(cat.Manifests)
	rep.Problems = ps.All()
	rep.Duration = time.Since(start)
	if bad := gr.Mismatches(); len(bad) > 0 {
		return rep, cat, fmt.Errorf("%d blob(s) in the backup do not match their digest; the first: %w", len(bad), bad[0])
	}
	if n := ps.Damaged(); n > 0 {
		return rep, cat, fmt.Errorf("%d problem(s) in the backup, each listed above; a restore writes everything else: %w", n, gitlabbackup.ErrDamaged)
	}
	return rep, cat, nil
}

// readGitLabBlob reads a blob entry to its end (which checks its digest)
// and, when it is small JSON, parses it as a manifest.
func readGitLabBlob(e *archive.Entry) (int64, *archive.Manifest, error) {
	if e.Size > snapshot.MaxManifestSize {
		n, err := io.Copy(io.Discard, e.Body)
		return n, nil, err
	}
	data, err := io.ReadAll(e.Body)
	if err != nil {
		return 0, nil, err
	}
	if !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		return int64(len(data)), nil, nil
	}
	pm, err := snapshot.ParseManifest(data)
	if err != nil {
		return int64(len(data)), nil, nil
	}
	return int64(len(data)), &archive.Manifest{Digest: e.Path.Digest, MediaType: pm.MediaType, Size: int64(len(data)), References: pm.Refs}, nil
}
