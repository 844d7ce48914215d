package restore

import (
	"io"
	"sort"

	"github.com/regbackup/regbackup/archive"
)

// Image is one tag in an archive, as List reports it.
type Image struct {
	Repository string `json:"repository"`
	Tag        string `json:"tag"`
	Digest     string `json:"digest"`
	MediaType  string `json:"media_type"`
	Size       int64  `json:"size"` // manifest plus every distinct blob it references, children included
}

// Listing is what an archive holds, from its catalog.
type Listing struct {
	Catalog *archive.Catalog `json:"-"`
	Source  string           `json:"source"`
	Created string           `json:"created"`
	Images  []Image          `json:"images"`
	// Repositories counts each repository's tags and manifests, so
	// repositories without tags show too.
	Repositories []RepositorySummary `json:"repositories"`
	Blobs        int                 `json:"blobs"`
	BlobBytes    int64               `json:"blob_bytes"`
	Files        []string            `json:"files,omitempty"`
	// An incremental archive: the parents it needs, and the blobs it holds
	// itself (the rest are in the parents).
	Parents      []archive.Parent `json:"parents,omitempty"`
	OwnBlobs     int              `json:"own_blobs"`
	OwnBlobBytes int64            `json:"own_blob_bytes"`
	// Metadata is "database" for an archive of GitLab's registry with its
	// metadata database, which Database describes (the archive holds its
	// dump); empty when the metadata was in storage.
	Metadata string            `json:"metadata,omitempty"`
	Database *archive.Database `json:"database,omitempty"`
}

// RepositorySummary is one repository in a Listing.
type RepositorySummary struct {
	Name      string `json:"name"`
	Tags      int    `json:"tags"`
	Manifests int    `json:"manifests"`
}

// List reads an archive's catalog, and only that: it is fast whatever the
// archive's size, and it does not verify the data (use Verify).
func List(in io.Reader) (*Listing, error) {
	scan := NewListScan()
	ar, err := archive.NewReaderOptions(in, archive.ReaderOptions{Visitor: scan.Visitor()})
	if err != nil {
		return nil, err
	}
	defer ar.Close()
	return ListScan(ar, scan), nil
}

// NewListScan starts the scan of a catalog for ListScan: it keeps every
// tag (what a listing prints) and, compactly, every manifest (for the
// images' sizes and media types), not the rest.
func NewListScan() *CatalogScan { return newListScan() }

// ListScan is List of an archive whose catalog the caller has read with
// scan's Visitor (NewListScan). Listing.Catalog is then the catalog
// without its lists.
func ListScan(ar *archive.Reader, scan *CatalogScan) *Listing {
	return listScan(ar.Catalog(), scan, func(sum [32]byte) int64 {
		b, _ := ar.BlobOf(sum)
		return b.Size
	})
}

// ListCatalog is List of a catalog held whole.
func ListCatalog(cat *archive.Catalog) *Listing {
	scan := NewListScan()
	scan.replay(cat)
	sizes := make(map[[32]byte]int64, len(cat.Blobs))
	for _, b := range cat.Blobs {
		if sum, ok := archive.ParseSum(b.Digest); ok {
			sizes[sum] = b.Size
		}
	}
	return listScan(cat, scan, func(sum [32]byte) int64 { return sizes[sum] })
}

// listScan makes the Listing of a scanned catalog; sizeOf is the size of a
// blob of the catalog (0 for one it does not list).
func listScan(cat *archive.Catalog, scan *CatalogScan, sizeOf func([32]byte) int64) *Listing {
	scan.finish()
	l := &Listing{Catalog: cat, Source: cat.Source, Created: cat.Created.Format("2006-01-02T15:04:05Z07:00"),
		Blobs: scan.blobs, BlobBytes: scan.bytes, OwnBlobs: scan.ownBlobs, OwnBlobBytes: scan.ownBytes,
		Parents: cat.Parents, Metadata: cat.Metadata, Database: cat.Database,
		Repositories: scan.repos, Images: scan.images}
	g := &scan.manifests
	seen := map[[32]byte]struct{}{}
	for i := range l.Images {
		im := &l.Images[i]
		sum, ok := archive.ParseSum(im.Digest)
		if !ok {
			continue // names no manifest or blob: no media type, size 0
		}
		if m := g.find(sum); m != nil {
			im.MediaType = g.mediaTypeOf(m)
		}
		// The manifest plus every distinct blob it references, children
		// included.
		clear(seen)
		g.closure(sum, seen, func(d [32]byte) { im.Size += sizeOf(d) })
	}
	sort.Slice(l.Images, func(i, j int) bool {
		if l.Images[i].Repository != l.Images[j].Repository {
			return l.Images[i].Repository < l.Images[j].Repository
		}
		return l.Images[i].Tag < l.Images[j].Tag
	})
	for _, f := range cat.Files {
		l.Files = append(l.Files, f.Path)
	}
	return l
}
