package snapshot

import (
	"context"
	"fmt"
	"sort"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/problem"
)

// completeLinks reads the link files a push wrote while the walk went on.
// The walk lists a repository's _layers before its _manifests, and a push
// writes layer links, then the revision link, then the tag: an image pushed
// during the walk can be seen by its tag alone. The registry serves a tag
// only through its manifest's revision link, and a blob only through the
// repository's layer link, so a snapshot holding the tag without those
// would restore a tag that answers 404. So, for every tag, the revision
// link of the manifest it names; for every revision link, the layer links
// of the manifest's config and layers, or the revision links of an index's
// children. A missing one is read directly (nothing more for a registry
// nobody pushed to): found, it joins the snapshot; absent, the registry
// does not serve that tag either — deleted during the walk — and the tag
// is left out, with a notice. A layer link absent from storage is left as
// it is (a foreign layer has none).
func (s *Snapshot) completeLinks(ctx context.Context, d drivers.Driver) error {
	added := map[string]*Link{}
	has := func(k archive.Kind, repo, dg string) bool {
		return added[archive.LinkPath(k, repo, "", dg)] != nil || s.hasLink(k, repo, "", dg)
	}
	// need makes sure link k of repo naming dg is in the snapshot, reading
	// it when the walk did not see it.
	var queue []*Link // revision links whose manifests are still to be followed
	need := func(k archive.Kind, repo, dg string) (bool, error) {
		if has(k, repo, dg) {
			return true, nil
		}
		l, err := s.readLink(ctx, d, archive.LinkPath(k, repo, "", dg))
		if err != nil || l == nil {
			return false, err
		}
		added[l.Path()] = l
		if k == archive.KindRevisionLink {
			queue = append(queue, l)
		}
		return true, nil
	}
	dropped := map[string]bool{}
	for i := range s.Links {
		l := &s.Links[i]
		switch l.Kind {
		case archive.KindRevisionLink:
			queue = append(queue, l)
		case archive.KindTagCurrentLink:
			ok, err := need(archive.KindRevisionLink, l.Repo(), l.Digest())
			if err != nil {
				return fmt.Errorf("reading link files: %w", err)
			}
			if !ok {
				dropped[l.Path()] = true
				kind := problem.Notice // for a backup: what the registry serves, it holds
				if s.checking {
					kind = problem.Damage // for check: a tag that answers 404
				}
				s.problems.Add(kind, l.Path(), l.Digest(), "tag %s:%s names manifest %s, which has no revision link "+
					"(deleted while the snapshot was taken?): the registry does not serve it%s",
					l.Repo(), l.Tag(), l.Digest(), s.then("left out"))
			}
		}
	}
	for len(queue) > 0 {
		l := queue[0]
		queue = queue[1:]
		m := s.Manifests.rec(l.Digest())
		if m == nil {
			continue // missing or damaged: plan reports it
		}
		child := archive.KindLayerLink
		if isIndexType(s.names.str(m.mediaType)) {
			child = archive.KindRevisionLink
		}
		for _, h := range s.Manifests.refsOf(m) {
			if _, err := need(child, l.Repo(), s.names.str(h)); err != nil {
				return fmt.Errorf("reading link files: %w", err)
			}
		}
	}
	if len(added) == 0 && len(dropped) == 0 {
		return nil
	}
	links := s.Links[:0]
	for _, l := range s.Links {
		if len(dropped) == 0 || !dropped[l.Path()] {
			links = append(links, l)
		}
	}
	for _, l := range added {
		links = append(links, *l)
	}
	s.Links = links
	sortLinks(s.Links)
	return nil
}

// hasLink reports whether s.Links holds the link of kind k in repo for tag
// and digest dg (archive.LinkPath's arguments). Links are in restore
// order, by path within a kind (sortLinks): a binary search, rather than a
// set of every path. A string the interner never placed is in no link.
func (s *Snapshot) hasLink(k archive.Kind, repo, tag, dg string) bool {
	probe := Link{Kind: k, names: s.names}
	var found [3]bool
	probe.repo, found[0] = s.names.find(repo)
	probe.tag, found[1] = s.names.find(tag)
	probe.dg, found[2] = s.names.find(dg)
	if found != [3]bool{true, true, true} {
		return false
	}
	rank := k.RestoreRank()
	i := sort.Search(len(s.Links), func(i int) bool {
		l := &s.Links[i]
		if r := l.Kind.RestoreRank(); r != rank {
			return r > rank
		}
		return comparePaths(l, &probe) >= 0
	})
	return i < len(s.Links) && comparePaths(&s.Links[i], &probe) == 0
}

// sortLinks puts links in restore order, by path within a kind.
func sortLinks(links []Link) {
	sort.Slice(links, func(i, j int) bool {
		if ri, rj := links[i].Kind.RestoreRank(), links[j].Kind.RestoreRank(); ri != rj {
			return ri < rj
		}
		return comparePaths(&links[i], &links[j]) < 0
	})
}

// isIndexType reports whether a manifest of media type mt lists child
// manifests (ParseManifest sets an index's empty type to the OCI index's).
func isIndexType(mt string) bool { return mt == mtDockerList || mt == mtOCIIndex }

// recheckMissing looks again, before plan reports them, at the link files
// that name a manifest storage lacks and at the manifests that reference a
// blob storage lacks. A registry whose garbage collector runs while the
// snapshot is taken deletes an untagged manifest's blobs and then its
// revision link, so the snapshot can hold the link and miss the blob. A
// link that is gone now, or names another manifest, was deleted (or
// moved) meanwhile: it is left out with a notice, with the tags that named
// that manifest, as the registry no longer serves them. A link still there
// is damage, which plan reports.
func (s *Snapshot) recheckMissing(ctx context.Context, d drivers.Driver) error {
	gone := map[string]bool{} // link paths left out
	// revs: the revision links naming each manifest, by digest; made at the
	// first manifest missing (a million tags make a map of some 80 MB).
	var revs map[string][]*Link
	revisionLinks := func(dg string) []*Link {
		if revs == nil {
			revs = map[string][]*Link{}
			for i := range s.Links {
				if l := &s.Links[i]; l.Kind == archive.KindRevisionLink {
					revs[l.Digest()] = append(revs[l.Digest()], l)
				}
			}
		}
		return revs[dg]
	}
	stillThere := func(l *Link) (bool, error) {
		now, err := s.readLink(ctx, d, l.Path())
		if err != nil {
			return false, fmt.Errorf("reading link files: %w", err)
		}
		return now != nil && now.Digest() == l.Digest(), nil
	}
	// deleted reports whether every revision link naming manifest dg is
	// gone now; then they and the tags naming dg in those repositories are
	// to be left out (sweep, once for all such manifests: a pass over the
	// links for each would be links x manifests when a collector deleted
	// thousands during the snapshot).
	deletedIn := map[string]map[string]bool{} // manifest digest -> repositories it was deleted from
	deleted := func(dg string) (bool, error) {
		ls := revisionLinks(dg)
		if len(ls) == 0 {
			return false, nil
		}
		for _, l := range ls {
			if ok, err := stillThere(l); err != nil || ok {
				return false, err
			}
		}
		repos := map[string]bool{}
		for _, l := range ls {
			repos[l.Repo()] = true
		}
		deletedIn[dg] = repos
		return true, nil
	}
	sweep := func() {
		if len(deletedIn) == 0 {
			return
		}
		for _, l := range s.Links {
			if repos := deletedIn[l.Digest()]; repos[l.Repo()] && l.Kind != archive.KindLayerLink {
				gone[l.Path()] = true
				s.problems.Add(problem.Notice, l.Path(), l.Digest(), "names manifest %s, deleted (or garbage-collected) while the snapshot was taken%s",
					l.Digest(), s.then("left out"))
			}
		}
	}
	checked := map[string]bool{}
	ms := s.Manifests
	for i := range ms.recs {
		m := &ms.recs[i]
		if m.size < 0 || isIndexType(s.names.str(m.mediaType)) {
			continue
		}
		lacks := false
		for _, h := range ms.refsOf(m) {
			if _, ok := s.Present.sizeOf(h); !ok && archive.ValidDigest(s.names.str(h)) {
				lacks = true
			}
		}
		if !lacks {
			continue
		}
		dg := s.names.str(m.dg)
		checked[dg] = true
		ok, err := deleted(dg)
		if err != nil {
			return err
		}
		if ok {
			ms.delete(dg)
		}
	}
	for i := range s.Links {
		l := &s.Links[i]
		if _, ok := s.Present.sizeOf(l.dg); ok || checked[l.Digest()] || gone[l.Path()] {
			continue
		}
		switch l.Kind {
		case archive.KindRevisionLink:
			checked[l.Digest()] = true
			if _, err := deleted(l.Digest()); err != nil {
				return err
			}
		case archive.KindTagCurrentLink:
			ok, err := stillThere(l)
			if err != nil {
				return err
			}
			if !ok {
				gone[l.Path()] = true
				s.problems.Add(problem.Notice, l.Path(), l.Digest(), "tag %s:%s was deleted or moved while the snapshot was taken%s",
					l.Repo(), l.Tag(), s.then("left out"))
			}
		}
	}
	sweep()
	if len(gone) == 0 {
		return nil
	}
	kept := s.Links[:0]
	for _, l := range s.Links {
		if !gone[l.Path()] {
			kept = append(kept, l)
		}
	}
	s.Links = kept
	return nil
}

// dropTaglessIndexes leaves out the tag index links of tags left without
// their current link (left out above or by plan): the registry lists a tag
// by its folder, so a restored folder holding only index links would list
// a tag that answers 404.
func (s *Snapshot) dropTaglessIndexes() {
	var drop []bool // by index; nil until one is dropped
	for i, l := range s.Links {
		if l.Kind == archive.KindTagIndexLink &&
			!s.hasLink(archive.KindTagCurrentLink, l.Repo(), l.Tag(), "") {
			if drop == nil {
				drop = make([]bool, len(s.Links))
			}
			drop[i] = true
		}
	}
	if drop == nil {
		return
	}
	kept := s.Links[:0]
	for i, l := range s.Links {
		if !drop[i] {
			kept = append(kept, l)
		}
	}
	s.Links = kept
}
