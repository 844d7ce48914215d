package snapshot

import (
	"slices"
	"sort"
	"strings"

	"github.com/regbackup/regbackup/archive"
)

// Catalog describes the snapshot for an archive, its lists whole in
// memory; WriteLists writes the same lists into an archive without
// holding them.
func (s *Snapshot) Catalog() *archive.Catalog {
	if s.Database != nil {
		return s.databaseCatalog()
	}
	c := &archive.Catalog{Blobs: s.Planned.Slice()}
	s.eachRepository(func(r *archive.Repository) error {
		c.Repositories = append(c.Repositories, *r)
		return nil
	})
	c.Manifests = s.Manifests.Slice()
	return c
}

// WriteLists writes the repositories and manifests that Catalog lists
// into cw, in the same order, holding one repository's lists at a time
// (the blobs, Planned or what an incremental made of them, are the
// caller's to write after).
func (s *Snapshot) WriteLists(cw *archive.CatalogWriter) error {
	if s.Database != nil {
		return cw.Lists(s.databaseCatalog())
	}
	if err := s.eachRepository(cw.Repository); err != nil {
		return err
	}
	for m := range s.Manifests.All() {
		if err := cw.Manifest(m); err != nil {
			return err
		}
	}
	return nil
}

// EachRepository calls fn with every repository Catalog lists, in its
// order, one at a time: made from the links (or the metadata database's
// snapshot) when asked for, so that a caller needing only what each holds
// (a name, counts) never has the catalog whole. It stops at fn's first
// error and returns it.
func (s *Snapshot) EachRepository(fn func(*archive.Repository) error) error {
	if s.Database != nil {
		c := s.databaseCatalog()
		for i := range c.Repositories {
			if err := fn(&c.Repositories[i]); err != nil {
				return err
			}
		}
		return nil
	}
	return s.eachRepository(fn)
}

// eachRepository calls fn with every repository the links name, by name:
// its layers and manifests in the links' order, its tags by name.
func (s *Snapshot) eachRepository(fn func(*archive.Repository) error) error {
	// The links by repository, each repository's in the snapshot's order.
	idx := make([]int32, len(s.Links))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortStableFunc(idx, func(a, b int32) int {
		return strings.Compare(s.Links[a].Repo(), s.Links[b].Repo())
	})
	for start := 0; start < len(idx); {
		name := s.Links[idx[start]].Repo()
		end := start + 1
		for end < len(idx) && s.Links[idx[end]].Repo() == name {
			end++
		}
		if err := fn(s.repository(name, idx[start:end])); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// repository is the repository name made of the links at idx.
func (s *Snapshot) repository(name string, idx []int32) *archive.Repository {
	r := &archive.Repository{Name: name}
	tags := map[string]*archive.Tag{}
	tag := func(name string) *archive.Tag {
		t := tags[name]
		if t == nil {
			t = &archive.Tag{Name: name}
			tags[name] = t
		}
		return t
	}
	for _, i := range idx {
		l := &s.Links[i]
		switch l.Kind {
		case archive.KindLayerLink:
			r.Layers = append(r.Layers, l.Digest())
		case archive.KindRevisionLink:
			r.Manifests = append(r.Manifests, l.Digest())
		case archive.KindTagIndexLink:
			t := tag(l.Tag())
			t.Index = append(t.Index, l.Digest())
		case archive.KindTagCurrentLink:
			tag(l.Tag()).Current = l.Digest()
		}
	}
	for _, t := range tags {
		r.Tags = append(r.Tags, *t)
	}
	sort.Slice(r.Tags, func(i, j int) bool { return r.Tags[i].Name < r.Tags[j].Name })
	return r
}

// CatalogHead is Catalog without its repositories, manifests and blobs,
// which WriteLists and then Planned give.
func (s *Snapshot) CatalogHead() *archive.Catalog {
	if s.Database == nil {
		return &archive.Catalog{}
	}
	c := s.databaseCatalog()
	c.Repositories, c.Manifests, c.Blobs = nil, nil, nil
	return c
}
