package restore

import (
	"io"

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
	// Images are the tags, sorted by repository and tag, as List and
	// ListCatalog give them. ListScan, for archives of any size, leaves
	// it nil and keeps them compactly instead: EachImage and WriteJSON
	// serve either.
	Images []Image `json:"images"`
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

	table *imageTable // the images, when Images is nil (ListScan)
	types []string    // media types, which table's rows index
}

// RepositorySummary is one repository in a Listing.
type RepositorySummary struct {
	Name      string `json:"name"`
	Tags      int    `json:"tags"`
	Manifests int    `json:"manifests"`
}

// List reads an archive's catalog, and only that: it is fast whatever the
// archive's size, and it does not verify the data (use Verify). Its
// Images hold every tag: for an archive of millions use ListScan, which
// keeps them compactly.
func List(in io.Reader) (*Listing, error) {
	scan := NewListScan()
	ar, err := archive.NewReaderOptions(in, archive.ReaderOptions{Visitor: scan.Visitor()})
	if err != nil {
		return nil, err
	}
	defer ar.Close()
	l := ListScan(ar, scan)
	l.materialize()
	return l, nil
}

// NewListScan starts the scan of a catalog for ListScan: it keeps every
// tag (what a listing prints) and, compactly, every manifest (for the
// images' sizes and media types), not the rest.
func NewListScan() *CatalogScan { return newListScan() }

// ListScan is List of an archive whose catalog the caller has read with
// scan's Visitor (NewListScan). Listing.Catalog is then the catalog
// without its lists, and Listing.Images nil: the images are kept
// compactly, some 60 bytes a tag, for EachImage and WriteJSON.
func ListScan(ar *archive.Reader, scan *CatalogScan) *Listing {
	return listScan(ar.Catalog(), scan, func(sum [32]byte) int64 {
		size, _ := ar.SizeOf(sum)
		return size
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
	l := listScan(cat, scan, func(sum [32]byte) int64 { return sizes[sum] })
	l.materialize()
	return l
}

// listScan makes the Listing of a scanned catalog; sizeOf is the size of a
// blob of the catalog (0 for one it does not list). The scan's manifests
// are let go of.
func listScan(cat *archive.Catalog, scan *CatalogScan, sizeOf func([32]byte) int64) *Listing {
	scan.finish()
	l := &Listing{Catalog: cat, Source: cat.Source, Created: cat.Created.Format("2006-01-02T15:04:05Z07:00"),
		Blobs: scan.blobs, BlobBytes: scan.bytes, OwnBlobs: scan.ownBlobs, OwnBlobBytes: scan.ownBytes,
		Parents: cat.Parents, Metadata: cat.Metadata, Database: cat.Database,
		Repositories: scan.repos}
	g := &scan.manifests
	t := &scan.images
	seen := map[[32]byte]struct{}{}
	for i := range t.rows {
		r := &t.rows[i]
		sum, ok := t.sumOf(r)
		if !ok {
			continue // names no manifest or blob: no media type, size 0
		}
		if m := g.find(sum); m != nil {
			r.mediaType = m.mediaType + 1
		}
		// The manifest plus every distinct blob it references, children
		// included.
		clear(seen)
		g.closure(sum, seen, func(d [32]byte) { r.size += sizeOf(d) })
	}
	t.sort(l.Repositories)
	table := scan.images
	l.table, l.types = &table, g.types
	scan.images, scan.manifests = imageTable{}, manifestGraph{}
	for _, f := range cat.Files {
		l.Files = append(l.Files, f.Path)
	}
	return l
}

// EachImage calls fn with every image, sorted by repository and tag,
// until fn returns an error, which EachImage returns.
func (l *Listing) EachImage(fn func(Image) error) error {
	if l.table == nil {
		for _, im := range l.Images {
			if err := fn(im); err != nil {
				return err
			}
		}
		return nil
	}
	t := l.table
	for i := range t.rows {
		r := &t.rows[i]
		im := Image{Repository: l.Repositories[r.repo].Name, Tag: t.name(r), Digest: t.digest(r), Size: r.size}
		if mt := r.mediaType &^ rowOdd; mt > 0 {
			im.MediaType = l.types[mt-1]
		}
		if err := fn(im); err != nil {
			return err
		}
	}
	return nil
}

// ImageCount is the number of images.
func (l *Listing) ImageCount() int {
	if l.table == nil {
		return len(l.Images)
	}
	return len(l.table.rows)
}

// materialize makes Images of the compact table.
func (l *Listing) materialize() {
	if l.table == nil {
		return
	}
	var images []Image // nil when there are none, as before
	l.EachImage(func(im Image) error {
		images = append(images, im)
		return nil
	})
	l.Images, l.table, l.types = images, nil, nil
}
