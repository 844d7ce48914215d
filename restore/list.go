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
	ar, err := archive.NewReader(in)
	if err != nil {
		return nil, err
	}
	defer ar.Close()
	return ListCatalog(ar.Catalog()), nil
}

// ListCatalog is List of a catalog already read.
func ListCatalog(cat *archive.Catalog) *Listing { return listCatalog(cat) }

func listCatalog(cat *archive.Catalog) *Listing {
	l := &Listing{Catalog: cat, Source: cat.Source, Created: cat.Created.Format("2006-01-02T15:04:05Z07:00"),
		Blobs: len(cat.Blobs), Parents: cat.Parents}
	sizes := map[string]int64{}
	for _, b := range cat.Blobs {
		sizes[b.Digest] = b.Size
		l.BlobBytes += b.Size
		if b.Archive == "" {
			l.OwnBlobs++
			l.OwnBlobBytes += b.Size
		}
	}
	manifests := map[string]archive.Manifest{}
	for _, m := range cat.Manifests {
		manifests[m.Digest] = m
	}
	imageSize := func(dg string) int64 {
		seen := map[string]bool{}
		var total int64
		var walk func(string)
		walk = func(d string) {
			if seen[d] {
				return
			}
			seen[d] = true
			total += sizes[d]
			for _, r := range manifests[d].References {
				walk(r)
			}
		}
		walk(dg)
		return total
	}
	for _, r := range cat.Repositories {
		l.Repositories = append(l.Repositories, RepositorySummary{Name: r.Name, Tags: len(r.Tags), Manifests: len(r.Manifests)})
		for _, t := range r.Tags {
			if t.Current == "" {
				continue
			}
			l.Images = append(l.Images, Image{Repository: r.Name, Tag: t.Name, Digest: t.Current,
				MediaType: manifests[t.Current].MediaType, Size: imageSize(t.Current)})
		}
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
