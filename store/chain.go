package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
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

// ParentFinder locates the parents of an incremental archive: archives
// given explicitly (--parent) are matched by their catalog checksum
// whatever their name; otherwise a parent is looked for by its name in
// Store, the incremental's own folder (a local folder or an object store
// prefix), and then among the sidecars there (a renamed parent).
type ParentFinder struct {
	Store      ArchiveStore // the incremental's folder; nil when it came from stdin
	Files      []ArchiveRef // --parent archives
	Identities []age.Identity
	Child      string // the incremental's name, for messages

	bySum map[string]ArchiveRef // catalog sha256 -> archive, of Files
}

// Locate returns the archive that holds parent p, checked by its catalog
// checksum. Errors wrap ErrParentMissing or ErrParentMismatch and name the
// parent; an encrypted parent without an identity fails with
// archive.ErrEncrypted.
func (f *ParentFinder) Locate(ctx context.Context, p archive.Parent) (ArchiveRef, error) {
	if f.bySum == nil {
		f.bySum = map[string]ArchiveRef{}
		for _, file := range f.Files {
			sum, err := catalogSum(ctx, file, f.Identities)
			if err != nil {
				return ArchiveRef{}, fmt.Errorf("--parent %s: %w", file, err)
			}
			f.bySum[sum] = file
		}
	}
	if ref, ok := f.bySum[p.CatalogSHA256]; ok {
		return ref, nil
	}
	if f.Store == nil {
		return ArchiveRef{}, fmt.Errorf("parent archive %s of %s is needed (catalog sha256 %s): pass it with --parent FILE: %w",
			p.Name, f.childName(), short(p.CatalogSHA256), ErrParentMissing)
	}
	ref := ArchiveRef{Store: f.Store, Name: p.Name}
	sum, err := f.sumOf(ctx, ref)
	switch {
	case err == nil && sum == p.CatalogSHA256:
		return ref, nil
	case err == nil:
		if other, ok := f.renamed(ctx, p); ok {
			return other, nil
		}
		return ArchiveRef{}, fmt.Errorf("%s is not the parent archive %s was made on (its catalog sha256 is %s, %s needs %s): "+
			"find the right one and pass it with --parent FILE: %w",
			ref, f.childName(), short(sum), f.childName(), short(p.CatalogSHA256), ErrParentMismatch)
	case errors.Is(err, os.ErrNotExist):
		if other, ok := f.renamed(ctx, p); ok {
			return other, nil
		}
		return ArchiveRef{}, fmt.Errorf("parent archive %s of %s is missing (catalog sha256 %s): put it beside %s or pass it with --parent FILE: %w",
			ref, f.childName(), short(p.CatalogSHA256), f.childName(), ErrParentMissing)
	}
	return ArchiveRef{}, fmt.Errorf("parent archive %s: %w", ref, err)
}

// sumOf is the catalog checksum of an archive: from its sidecar when that
// describes the archive as it is, else from its catalog.
func (f *ParentFinder) sumOf(ctx context.Context, ref ArchiveRef) (string, error) {
	if m, err := readSidecarHead(ctx, ref); err == nil {
		return m.CatalogSHA256, nil
	}
	return catalogSum(ctx, ref, f.Identities)
}

// renamed looks for p among the sidecars in Store: a parent renamed
// together with its sidecar.
func (f *ParentFinder) renamed(ctx context.Context, p archive.Parent) (ArchiveRef, bool) {
	list, _ := f.Store.List(ctx)
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	for _, fi := range list {
		name, ok := strings.CutSuffix(fi.Name, archive.MetaSuffix)
		if !ok || strings.HasPrefix(name, ".") {
			continue
		}
		ref := ArchiveRef{Store: f.Store, Name: name}
		if m, err := readSidecarHead(ctx, ref); err == nil && m.CatalogSHA256 == p.CatalogSHA256 {
			return ref, true
		}
	}
	return ArchiveRef{}, false
}

func (f *ParentFinder) childName() string {
	if f.Child == "" {
		return "the incremental archive"
	}
	return f.Child
}

// LocateAll locates every parent of cat, so that a missing one fails
// before anything is read or written.
func (f *ParentFinder) LocateAll(ctx context.Context, cat *archive.Catalog) (map[string]ArchiveRef, error) {
	refs := map[string]ArchiveRef{}
	for _, p := range cat.Parents {
		ref, err := f.Locate(ctx, p)
		if err != nil {
			return nil, err
		}
		refs[p.Name] = ref
	}
	return refs, nil
}

// Opener opens parents at the archives LocateAll found.
func Opener(ctx context.Context, refs map[string]ArchiveRef) ParentOpener {
	return func(p archive.Parent) (io.ReadCloser, error) {
		ref, ok := refs[p.Name]
		if !ok {
			return nil, fmt.Errorf("parent archive %s: not located: %w", p.Name, ErrParentMissing)
		}
		return ref.Open(ctx)
	}
}

// catalogSum reads an archive's catalog and returns its checksum.
func catalogSum(ctx context.Context, ref ArchiveRef, ids []age.Identity) (string, error) {
	f, err := ref.Open(ctx)
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
