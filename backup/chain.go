package backup

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"

	"github.com/regbackup/regbackup/archive"
)

// Sentinels for incremental archives whose parents cannot be used.
var (
	// ErrParentMissing: a parent archive an incremental needs is neither
	// beside it nor given with --parent.
	ErrParentMissing = errors.New("parent archive missing")
	// ErrParentMismatch: a file found under a parent's name is not the
	// archive the incremental was made on (its catalog checksum differs):
	// replaced, or another backup under the same name.
	ErrParentMismatch = errors.New("parent archive does not match")
)

// ParentOpener opens the file holding parent p for reading; the caller of
// the opener closes it. The core checks that its catalog is p's.
type ParentOpener func(p archive.Parent) (io.ReadCloser, error)

// ParentFinder locates the parents of an incremental archive: files given
// explicitly (--parent) are matched by their catalog checksum whatever
// their name; otherwise a parent is looked for by its name in Dir, the
// incremental's own folder, and then among the sidecars there (a renamed
// parent).
type ParentFinder struct {
	Dir        string   // the incremental's folder; "" when it came from stdin
	Files      []string // --parent files
	Identities []age.Identity
	Child      string // the incremental's name, for messages

	bySum map[string]string // catalog sha256 -> path, of Files
}

// Locate returns the path of the file that holds parent p, checked by its
// catalog checksum. Errors wrap ErrParentMissing or ErrParentMismatch and
// name the parent; an encrypted parent without an identity fails with
// archive.ErrEncrypted.
func (f *ParentFinder) Locate(p archive.Parent) (string, error) {
	if f.bySum == nil {
		f.bySum = map[string]string{}
		for _, file := range f.Files {
			sum, err := catalogSum(file, f.Identities)
			if err != nil {
				return "", fmt.Errorf("--parent %s: %w", file, err)
			}
			f.bySum[sum] = file
		}
	}
	if path, ok := f.bySum[p.CatalogSHA256]; ok {
		return path, nil
	}
	if f.Dir == "" {
		return "", fmt.Errorf("parent archive %s of %s is needed (catalog sha256 %s): pass it with --parent FILE: %w",
			p.Name, f.childName(), short(p.CatalogSHA256), ErrParentMissing)
	}
	path := filepath.Join(f.Dir, p.Name)
	sum, err := f.sumOf(path)
	switch {
	case err == nil && sum == p.CatalogSHA256:
		return path, nil
	case err == nil:
		if other := f.renamed(p); other != "" {
			return other, nil
		}
		return "", fmt.Errorf("%s is not the parent archive %s was made on (its catalog sha256 is %s, %s needs %s): "+
			"find the right one and pass it with --parent FILE: %w",
			path, f.childName(), short(sum), f.childName(), short(p.CatalogSHA256), ErrParentMismatch)
	case errors.Is(err, os.ErrNotExist):
		if other := f.renamed(p); other != "" {
			return other, nil
		}
		return "", fmt.Errorf("parent archive %s of %s is missing (catalog sha256 %s): put it beside %s or pass it with --parent FILE: %w",
			path, f.childName(), short(p.CatalogSHA256), f.childName(), ErrParentMissing)
	}
	return "", fmt.Errorf("parent archive %s: %w", path, err)
}

// sumOf is the catalog checksum of an archive file: from its sidecar when
// that describes the file as it is, else from its catalog.
func (f *ParentFinder) sumOf(path string) (string, error) {
	if m, err := readSidecarHead(path); err == nil {
		return m.CatalogSHA256, nil
	}
	return catalogSum(path, f.Identities)
}

// renamed looks for p among the sidecars in Dir: a parent renamed together
// with its sidecar.
func (f *ParentFinder) renamed(p archive.Parent) string {
	metas, _ := filepath.Glob(filepath.Join(f.Dir, "*"+archive.MetaSuffix))
	for _, mp := range metas {
		path := strings.TrimSuffix(mp, archive.MetaSuffix)
		if m, err := readSidecarHead(path); err == nil && m.CatalogSHA256 == p.CatalogSHA256 {
			return path
		}
	}
	return ""
}

func (f *ParentFinder) childName() string {
	if f.Child == "" {
		return "the incremental archive"
	}
	return f.Child
}

// LocateAll locates every parent of cat, so that a missing one fails
// before anything is read or written.
func (f *ParentFinder) LocateAll(cat *archive.Catalog) (map[string]string, error) {
	paths := map[string]string{}
	for _, p := range cat.Parents {
		path, err := f.Locate(p)
		if err != nil {
			return nil, err
		}
		paths[p.Name] = path
	}
	return paths, nil
}

// Opener opens parents at the paths LocateAll found.
func Opener(paths map[string]string) ParentOpener {
	return func(p archive.Parent) (io.ReadCloser, error) {
		path, ok := paths[p.Name]
		if !ok {
			return nil, fmt.Errorf("parent archive %s: not located: %w", p.Name, ErrParentMissing)
		}
		return os.Open(path)
	}
}

// catalogSum reads an archive's catalog and returns its checksum.
func catalogSum(path string, ids []age.Identity) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	ar, err := archive.NewReaderOptions(f, archive.ReaderOptions{Identities: ids})
	if err != nil {
		return "", err
	}
	defer ar.Close()
	return ar.CatalogSHA256(), nil
}

// openParent opens parent p with open and checks that it is the archive
// the incremental names.
func openParent(open ParentOpener, p archive.Parent, ids []age.Identity) (*archive.Reader, func(), error) {
	if open == nil {
		return nil, nil, fmt.Errorf("parent archive %s is needed but no way to find it was given: %w", p.Name, ErrParentMissing)
	}
	rc, err := open(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("parent archive %s: %w (%v)", p.Name, ErrParentMissing, err)
		}
		return nil, nil, fmt.Errorf("parent archive %s: %w", p.Name, err)
	}
	ar, err := archive.NewReaderOptions(rc, archive.ReaderOptions{Identities: ids})
	if err != nil {
		rc.Close()
		return nil, nil, fmt.Errorf("parent archive %s: %w", p.Name, err)
	}
	if ar.CatalogSHA256() != p.CatalogSHA256 {
		ar.Close()
		rc.Close()
		return nil, nil, fmt.Errorf("parent archive %s: catalog sha256 is %s, the incremental needs %s: %w",
			p.Name, short(ar.CatalogSHA256()), short(p.CatalogSHA256), ErrParentMismatch)
	}
	return ar, func() { ar.Close(); rc.Close() }, nil
}

// readParent streams a parent archive to its end (every digest and its
// trailer checked), handing each blob entry in want to use, and then
// checks that every blob in want was there intact. Errors reading the
// archive start with prefix.
func readParent(ar *archive.Reader, prefix string, want map[string]bool, use func(*archive.Entry) error, stop func() error) error {
	for {
		if err := stop(); err != nil {
			return err
		}
		e, err := ar.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", prefix, err)
		}
		if e.Path.Kind == archive.KindBlob && want[e.Path.Digest] {
			if err := use(e); err != nil {
				return err
			}
		}
	}
	for d := range want {
		if !ar.Held(d) {
			return fmt.Errorf("%s: it does not hold blob %s intact, which the incremental needs: %w",
				prefix, d, archive.ErrCorrupt)
		}
	}
	return nil
}

// parentBlobs groups the blobs of cat that a parent holds, by parent,
// keeping only those need selects (nil: all).
func parentBlobs(cat *archive.Catalog, need map[string]bool) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, b := range cat.Blobs {
		if b.Archive == "" || (need != nil && !need[b.Digest]) {
			continue
		}
		if out[b.Archive] == nil {
			out[b.Archive] = map[string]bool{}
		}
		out[b.Archive][b.Digest] = true
	}
	return out
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12] + "..."
	}
	return sum
}
