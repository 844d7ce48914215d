package archive

import (
	"fmt"
	"time"
)

// MetaFormat names the sidecar format; MetaSuffix is appended to an
// archive's file name to name its sidecar.
const (
	MetaFormat = "regbackup-meta/1"
	MetaSuffix = ".meta.json"
)

// Meta is an archive's sidecar: a small unencrypted file written beside the
// archive once it is complete. It lets the next incremental backup and
// prune work without reading (or decrypting) the archive. It holds no
// secrets and no names from the registry: times, file names, checksums,
// and the digests and sizes of the blobs the archive and its parents hold.
// It is a convenience, never trusted for a restore: restore and verify
// check the archives themselves, and an incremental records the catalog
// sha256 the sidecar gave, so a sidecar that lies is found out there.
type Meta struct {
	Format        string      `json:"format"`
	Archive       string      `json:"archive"` // file name when written
	Created       time.Time   `json:"created"`
	CatalogSHA256 string      `json:"catalog_sha256"`
	Encrypted     bool        `json:"encrypted,omitempty"`
	Compression   Compression `json:"compression"`
	Size          int64       `json:"size,omitempty"` // the archive file's size, when known
	Parents       []Parent    `json:"parents,omitempty"`
	// Blobs are the blobs a restore of this archive gets intact, from it
	// (Archive "") or from a parent; blobs the trailer names missing or
	// corrupt are left out.
	Blobs []Blob `json:"blobs"`
	// Manifests are the manifests of the archive's catalog that Blobs
	// holds intact, with what each references, sorted by digest: an
	// incremental backup on top of this archive takes what an unchanged
	// manifest references from here instead of reading the manifest from
	// storage again (one GET a tag on an object store). Sidecars written
	// before regbackup 0.9 have none; the manifests are then read.
	Manifests []Manifest `json:"manifests,omitempty"`
}

// NewMeta describes a complete archive from its catalog and trailer.
func NewMeta(name string, c *Catalog, catalogSHA256 string, t *Trailer, encrypted bool, comp Compression) *Meta {
	bad := map[string]bool{}
	for _, x := range t.Missing {
		bad[x.Digest] = true
	}
	for _, x := range t.Corrupt {
		bad[x.Digest] = true
	}
	m := &Meta{Format: MetaFormat, Archive: name, Created: c.Created, CatalogSHA256: catalogSHA256,
		Encrypted: encrypted, Compression: comp, Parents: c.Parents, Blobs: []Blob{}}
	for _, b := range c.Blobs {
		if b.Archive == "" && bad[b.Digest] {
			continue
		}
		m.Blobs = append(m.Blobs, b)
	}
	for _, x := range c.Manifests {
		if !bad[x.Digest] {
			m.Manifests = append(m.Manifests, x)
		}
	}
	return m
}

// Marshal encodes the sidecar as JSON, one blob per line (see appendMeta).
func (m *Meta) Marshal() ([]byte, error) { return appendMeta(make([]byte, 0, 64<<10), m) }

// ParseMeta decodes and checks a sidecar.
func ParseMeta(data []byte) (*Meta, error) {
	var m Meta
	if err := decodeJSON("sidecar", data, &m); err != nil {
		return nil, err
	}
	if m.Format != MetaFormat {
		return nil, fmt.Errorf("sidecar format %q is not %q: %w", m.Format, MetaFormat, ErrCorrupt)
	}
	if !ValidArchiveName(m.Archive) || !ValidDigest("sha256:"+m.CatalogSHA256) {
		return nil, fmt.Errorf("sidecar: bad archive name or catalog checksum: %w", ErrCorrupt)
	}
	c := Catalog{Format: FormatVersion, Parents: m.Parents, Blobs: m.Blobs}
	if len(m.Parents) > 0 {
		c.Format = FormatIncremental
	}
	for _, b := range m.Blobs {
		if !ValidDigest(b.Digest) || b.Size < 0 {
			return nil, fmt.Errorf("sidecar: bad blob %q: %w", b.Digest, ErrCorrupt)
		}
	}
	for _, x := range m.Manifests {
		if !ValidDigest(x.Digest) || x.Size < 0 {
			return nil, fmt.Errorf("sidecar: bad manifest %q: %w", x.Digest, ErrCorrupt)
		}
	}
	if err := c.checkParents(); err != nil {
		return nil, fmt.Errorf("sidecar: %w", err)
	}
	return &m, nil
}

// Holder is the file name of the archive that holds blob b: b.Archive, or
// the sidecar's own archive.
func (m *Meta) Holder(b Blob) string {
	if b.Archive != "" {
		return b.Archive
	}
	return m.Archive
}
