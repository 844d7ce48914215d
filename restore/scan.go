package restore

import (
	"fmt"
	"path"
	"strings"

	"github.com/regbackup/regbackup/archive"
)

// CatalogScan is what restore, verify and list keep of an archive's
// catalog lists, taken as the Reader streams them past (see Visitor), so
// that the catalog of a million tags is never held whole: per repository
// its name and counts; for a restore of some repositories (--repository)
// the digests they link to and the manifests' references; for a listing
// the tags and the manifests. The blobs stay in the Reader's own compact
// plan (archive.Reader.BlobOf, EachBlob).
//
// A scan serves one Reader. Use NewScan for a restore or a verify, and
// newListScan for a listing.
type CatalogScan struct {
	globs   []string // --repository; nil: every repository
	graph   bool     // keep the manifests (filtered restore, listing)
	listing bool     // keep the tags as Images

	repos     []RepositorySummary // in catalog order, a repository's pieces joined
	sel       map[string]bool     // selected repositories
	roots     digestSet           // what the selected repositories link to (filtered only)
	manifests manifestGraph
	images    imageTable // listing only

	nManifests      int
	blobs, ownBlobs int
	bytes, ownBytes int64
	done            bool
}

// NewScan starts the scan of a catalog for a restore of the repositories
// matching globs (path.Match syntax; none: every repository) or a verify.
func NewScan(globs []string) (*CatalogScan, error) {
	for _, g := range globs {
		if _, err := path.Match(g, ""); err != nil {
			return nil, fmt.Errorf("--repository %q: %w", g, err)
		}
	}
	return &CatalogScan{globs: globs, graph: len(globs) > 0, sel: map[string]bool{}}, nil
}

func newListScan() *CatalogScan {
	return &CatalogScan{graph: true, listing: true, sel: map[string]bool{}}
}

// Visitor is what archive.ReaderOptions.Visitor takes; nil for a nil
// scan (the Reader then holds the catalog whole).
func (s *CatalogScan) Visitor() *archive.CatalogVisitor {
	if s == nil {
		return nil
	}
	return &archive.CatalogVisitor{Repository: s.repository, Manifest: s.manifest, Blob: s.blob}
}

// replay scans a catalog held whole, as a Reader without a Visitor left
// it, so that both ways give the same answer.
func (s *CatalogScan) replay(cat *archive.Catalog) {
	for i := range cat.Repositories {
		s.repository(&cat.Repositories[i])
	}
	for i := range cat.Manifests {
		s.manifest(&cat.Manifests[i])
	}
	for _, b := range cat.Blobs {
		s.blob(b)
	}
}

func (s *CatalogScan) repository(r *archive.Repository) error {
	if n := len(s.repos); n == 0 || s.repos[n-1].Name != r.Name {
		s.repos = append(s.repos, RepositorySummary{Name: r.Name})
		if s.matches(r.Name) {
			s.sel[r.Name] = true
		}
	}
	last := &s.repos[len(s.repos)-1]
	last.Tags += len(r.Tags)
	last.Manifests += len(r.Manifests)
	if s.listing {
		for _, t := range r.Tags {
			if t.Current != "" {
				if err := s.images.add(len(s.repos)-1, t.Name, t.Current); err != nil {
					return err
				}
			}
		}
	}
	if s.graph && !s.listing && s.sel[r.Name] {
		for _, dg := range r.Layers {
			s.roots.addDigest(dg)
		}
		for _, dg := range r.Manifests {
			s.roots.addDigest(dg)
		}
		for _, t := range r.Tags {
			s.roots.addDigest(t.Current)
			for _, dg := range t.Index {
				s.roots.addDigest(dg)
			}
		}
	}
	return nil
}

func (s *CatalogScan) matches(name string) bool {
	if len(s.globs) == 0 {
		return true
	}
	for _, g := range s.globs {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}

func (s *CatalogScan) manifest(m *archive.Manifest) error {
	if s.nManifests == 0 && s.listing {
		s.images.clip() // the repositories are all read
	}
	s.nManifests++
	if s.graph {
		s.manifests.add(m)
	}
	return nil
}

func (s *CatalogScan) blob(b archive.Blob) error {
	s.blobs++
	s.bytes += b.Size
	if b.Archive == "" {
		s.ownBlobs++
		s.ownBytes += b.Size
	}
	return nil
}

// finish ends the scan, once the catalog is read.
func (s *CatalogScan) finish() {
	if s.done {
		return
	}
	s.done = true
	s.manifests.finish()
	s.roots.finish()
}

// tags is the number of tags of the selected repositories.
func (s *CatalogScan) tags() (tags, manifests int) {
	for _, r := range s.repos {
		if s.sel[r.Name] {
			tags += r.Tags
			manifests += r.Manifests
		}
	}
	return tags, manifests
}

// selected is the set of repositories the globs select, or an error
// naming every repository when they select none.
func (s *CatalogScan) selected() (map[string]bool, error) {
	if len(s.globs) > 0 && len(s.sel) == 0 {
		var names []string
		for _, r := range s.repos {
			names = append(names, r.Name)
		}
		return nil, fmt.Errorf("no repository in the archive matches %s (it holds: %s)",
			strings.Join(s.globs, ", "), strings.Join(names, ", "))
	}
	return s.sel, nil
}

// need is, for a restore of some repositories, the blobs they need: what
// they link to and what those manifests reference, recursively, of the
// blobs the archive plans to hold (ar's catalog). nil when every
// repository is selected: every blob is needed.
func (s *CatalogScan) need(ar *archive.Reader) *digestSet {
	if len(s.globs) == 0 {
		return nil
	}
	s.finish()
	seen := map[[32]byte]struct{}{}
	need := &digestSet{}
	for _, root := range s.roots.sums {
		s.manifests.closure(root, seen, func(d [32]byte) {
			if _, ok := ar.BlobOf(d); ok {
				need.add(d)
			}
		})
	}
	need.finish()
	return need
}
