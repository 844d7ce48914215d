package archive

import (
	"encoding/json"
	"fmt"
	"time"
)

// Formats written by this package. Readers accept only formats they know.
//
// FormatVersion is a full archive: it holds every blob its catalog lists.
// FormatIncremental is an incremental archive: its catalog names Parents and
// says, for each blob it does not hold itself, which parent does
// (Blob.Archive). Full archives keep the first format, so an older
// regbackup still reads them; it refuses incremental ones by their format.
const (
	FormatVersion     = "regbackup/1"
	FormatIncremental = "regbackup/2"
)

// Catalog is the first entry of an archive: what the snapshot saw, before
// any blob was copied. Blobs that vanished or proved corrupt while being
// copied are named in the Trailer; the link entries that follow the blobs
// are the authority on what a restore writes.
type Catalog struct {
	Format      string    `json:"format"`
	ToolVersion string    `json:"tool_version"`
	Source      string    `json:"source"` // location, never with secrets
	Created     time.Time `json:"created"`
	AllBlobs    bool      `json:"all_blobs,omitempty"` // unreferenced blobs were kept too
	// Metadata is MetadataDatabase when the registry keeps its metadata
	// in GitLab's database (Database describes it, the archive holds a dump
	// of it and no link files); "" when storage holds it.
	Metadata string    `json:"metadata,omitempty"`
	Database *Database `json:"database,omitempty"`
	// Parents are the archives an incremental archive needs, nearest
	// first: every archive that holds one of its blobs. Empty for a full
	// archive.
	Parents      []Parent     `json:"parents,omitempty"`
	Repositories []Repository `json:"repositories"`
	Manifests    []Manifest   `json:"manifests"` // every manifest read, sorted by digest
	Blobs        []Blob       `json:"blobs"`     // every blob planned, sorted by digest
	Files        []File       `json:"files,omitempty"`
}

// Repository lists one repository's link files as the snapshot read them.
type Repository struct {
	Name      string   `json:"name"`
	Layers    []string `json:"layers"`    // digests with a _layers link
	Manifests []string `json:"manifests"` // digests with a revisions link
	Tags      []Tag    `json:"tags,omitempty"`
}

// Tag is one tag: where it points now and every digest it pointed to.
type Tag struct {
	Name    string   `json:"name"`
	Current string   `json:"current,omitempty"`
	Index   []string `json:"index,omitempty"`
}

// Manifest is a manifest blob the snapshot parsed.
type Manifest struct {
	Digest     string   `json:"digest"`
	MediaType  string   `json:"media_type"`
	Size       int64    `json:"size"`
	References []string `json:"references,omitempty"` // config, layers, or child manifests
}

// Blob is one blob the archive is meant to hold, or, when Archive is set,
// one that the parent archive of that name holds.
type Blob struct {
	Digest  string `json:"digest"`
	Size    int64  `json:"size"`
	Archive string `json:"archive,omitempty"` // a Parents[].Name; "" = this archive
}

// Parent is an archive an incremental archive needs. Name is its file name
// (no folder) when the incremental was written; CatalogSHA256 identifies it
// whatever it is called now, so a different file under that name is found
// out.
type Parent struct {
	Name          string    `json:"name"`
	CatalogSHA256 string    `json:"catalog_sha256"`
	Created       time.Time `json:"created"`
}

// File is an included file (key material) stored under Entry.
type File struct {
	Path   string `json:"path"`  // original absolute path
	Entry  string `json:"entry"` // archive entry name, under FilesRoot
	Mode   uint32 `json:"mode"`  // permission bits
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	UID    int    `json:"uid"`
	GID    int    `json:"gid"`
}

// Trailer is the last entry: it marks the archive complete and says what
// the writer could not include.
type Trailer struct {
	Complete      bool        `json:"complete"`
	CatalogSHA256 string      `json:"catalog_sha256"`
	Blobs         int         `json:"blobs"`      // blob entries written (including Corrupt ones)
	BlobBytes     int64       `json:"blob_bytes"` // their total size
	Links         int         `json:"links"`
	Files         int         `json:"files"`
	Missing       []Exclusion `json:"missing,omitempty"` // planned blobs never written
	Corrupt       []Exclusion `json:"corrupt,omitempty"` // blob entries whose content is known bad
	DroppedLinks  []string    `json:"dropped_links,omitempty"`
	// Database counts the metadata database dump's parts (see WriteDatabase).
	Database *DumpSummary `json:"database,omitempty"`
}

// Exclusion names a blob the archive does not hold intact, and why.
type Exclusion struct {
	Digest string `json:"digest"`
	Reason string `json:"reason"`
}

func decodeJSON(name string, data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w: %v", name, ErrCorrupt, err)
	}
	return nil
}
