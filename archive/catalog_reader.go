package archive

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
)

// CatalogVisitor receives a catalog's lists as a Reader decodes them, one
// element at a time, instead of the Reader holding them in Catalog (see
// ReaderOptions.Visitor). A nil func skips that list. An error stops the
// reading and NewReaderOptions returns it.
//
// Repositories come as the archive stores them: a big repository of a
// regbackup/3 catalog comes in consecutive pieces of the same name, each
// with some of its layers, manifests and tags.
type CatalogVisitor struct {
	Repository func(*Repository) error
	Manifest   func(*Manifest) error
	Blob       func(Blob) error
}

// catalogSink is where decodeCatalogDoc puts the list elements.
type catalogSink struct {
	r        *Reader
	c        *Catalog
	v        *CatalogVisitor
	elements int
}

func (s *catalogSink) repository(x *Repository) error {
	s.elements++
	if s.v != nil {
		if s.v.Repository != nil {
			return s.v.Repository(x)
		}
		return nil
	}
	if n := len(s.c.Repositories); n > 0 && s.c.Repositories[n-1].Name == x.Name {
		last := &s.c.Repositories[n-1] // a piece of the same repository
		last.Layers = append(last.Layers, x.Layers...)
		last.Manifests = append(last.Manifests, x.Manifests...)
		last.Tags = append(last.Tags, x.Tags...)
		return nil
	}
	s.c.Repositories = append(s.c.Repositories, *x)
	return nil
}

func (s *catalogSink) manifest(x *Manifest) error {
	s.elements++
	if s.v != nil {
		if s.v.Manifest != nil {
			return s.v.Manifest(x)
		}
		return nil
	}
	s.c.Manifests = append(s.c.Manifests, *x)
	return nil
}

func (s *catalogSink) blob(x Blob) error {
	s.elements++
	if err := s.r.plan.add(x); err != nil {
		return err
	}
	if s.v != nil {
		if s.v.Blob != nil {
			return s.v.Blob(x)
		}
		return nil
	}
	s.c.Blobs = append(s.c.Blobs, x)
	return nil
}

// readCatalog reads the catalog starting at hdr (the catalog.json entry):
// the document of regbackup/1 and /2, or the head and parts of regbackup/3,
// streamed, so that its size is bounded only by what the sink keeps.
func (r *Reader) readCatalog(hdr *tar.Header, v *CatalogVisitor) error {
	sum := sha256.New()
	var c Catalog
	sink := &catalogSink{r: r, c: &c, v: v}
	body := io.TeeReader(&fullReader{r: r.tr, left: hdr.Size, name: CatalogName}, sum)
	if err := decodeCatalogDoc(body, &c, sink, false); err != nil {
		return err
	}
	switch c.Format {
	case FormatVersion, FormatIncremental:
	case FormatChunked:
		if sink.elements > 0 {
			return fmt.Errorf("%s: a %s head holds lists: %w", CatalogName, FormatChunked, ErrCorrupt)
		}
		if err := (&Catalog{Format: formatFor(false, len(c.Parents) > 0), Parents: c.Parents}).checkParentNames(); err != nil {
			return err
		}
		parts := &partReader{r: r, sum: sum}
		if err := decodeCatalogDoc(parts, &c, sink, true); err != nil {
			return err
		}
		if parts.n == 0 {
			return fmt.Errorf("%s: no parts follow the head: %w", CatalogName, ErrCorrupt)
		}
	default:
		return fmt.Errorf("archive format %q is not supported by this regbackup (it reads %q, %q and %q): %w",
			c.Format, FormatVersion, FormatIncremental, FormatChunked, ErrCorrupt)
	}
	r.plan.finish()
	if err := r.plan.checkParents(&c); err != nil {
		return err
	}
	r.catSum = fmt.Sprintf("%x", sum.Sum(nil))
	r.catalog = &c
	return nil
}

// decodeCatalogDoc decodes one JSON object from in: the lists element by
// element into sink, the other members into c. A body (the parts of a
// regbackup/3 catalog) holds only the lists. Nothing but white space may
// follow the object.
func decodeCatalogDoc(in io.Reader, c *Catalog, sink *catalogSink, body bool) error {
	name := CatalogName
	if body {
		name = PartPrefix + "*"
	}
	bad := func(err error) error {
		if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrIncomplete) || errors.Is(err, ErrUnsafePath) {
			return err
		}
		var de *DigestError
		if errors.As(err, &de) {
			return err
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%s: ends mid-document: %w", name, ErrCorrupt)
		}
		return fmt.Errorf("%s: %w: %v", name, ErrCorrupt, err)
	}
	dec := json.NewDecoder(in)
	if err := expectDelim(dec, '{'); err != nil {
		return bad(err)
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return bad(err)
		}
		key, _ := t.(string)
		var perr error
		switch key {
		case "repositories":
			perr = decodeList(dec, sink.repository)
		case "manifests":
			perr = decodeList(dec, sink.manifest)
		case "blobs":
			perr = decodeList(dec, func(b *Blob) error { return sink.blob(*b) })
		default:
			if body {
				return bad(fmt.Errorf("unexpected member %q", key))
			}
			perr = decodeHeadMember(dec, key, c)
		}
		if perr != nil {
			return bad(perr)
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return bad(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("data after the document")
		}
		return bad(err)
	}
	return nil
}

// decodeHeadMember decodes one member other than the lists into c; unknown
// members are skipped, as encoding/json skips them.
func decodeHeadMember(dec *json.Decoder, key string, c *Catalog) error {
	var v any
	switch key {
	case "format":
		v = &c.Format
	case "tool_version":
		v = &c.ToolVersion
	case "source":
		v = &c.Source
	case "created":
		v = &c.Created
	case "all_blobs":
		v = &c.AllBlobs
	case "metadata":
		v = &c.Metadata
	case "database":
		v = &c.Database
	case "parents":
		v = &c.Parents
	case "files":
		v = &c.Files
	default:
		v = new(json.RawMessage)
	}
	return dec.Decode(v)
}

// decodeList decodes a JSON array (or null) element by element.
func decodeList[T any](dec *json.Decoder, each func(*T) error) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if t == nil {
		return nil
	}
	if d, ok := t.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("a list is %v", t)
	}
	for dec.More() {
		var x T
		if err := dec.Decode(&x); err != nil {
			return err
		}
		if err := each(&x); err != nil {
			return err
		}
	}
	return expectDelim(dec, ']')
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		return fmt.Errorf("found %v where %q belongs", t, want)
	}
	return nil
}

// partReader reads the parts of a regbackup/3 catalog as one stream: when
// a part ends it moves to the next entry, and at the first entry that is
// not the next part it ends, leaving that entry's header for Next.
type partReader struct {
	r   *Reader
	n   int // parts begun
	cur io.Reader
	sum hash.Hash
	end bool
}

func (p *partReader) Read(b []byte) (int, error) {
	for {
		if p.end {
			return 0, io.EOF
		}
		if p.cur != nil {
			n, err := p.cur.Read(b)
			if n > 0 || (err != nil && !errors.Is(err, io.EOF)) {
				if err != nil && !errors.Is(err, io.EOF) {
					return n, streamErr(partName(p.n), err)
				}
				return n, nil
			}
			p.cur = nil
		}
		hdr, err := p.r.tr.Next()
		if errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("archive ends within the catalog (truncated?): %w", ErrIncomplete)
		}
		if err != nil {
			return 0, streamErr("after "+partName(p.n), err)
		}
		if !isPart(hdr.Name) {
			p.r.pending = hdr
			p.end = true
			continue
		}
		if err := checkHeader(hdr); err != nil {
			return 0, err
		}
		if hdr.Typeflag != tar.TypeReg || hdr.Name != partName(p.n+1) || hdr.Size <= 0 || hdr.Size > maxPartSize {
			return 0, fmt.Errorf("%s: catalog part out of order or of a bad size (%d): %w", hdr.Name, hdr.Size, ErrCorrupt)
		}
		p.n++
		p.cur = io.TeeReader(&fullReader{r: p.r.tr, left: hdr.Size, name: hdr.Name}, p.sum)
	}
}

// fullReader reads exactly left bytes of r, an early end being
// ErrIncomplete.
type fullReader struct {
	r    io.Reader
	left int64
	name string
}

func (f *fullReader) Read(b []byte) (int, error) {
	if f.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > f.left {
		b = b[:f.left]
	}
	n, err := f.r.Read(b)
	f.left -= int64(n)
	if err != nil && f.left > 0 {
		return n, streamErr(f.name, io.ErrUnexpectedEOF)
	}
	return n, nil
}
