package restore

import (
	"fmt"
	"path"
	"strings"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/internal/spill"
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
	roots     *spill.Sorter       // what the selected repositories link to (filtered only), 32 bytes each
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
			if err := s.addRoot(dg); err != nil {
				return err
			}
		}
		for _, dg := range r.Manifests {
			if err := s.addRoot(dg); err != nil {
				return err
			}
		}
		for _, t := range r.Tags {
			if err := s.addRoot(t.Current); err != nil {
				return err
			}
			for _, dg := range t.Index {
				if err := s.addRoot(dg); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// rootsMemory is how many bytes of a filtered restore's roots are sorted
// in memory at a time, the rest spilled to temp files. A variable so
// tests can make them spill.
var rootsMemory = 16 << 20

// addRoot adds digest d to the roots; one that is not a sha256 digest is
// not added (no blob of an archive can have it).
func (s *CatalogScan) addRoot(d string) error {
	sum, ok := archive.ParseSum(d)
	if !ok {
		return nil
	}
	if s.roots == nil {
		s.roots = spill.NewSorter("", rootsMemory)
	}
	return s.roots.Add(sum[:])
}

// Close removes the temp files of a scan for a restore of some
// repositories (the digests they link to, spilled as they were read);
// restore's need is done with them, but a run that failed before must
// call it. A nil scan, or one without, has nothing to remove.
func (s *CatalogScan) Close() error {
	if s == nil || s.roots == nil {
		return nil
	}
	err := s.roots.Close()
	s.roots = nil
	return err
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
// blobs the archive plans to hold (ar's catalog), marked in ar's plan
// (archive.Reader.Select). nil when every repository is selected: every
// blob is needed. The roots are let go of.
func (s *CatalogScan) need(ar *archive.Reader) (*blobSelection, error) {
	if len(s.globs) == 0 {
		return nil, nil
	}
	s.finish()
	need := &blobSelection{ar: ar}
	if s.roots == nil {
		return need, nil // the selected repositories link to nothing
	}
	defer s.Close()
	roots, err := s.roots.Sort(true)
	if err != nil {
		return nil, err
	}
	g := &s.manifests
	visited := make([]uint64, (g.n+63)/64) // manifests whose references were followed
	var stack [][32]byte
	for roots.Next() {
		stack = append(stack[:0], [32]byte(roots.Record()))
		for len(stack) > 0 {
			d := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if listed, already := ar.Select(d); listed && !already {
				size, _ := ar.SizeOf(d)
				need.count++
				need.bytes += size
			}
			i := g.index(d)
			if i < 0 || visited[i/64]&(1<<(i%64)) != 0 {
				continue
			}
			visited[i/64] |= 1 << (i % 64)
			refs := g.references(g.node(i))
			for j := len(refs) - 1; j >= 0; j-- {
				stack = append(stack, refs[j])
			}
		}
	}
	return need, roots.Err()
}

// blobSelection is the blobs a restore of some repositories needs, marked
// in its archive's plan (see CatalogScan.need): how many, their bytes,
// and whether a blob is one.
type blobSelection struct {
	ar    *archive.Reader
	count int
	bytes int64
}

// has reports whether the blob whose digest's 32 bytes are sum is needed.
func (n *blobSelection) has(sum [32]byte) bool { return n.ar.Selected(sum) }

// hasDigest reports whether blob d is needed.
func (n *blobSelection) hasDigest(d string) bool {
	sum, ok := archive.ParseSum(d)
	return ok && n.has(sum)
}
