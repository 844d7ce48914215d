package archive

import (
	"bytes"
	"fmt"
	"io"
	"iter"
	"slices"
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
	// MediaTypes and Manifests describe the catalog's manifests whose
	// content and references Blobs all hold intact, so that an incremental
	// backup on top of this archive takes what an unchanged manifest
	// references from here instead of reading it from storage again (a GET
	// a tag on an object store; see KnownManifests). Each manifest is
	// [b, t, r...]: Blobs[b] is the manifest, MediaTypes[t] its media type,
	// each Blobs[r] a blob it references, in the manifest's order. Indexes,
	// not digests: some 30 bytes a manifest rather than 300. Sidecars
	// written before regbackup 0.9 have none; the manifests are then read.
	MediaTypes []string  `json:"media_types,omitempty"`
	Manifests  [][]int32 `json:"manifests,omitempty"`

	list BlobList // the blobs, when NewMetaOf made the sidecar or load read them (Blobs is then nil)

	// A sidecar OpenMeta read: how to read it again, and what it counted.
	open               func() (io.ReadCloser, error)
	nblobs, nmanifests int
	unsorted           bool
	loadErr            error
}

// NewMeta describes a complete archive from its catalog and trailer. Its
// Blobs are c.Blobs, shared when the trailer names none missing or
// corrupt (a million tags are some three million blobs: 120 MB a copy).
func NewMeta(name string, c *Catalog, catalogSHA256 string, t *Trailer, encrypted bool, comp Compression) *Meta {
	m := NewMetaOf(name, c, Blobs(c.Blobs), catalogSHA256, t, encrypted, comp)
	if k, ok := m.list.(*keptBlobs); ok {
		m.Blobs = make([]Blob, 0, k.Len())
		m.Blobs = slices.AppendSeq(m.Blobs, EachBlob(k))
	} else if m.Blobs = c.Blobs; m.Blobs == nil {
		m.Blobs = []Blob{}
	}
	m.list = nil
	m.DescribeManifests(func(yield func(*Manifest) bool) {
		for i := range c.Manifests {
			if !yield(&c.Manifests[i]) {
				return
			}
		}
	})
	return m
}

// NewMetaOf is NewMeta for an archive whose catalog listed blobs (c's
// Blobs are not read): the sidecar keeps blobs, or a view of those the
// trailer names neither missing nor corrupt, and makes each blob only
// when it is written (see BlobList). It describes no manifest: see
// DescribeManifests.
func NewMetaOf(name string, c *Catalog, blobs BlobList, catalogSHA256 string, t *Trailer, encrypted bool, comp Compression) *Meta {
	m := &Meta{Format: MetaFormat, Archive: name, Created: c.Created, CatalogSHA256: catalogSHA256,
		Encrypted: encrypted, Compression: comp, Parents: c.Parents, list: blobs}
	if len(t.Missing)+len(t.Corrupt) == 0 {
		return m
	}
	bad := map[string]bool{}
	for _, x := range t.Missing {
		bad[x.Digest] = true
	}
	for _, x := range t.Corrupt {
		bad[x.Digest] = true
	}
	k := &keptBlobs{l: blobs}
	for i := range blobs.Len() {
		if b := blobs.At(i); b.Archive != "" || !bad[b.Digest] {
			k.idx = append(k.idx, int32(i))
		}
	}
	m.list = k
	return m
}

// BlobList is the sidecar's blobs: Blobs, or those NewMetaOf was given,
// or those of a sidecar OpenMeta read, read again now (see Load).
func (m *Meta) BlobList() BlobList {
	if m.open != nil && m.list == nil && m.load() != nil {
		return Blobs(nil)
	}
	if m.list != nil {
		return m.list
	}
	return Blobs(m.Blobs)
}

// Load reads the blob list and manifests of a sidecar OpenMeta read
// (nothing for another), which BlobList and KnownManifests would read
// silently, an error giving an empty list.
func (m *Meta) Load() error { return m.load() }

// DescribeManifests sets MediaTypes and Manifests from manifests (replacing
// what they held): each one whose blob and references m.Blobs (sorted by
// digest) all list. manifests may make each one as it yields it (see
// snapshot.ManifestSet.All): none is kept.
func (m *Meta) DescribeManifests(manifests iter.Seq[*Manifest]) {
	m.MediaTypes, m.Manifests = nil, nil
	blobs := m.BlobList()
	index := func(dg string) (int32, bool) {
		i, ok := SearchBlobs(blobs, dg)
		return int32(i), ok
	}
	types := map[string]int32{}
	row := make([]int32, 0, 16)
	var arena []int32 // the rows, one after the other: a slice each would be a small allocation a manifest
next:
	for x := range manifests {
		row = row[:0]
		b, ok := index(x.Digest)
		if !ok || blobs.At(int(b)).Size != x.Size {
			continue
		}
		t, ok := types[x.MediaType]
		if !ok {
			t = int32(len(m.MediaTypes))
			types[x.MediaType] = t
			m.MediaTypes = append(m.MediaTypes, x.MediaType)
		}
		row = append(row, b, t)
		for _, r := range x.References {
			i, ok := index(r)
			if !ok {
				continue next // a foreign layer, or a blob lost: read the manifest again
			}
			row = append(row, i)
		}
		if cap(arena)-len(arena) < len(row) {
			arena = make([]int32, 0, max(64<<10, len(row)))
		}
		arena = append(arena, row...)
		m.Manifests = append(m.Manifests, arena[len(arena)-len(row):len(arena):len(arena)])
	}
	m.Manifests = slices.Clip(m.Manifests)
}

// KnownManifests are the manifests Manifests describes, by digest, their
// strings those of Blobs and MediaTypes (see Meta.Manifests).
func (m *Meta) KnownManifests() map[string]*Manifest {
	if !m.HasManifests() || m.load() != nil {
		return nil
	}
	blobs := m.BlobList()
	out := make(map[string]*Manifest, len(m.Manifests))
	for _, row := range m.Manifests {
		b := blobs.At(int(row[0]))
		x := &Manifest{Digest: b.Digest, MediaType: m.MediaTypes[row[1]], Size: b.Size, References: make([]string, len(row)-2)}
		for i, r := range row[2:] {
			x.References[i] = blobs.At(int(r)).Digest
		}
		out[x.Digest] = x
	}
	return out
}

// Marshal encodes the sidecar as JSON, one blob per line (see WriteTo).
func (m *Meta) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteTo writes the sidecar's JSON (what Marshal returns) to w, holding
// no more than a few hundred KiB of it: a million tags' sidecar is some
// 300 MB.
func (m *Meta) WriteTo(w io.Writer) (int64, error) { return writeMeta(w, m) }

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
	for _, row := range m.Manifests {
		bad := len(row) < 2 || row[1] < 0 || int(row[1]) >= len(m.MediaTypes)
		for i, x := range row {
			bad = bad || (i != 1 && (x < 0 || int(x) >= len(m.Blobs)))
		}
		if bad {
			return nil, fmt.Errorf("sidecar: bad manifest entry %v: %w", row, ErrCorrupt)
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
