package store

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
// checksum. Errors wrap archive.ErrParentMissing or archive.ErrParentMismatch and name the
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
			p.Name, f.childName(), archive.ShortSum(p.CatalogSHA256), archive.ErrParentMissing)
	}
	ref := ArchiveRef{Store: f.Store, Name: p.Name}
	sum, err := f.sumOf(ctx, ref)
	switch {
	case err == nil && sum == p.CatalogSHA256:
		return ref, nil
	case err == nil:
		if other, ok, err := f.renamed(ctx, p); err != nil || ok {
			return other, err
		}
		return ArchiveRef{}, fmt.Errorf("%s is not the parent archive %s was made on (its catalog sha256 is %s, %s needs %s): "+
			"find the right one and pass it with --parent FILE: %w",
			ref, f.childName(), archive.ShortSum(sum), f.childName(), archive.ShortSum(p.CatalogSHA256), archive.ErrParentMismatch)
	case errors.Is(err, os.ErrNotExist):
		if other, ok, err := f.renamed(ctx, p); err != nil || ok {
			return other, err
		}
		return ArchiveRef{}, fmt.Errorf("parent archive %s of %s is missing (catalog sha256 %s): put it beside %s or pass it with --parent FILE: %w",
			ref, f.childName(), archive.ShortSum(p.CatalogSHA256), f.childName(), archive.ErrParentMissing)
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
// together with its sidecar. A failed listing is an error, not "not
// found": a network failure must not read as a missing parent.
func (f *ParentFinder) renamed(ctx context.Context, p archive.Parent) (ArchiveRef, bool, error) {
	list, err := f.Store.List(ctx)
	if err != nil {
		return ArchiveRef{}, false, fmt.Errorf("looking for parent archive %s among the archives of %s: %w", p.Name, f.Store, err)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	for _, fi := range list {
		name, ok := strings.CutSuffix(fi.Name, archive.MetaSuffix)
		if !ok || strings.HasPrefix(name, ".") {
			continue
		}
		ref := ArchiveRef{Store: f.Store, Name: name}
		if m, err := readSidecarHead(ctx, ref); err == nil && m.CatalogSHA256 == p.CatalogSHA256 {
			return ref, true, nil
		}
	}
	return ArchiveRef{}, false, nil
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

// Opener opens parents at the archives LocateAll found: the function
// restore.Options.Parents and restore.VerifyOptions.Parents take.
func Opener(ctx context.Context, refs map[string]ArchiveRef) func(archive.Parent) (io.ReadCloser, error) {
	return func(p archive.Parent) (io.ReadCloser, error) {
		ref, ok := refs[p.Name]
		if !ok {
			return nil, fmt.Errorf("parent archive %s: not located: %w", p.Name, archive.ErrParentMissing)
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
	// Only its checksum is wanted: the lists are not kept.
	ar, err := archive.NewReaderOptions(f, archive.ReaderOptions{Identities: ids, Visitor: &archive.CatalogVisitor{}})
	if err != nil {
		return "", err
	}
	defer ar.Close()
	return ar.CatalogSHA256(), nil
}
