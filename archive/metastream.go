package archive

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"sort"
	"strings"
)

// OpenMeta reads and checks the sidecar that open gives, as ParseMeta
// does, without holding it: a million tags' sidecar is some 300 MB of
// JSON, three million blobs and a million manifests. It keeps what comes
// before the blob list and the media types, and counts the blobs and
// manifests, checking each; BlobList, KnownManifests, EachBlob and Scan
// read the sidecar again through open when asked, the first two keeping
// the blobs in 42 bytes each (packedBlobs), the others none. The sidecar must not change
// meanwhile: a read that finds another number of blobs is an error.
func OpenMeta(open func() (io.ReadCloser, error)) (*Meta, error) {
	m := &Meta{open: open}
	holders := map[string]string{} // archive -> a blob it holds, for checkParents
	var prev string
	sorted := true
	var maxType, maxBlob, minBlob int32
	err := m.stream(func(b Blob) error {
		if b.Archive != "" && holders[b.Archive] == "" {
			holders[b.Archive] = b.Digest
		}
		sorted = sorted && prev < b.Digest
		prev = b.Digest
		m.nblobs++
		return nil
	}, func(row []int32) error {
		m.nmanifests++
		if len(row) < 2 || row[1] < 0 {
			return fmt.Errorf("sidecar: bad manifest entry %v: %w", row, ErrCorrupt)
		}
		maxType = max(maxType, row[1])
		for i, x := range row {
			if i != 1 {
				minBlob, maxBlob = min(minBlob, x), max(maxBlob, x)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if m.nmanifests > 0 && (int(maxType) >= len(m.MediaTypes) || minBlob < 0 || int(maxBlob) >= m.nblobs) {
		return nil, fmt.Errorf("sidecar: a manifest entry names a blob or media type it does not list: %w", ErrCorrupt)
	}
	m.unsorted = !sorted
	if m.Format != MetaFormat {
		return nil, fmt.Errorf("sidecar format %q is not %q: %w", m.Format, MetaFormat, ErrCorrupt)
	}
	if !ValidArchiveName(m.Archive) || !ValidDigest("sha256:"+m.CatalogSHA256) {
		return nil, fmt.Errorf("sidecar: bad archive name or catalog checksum: %w", ErrCorrupt)
	}
	c := Catalog{Format: FormatVersion, Parents: m.Parents}
	if len(m.Parents) > 0 {
		c.Format = FormatIncremental
	}
	for name, dg := range holders {
		c.Blobs = append(c.Blobs, Blob{Digest: dg, Archive: name})
	}
	sort.Slice(c.Blobs, func(i, j int) bool { return c.Blobs[i].Archive < c.Blobs[j].Archive })
	if err := c.checkParents(); err != nil {
		return nil, fmt.Errorf("sidecar: %w", err)
	}
	return m, nil
}

// errStop stops a stream early, and is no error.
var errStop = errors.New("stop")

// HasManifests reports whether the sidecar describes manifests (see
// Meta.Manifests), without reading them.
func (m *Meta) HasManifests() bool { return len(m.Manifests) > 0 || m.nmanifests > 0 }

// EachBlob yields the sidecar's blobs in its order, reading them again
// from the sidecar when OpenMeta gave it and BlobList did not load them;
// it stops at the first error, which it yields.
func (m *Meta) EachBlob() iter.Seq2[Blob, error] {
	return func(yield func(Blob, error) bool) {
		err := m.Scan(func(b Blob) error {
			if !yield(b, nil) {
				return errStop
			}
			return nil
		}, nil)
		if err != nil && err != errStop {
			yield(Blob{}, err)
		}
	}
}

// Scan calls blob with each of the sidecar's blobs, in its order, then
// row with each entry of Manifests (either may be nil), reading a sidecar
// OpenMeta gave again (holding neither) unless BlobList loaded it. It
// stops at the first error, which it returns.
func (m *Meta) Scan(blob func(Blob) error, row func([]int32) error) error {
	if m.open == nil || m.list != nil {
		for b := range EachBlob(m.BlobList()) {
			if blob != nil {
				if err := blob(b); err != nil {
					return err
				}
			}
		}
		for _, r := range m.Manifests {
			if row != nil {
				if err := row(r); err != nil {
					return err
				}
			}
		}
		return nil
	}
	var blobs, rows int
	err := m.reread(func(b Blob) error {
		blobs++
		if blob != nil {
			return blob(b)
		}
		return nil
	}, func(r []int32) error {
		rows++
		if row != nil {
			return row(r)
		}
		return nil
	})
	if err == nil && (blobs != m.nblobs || rows != m.nmanifests) {
		err = m.changed()
	}
	return err
}

// Sorted reports whether the blobs are in digest order, as a sidecar
// regbackup wrote lists them.
func (m *Meta) Sorted() bool {
	if m.open != nil {
		return !m.unsorted
	}
	bs := m.BlobList()
	for i := 1; i < bs.Len(); i++ {
		if bs.At(i-1).Digest >= bs.At(i).Digest {
			return false
		}
	}
	return true
}

// load reads the blob list and manifests of a sidecar OpenMeta gave, once.
func (m *Meta) load() error {
	if m.open == nil || m.list != nil {
		return m.loadErr
	}
	p := &packedBlobs{sums: make([][32]byte, 0, m.nblobs), sizes: make([]int64, 0, m.nblobs)}
	index := map[string]uint16{}
	var rows [][]int32
	var arena []int32
	err := m.reread(func(b Blob) error {
		var sum [32]byte
		hex.Decode(sum[:], []byte(b.Digest[len("sha256:"):])) // checked by stream
		p.sums = append(p.sums, sum)
		p.sizes = append(p.sizes, b.Size)
		if b.Archive != "" || p.holder != nil {
			if p.holder == nil {
				p.holder = make([]uint16, len(p.sums)-1, m.nblobs)
			}
			k, ok := index[b.Archive]
			if !ok && b.Archive != "" {
				p.names = append(p.names, b.Archive)
				k = uint16(len(p.names))
				index[b.Archive] = k
			}
			p.holder = append(p.holder, k)
		}
		return nil
	}, func(row []int32) error {
		if cap(arena)-len(arena) < len(row) {
			arena = make([]int32, 0, max(64<<10, len(row)))
		}
		arena = append(arena, row...)
		rows = append(rows, arena[len(arena)-len(row):len(arena):len(arena)])
		return nil
	})
	if err == nil && (len(p.sums) != m.nblobs || len(rows) != m.nmanifests) {
		err = m.changed()
	}
	if err != nil {
		m.loadErr = err
		return err
	}
	m.list, m.Manifests = p, rows
	return nil
}

func (m *Meta) changed() error {
	return fmt.Errorf("sidecar of %s changed while being read: %w", m.Archive, ErrCorrupt)
}

// reread decodes the sidecar again through open, into a copy of its head
// (m's own fields are not touched), calling blob and row.
func (m *Meta) reread(blob func(Blob) error, row func([]int32) error) error {
	again := &Meta{open: m.open}
	return again.stream(blob, row)
}

// stream decodes the sidecar open gives into m's members other than the
// blobs and manifests, calling blob with each blob and row with each
// manifest entry (either may be nil), each checked as ParseMeta checks
// it. Errors wrap ErrCorrupt, or are open's or the reader's.
func (m *Meta) stream(blob func(Blob) error, row func([]int32) error) error {
	rc, err := m.open()
	if err != nil {
		return err
	}
	defer rc.Close()
	r := &errReader{r: rc}
	dec := json.NewDecoder(r)
	corrupt := func(err error) error { // what the reader failed with is no damage
		if r.err != nil && r.err != io.EOF || errors.Is(err, ErrCorrupt) || err == errStop {
			return err
		}
		return fmt.Errorf("sidecar: %w: %v", ErrCorrupt, err)
	}
	if err := expectDelim(dec, '{'); err != nil {
		return corrupt(err)
	}
	members := map[string]any{"format": &m.Format, "archive": &m.Archive, "created": &m.Created,
		"catalog_sha256": &m.CatalogSHA256, "encrypted": &m.Encrypted, "compression": &m.Compression,
		"size": &m.Size, "parents": &m.Parents, "media_types": &m.MediaTypes}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return corrupt(err)
		}
		key, _ := tok.(string)
		switch key {
		case "blobs":
			err = decodeList(dec, func(b *Blob) error {
				if !ValidDigest(b.Digest) || b.Size < 0 {
					return fmt.Errorf("sidecar: bad blob %q: %w", b.Digest, ErrCorrupt)
				}
				if blob != nil {
					return blob(*b)
				}
				return nil
			})
		case "manifests":
			err = decodeList(dec, func(r *[]int32) error {
				if row != nil {
					return row(*r)
				}
				return nil
			})
		default:
			if v, ok := members[strings.ToLower(key)]; ok {
				err = dec.Decode(v)
			} else {
				var skip json.RawMessage // as encoding/json: an unknown member is ignored
				err = dec.Decode(&skip)
			}
		}
		if err != nil {
			return corrupt(err)
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return corrupt(err)
	}
	return nil
}

// packedBlobs is a sidecar's blob list as OpenMeta's BlobList keeps it:
// a blob's digest as its 32 bytes, its size, and which archive holds it
// as an index into names (none when every blob is the sidecar's own).
type packedBlobs struct {
	sums   [][32]byte
	sizes  []int64
	holder []uint16 // 0: the sidecar's archive; k: names[k-1]
	names  []string
}

var _ BlobSearcher = (*packedBlobs)(nil)

func (p *packedBlobs) Len() int { return len(p.sums) }

func (p *packedBlobs) At(i int) Blob {
	b := Blob{Digest: "sha256:" + hex.EncodeToString(p.sums[i][:]), Size: p.sizes[i]}
	if p.holder != nil && p.holder[i] > 0 {
		b.Archive = p.names[p.holder[i]-1]
	}
	return b
}

// Search finds dg by its bytes (the blobs are sorted, as every sidecar
// regbackup writes has them; an unsorted list is searched through At).
func (p *packedBlobs) Search(dg string) (int, bool) {
	var sum [32]byte
	if !ValidDigest(dg) {
		i := sort.Search(len(p.sums), func(i int) bool { return p.At(i).Digest >= dg })
		return i, i < len(p.sums) && p.At(i).Digest == dg
	}
	hex.Decode(sum[:], []byte(dg[len("sha256:"):]))
	i := sort.Search(len(p.sums), func(i int) bool { return bytes.Compare(p.sums[i][:], sum[:]) >= 0 })
	return i, i < len(p.sums) && p.sums[i] == sum
}

// errReader remembers the first error its reader gave.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}
