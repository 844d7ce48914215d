package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"time"
)

// The catalog in parts (format regbackup/3).
//
// A tar entry's size comes before its content, so a catalog written as one
// entry must be whole in memory first: a million tags made a catalog of
// about a gigabyte, and the reader refused one over 1 GiB. So:
//
//   - A catalog of up to PartSize bytes is written as before: one document,
//     .regbackup/catalog.json, format regbackup/1 (full) or /2
//     (incremental), readable by every regbackup.
//   - A bigger one is written as format regbackup/3: .regbackup/catalog.json
//     is then a head document holding every member but the three long lists
//     (format, tool_version, source, created, all_blobs, parents, files),
//     followed by part entries .regbackup/catalog/000001,
//     .regbackup/catalog/000002, ..., each at most PartSize bytes, which
//     cut one body document {"repositories":[...],"manifests":[...],
//     "blobs":[...]} at arbitrary byte offsets. Their concatenation is
//     that document, one element per line as in the older formats. A
//     repository with many links is split over consecutive elements of the
//     same name, none holding more than pieceItems digests and tags; readers
//     join them.
//   - The catalog's sha256 (the trailer's, the sidecar's and what an
//     incremental records of its parent) is the sha256 of the catalog
//     entries' contents in order: catalog.json, then every part.
//
// An older regbackup refuses a regbackup/3 archive by its format; this one
// reads all three. Readers decode the lists as a stream in either form (see
// catalog_reader.go), so neither has a size limit: writer and reader agree
// that a catalog of any size is valid.

// FormatChunked is an archive whose catalog is a head and parts (see
// above), full or incremental: Parents says which.
const FormatChunked = "regbackup/3"

// PartSize is the most a catalog entry holds, and so the most a Writer
// buffers of a catalog: a catalog that fits is one entry in the older
// formats. Readers take parts of up to maxPartSize. A variable so tests can
// make parts small.
var PartSize = 16 << 20

// pieceItems is the most digests and tags one repository element of a
// regbackup/3 catalog holds.
const pieceItems = 4096

// PartPrefix starts the names of the parts of a regbackup/3 catalog.
const PartPrefix = MetaRoot + "catalog/"

// partName is the entry name of part n (from 1).
func partName(n int) string { return fmt.Sprintf("%s%06d", PartPrefix, n) }

// CatalogWriter streams a catalog into a Writer (see Writer.BeginCatalog).
// Call Repository for every repository, then Manifest for every manifest,
// then Blob for every blob, then Close; each list in order (of name, of
// digest), as readers that stream the lists expect, though only a blob's
// digest and size are checked here, as readers check them. It holds at most about PartSize bytes however long
// the lists are. Not safe for concurrent use.
type CatalogWriter struct {
	w       *Writer
	head    Catalog // without lists; Format set at the end
	buf     []byte  // body bytes not yet written
	chunked bool    // the head and some parts are written
	parts   int
	sum     hash.Hash
	section int // 0 none yet, 1 repositories, 2 manifests, 3 blobs, 4 closed
	count   int // elements in the current section
	pending *Repository
	pendN   int             // items in pending
	used    map[string]bool // parent names -> holds a blob
	counts  CatalogCounts
}

// CatalogCounts is how many of each element a catalog listed (repository
// names, not the pieces a big one is split into).
type CatalogCounts struct {
	Repositories, Tags, Manifests, Blobs int
}

// BeginCatalog starts the catalog entry; it must come first. head gives
// every member but the lists (Repositories, Manifests and Blobs are
// ignored): Parents and Files are known before the lists are. head.Format
// is set when the catalog is closed.
func (w *Writer) BeginCatalog(head *Catalog) (*CatalogWriter, error) {
	if w.stage != stageStart {
		return nil, fmt.Errorf("archive: catalog written twice")
	}
	w.stage = stageCatalog
	w.mtime = head.Created.Truncate(time.Second)
	if fastLinks {
		// Every link holds a digest WriteLink checked: "sha256:" and 64 hex.
		w.links = newLinkEntries(w.tarHeader("", int64(len("sha256:")+64), 0o644))
	}
	if (head.Metadata == MetadataDatabase) != (head.Database != nil) || (head.Metadata != "" && head.Metadata != MetadataDatabase) {
		return nil, fmt.Errorf("archive: catalog metadata %q with database %v", head.Metadata, head.Database != nil)
	}
	w.hasDB = head.Database != nil
	cw := &CatalogWriter{w: w, head: *head, sum: sha256.New(), used: map[string]bool{}}
	cw.head.Repositories, cw.head.Manifests, cw.head.Blobs = nil, nil, nil
	cw.head.Format = formatFor(false, len(head.Parents) > 0)
	if err := cw.head.checkParentNames(); err != nil { // their use is checked at Close
		return nil, fmt.Errorf("archive: %w", err)
	}
	for i := range head.Files {
		if err := head.Files[i].check(); err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
	}
	if PartSize <= 0 || PartSize > maxPartSize {
		return nil, fmt.Errorf("archive: PartSize %d is not in 1..%d", PartSize, maxPartSize)
	}
	for _, p := range head.Parents {
		cw.used[p.Name] = false
	}
	if _, err := appendCatalogHead(nil, &cw.head); err != nil {
		return nil, fmt.Errorf("archive: catalog: %w", err)
	}
	cw.buf = make([]byte, 0, 64<<10)
	w.catalog = cw
	return cw, nil
}

func formatFor(chunked, incremental bool) string {
	switch {
	case chunked:
		return FormatChunked
	case incremental:
		return FormatIncremental
	}
	return FormatVersion
}

// Counts says how many elements were written so far.
func (cw *CatalogWriter) Counts() CatalogCounts { return cw.counts }

// enter moves to section s (1 repositories, 2 manifests, 3 blobs), opening
// the lists before it.
func (cw *CatalogWriter) enter(s int, what string) error {
	if s < cw.section {
		return fmt.Errorf("archive: catalog %s out of order", what)
	}
	for cw.section < s {
		if err := cw.flushPending(); err != nil {
			return err
		}
		if cw.section > 0 {
			cw.buf = append(cw.buf, ']')
		}
		cw.section++
		cw.count = 0
		name := [...]string{1: `"repositories":[`, 2: `,"manifests":[`, 3: `,"blobs":[`}[cw.section]
		cw.buf = append(cw.buf, name...)
	}
	return nil
}

// element appends one list element made by add.
func (cw *CatalogWriter) element(add func([]byte) []byte) error {
	if cw.count > 0 {
		cw.buf = append(cw.buf, ',')
	}
	if len(cw.buf) > PartSize/2 && cap(cw.buf) < PartSize+PartSize/8 {
		// Room for a part and the element that ends it: appending would
		// double the buffer to twice PartSize.
		cw.buf = append(make([]byte, 0, PartSize+PartSize/8), cw.buf...)
	}
	cw.buf = append(cw.buf, '\n')
	cw.buf = add(cw.buf)
	cw.count++
	return cw.spill()
}

// Repository adds r. The same name given again in a row adds to the same repository (its layers, manifests
// and tags appended), so a big one can be given in pieces.
func (cw *CatalogWriter) Repository(r *Repository) error {
	if err := cw.enter(1, "repository"); err != nil {
		return err
	}
	if cw.pending != nil && cw.pending.Name == r.Name {
		cw.pending.Layers = append(cw.pending.Layers, r.Layers...)
		cw.pending.Manifests = append(cw.pending.Manifests, r.Manifests...)
		cw.pending.Tags = append(cw.pending.Tags, r.Tags...)
	} else {
		if err := cw.flushPending(); err != nil {
			return err
		}
		cw.counts.Repositories++
		p := Repository{Name: r.Name}
		p.Layers = append([]string{}, r.Layers...)
		p.Manifests = append([]string{}, r.Manifests...)
		p.Tags = append([]Tag(nil), r.Tags...)
		cw.pending, cw.pendN = &p, 0
	}
	cw.counts.Tags += len(r.Tags)
	cw.pendN += repoItems(r)
	if cw.chunked || len(cw.buf)+74*cw.pendN > PartSize {
		return cw.flushPieces(false)
	}
	return nil
}

func repoItems(r *Repository) int {
	n := len(r.Layers) + len(r.Manifests) + len(r.Tags)
	for _, t := range r.Tags {
		n += len(t.Index)
	}
	return n
}

// flushPending writes the pending repository whole.
func (cw *CatalogWriter) flushPending() error {
	if cw.pending == nil {
		return nil
	}
	return cw.flushPieces(true)
}

// flushPieces writes the pending repository: whole when the catalog is
// still one document, else in pieces of pieceItems, keeping back a last
// partial piece unless all.
func (cw *CatalogWriter) flushPieces(all bool) error {
	p := cw.pending
	if !cw.chunked && len(cw.buf)+74*cw.pendN <= PartSize {
		cw.pending = nil
		return cw.element(func(b []byte) []byte { return appendRepository(b, p) })
	}
	if err := cw.goChunked(); err != nil {
		return err
	}
	for cw.pendN >= pieceItems || (all && cw.pending != nil) {
		piece, rest := splitRepository(p, pieceItems)
		if err := cw.element(func(b []byte) []byte { return appendRepository(b, piece) }); err != nil {
			return err
		}
		if rest == nil {
			cw.pending, cw.pendN = nil, 0
			return nil
		}
		p, cw.pending, cw.pendN = rest, rest, repoItems(rest)
	}
	return nil
}

// splitRepository cuts r after about n items: piece has r's name and its
// first items (layers, then manifests, then tags, a tag never cut), rest
// the others or nil when there are none.
func splitRepository(r *Repository, n int) (piece, rest *Repository) {
	piece, rest = &Repository{Name: r.Name}, &Repository{Name: r.Name}
	k := min(n, len(r.Layers))
	piece.Layers, rest.Layers = r.Layers[:k:k], r.Layers[k:]
	n -= k
	k = min(n, len(r.Manifests))
	piece.Manifests, rest.Manifests = r.Manifests[:k:k], r.Manifests[k:]
	n -= k
	k = 0
	for k < len(r.Tags) && n > 0 {
		n -= 1 + len(r.Tags[k].Index)
		k++
	}
	piece.Tags, rest.Tags = r.Tags[:k:k], r.Tags[k:]
	if piece.Layers == nil {
		piece.Layers = []string{}
	}
	if piece.Manifests == nil {
		piece.Manifests = []string{}
	}
	if len(rest.Layers)+len(rest.Manifests)+len(rest.Tags) == 0 {
		return piece, nil
	}
	return piece, rest
}

// Lists adds c's repositories, then its manifests (not its blobs).
func (cw *CatalogWriter) Lists(c *Catalog) error {
	for i := range c.Repositories {
		if err := cw.Repository(&c.Repositories[i]); err != nil {
			return err
		}
	}
	for i := range c.Manifests {
		if err := cw.Manifest(&c.Manifests[i]); err != nil {
			return err
		}
	}
	return nil
}

// Manifest adds m.
func (cw *CatalogWriter) Manifest(m *Manifest) error {
	if err := cw.enter(2, "manifest"); err != nil {
		return err
	}
	cw.counts.Manifests++
	return cw.element(func(b []byte) []byte { return appendManifest(b, m) })
}

// Blob adds b, failing for a malformed digest or a negative size. b.Archive, when set, names
// one of the head's Parents.
func (cw *CatalogWriter) Blob(b Blob) error {
	if err := cw.enter(3, "blob"); err != nil {
		return err
	}
	if !ValidDigest(b.Digest) || b.Size < 0 {
		return fmt.Errorf("archive: catalog: bad blob %q (size %d)", b.Digest, b.Size)
	}
	if b.Archive != "" {
		if _, ok := cw.used[b.Archive]; !ok {
			return fmt.Errorf("archive: catalog: blob %s said to be in %q, which is not a parent", b.Digest, b.Archive)
		}
		cw.used[b.Archive] = true
	}
	cw.counts.Blobs++
	return cw.element(func(buf []byte) []byte { return appendBlob(buf, &b) })
}

// goChunked writes the head entry of a regbackup/3 catalog, once.
func (cw *CatalogWriter) goChunked() error {
	if cw.chunked {
		return nil
	}
	cw.chunked = true
	cw.w.order = &linkOrder{}
	cw.head.Format = FormatChunked
	head, err := appendCatalogHead(nil, &cw.head)
	if err != nil {
		return err
	}
	head = appendCatalogEnd(head, &cw.head)
	if err := cw.entry(CatalogName, head); err != nil {
		return err
	}
	// The body is its own document.
	cw.buf = append(cw.buf[:0], append([]byte{'{'}, cw.buf...)...)
	return nil
}

// spill writes full parts once the catalog is in parts.
func (cw *CatalogWriter) spill() error {
	if !cw.chunked {
		if len(cw.buf) <= PartSize {
			return nil
		}
		if err := cw.goChunked(); err != nil {
			return err
		}
	}
	for len(cw.buf) >= PartSize {
		if err := cw.part(cw.buf[:PartSize]); err != nil {
			return err
		}
		cw.buf = append(cw.buf[:0], cw.buf[PartSize:]...)
	}
	return nil
}

func (cw *CatalogWriter) part(data []byte) error {
	cw.parts++
	return cw.entry(partName(cw.parts), data)
}

func (cw *CatalogWriter) entry(name string, data []byte) error {
	cw.sum.Write(data)
	if err := cw.w.header(name, int64(len(data)), 0o644); err != nil {
		return err
	}
	_, err := cw.w.tw.Write(data)
	return err
}

// Close ends the lists and writes what is left of the catalog. It checks
// that every parent holds a blob. The Writer then takes blobs.
func (cw *CatalogWriter) Close() error {
	if cw.section == 4 {
		return nil
	}
	if err := cw.enter(3, "end"); err != nil {
		return err
	}
	cw.buf = append(cw.buf, ']')
	cw.section = 4
	for name, u := range cw.used {
		if !u {
			return fmt.Errorf("archive: catalog: parent %q holds none of its blobs: %w", name, ErrCorrupt)
		}
	}
	if cw.chunked {
		cw.buf = append(cw.buf, '}')
		for len(cw.buf) > 0 {
			n := min(len(cw.buf), PartSize)
			if err := cw.part(cw.buf[:n]); err != nil {
				return err
			}
			cw.buf = cw.buf[n:]
		}
	} else {
		doc, err := appendCatalogHead(make([]byte, 0, len(cw.buf)+4096), &cw.head)
		if err != nil {
			return err
		}
		doc = append(doc, ',')
		doc = append(doc, cw.buf...)
		doc = appendCatalogEnd(doc, &cw.head)
		if err := cw.entry(CatalogName, doc); err != nil {
			return err
		}
	}
	cw.buf = nil
	cw.w.catalog = nil
	cw.w.trailer.CatalogSHA256 = hex.EncodeToString(cw.sum.Sum(nil))
	return nil
}

// Format is the format the catalog was written in, once closed.
func (cw *CatalogWriter) Format() string { return cw.head.Format }

// Chunked reports whether the catalog went into parts.
func (cw *CatalogWriter) Chunked() bool { return cw.chunked }

// isPart reports whether name is a catalog part's entry name.
func isPart(name string) bool {
	rest, ok := strings.CutPrefix(name, PartPrefix)
	return ok && len(rest) == 6 && strings.Trim(rest, "0123456789") == ""
}
