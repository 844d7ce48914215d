package archive

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"slices"
)

// blobPlan is what a Reader keeps of the catalog's blobs: for each, its
// digest as 32 bytes, its size, which parent holds it and what the archive
// showed of it, 48 bytes a blob in sorted blocks (a map of digest strings
// took three times that). Three million blobs, a million tags'
// worth, take 144 MB.
type blobPlan struct {
	blocks [][]planEntry // of planBlock entries each but the last: no slice is ever copied to grow
	n      int
	sorted bool
	names  []string          // parent names blobs referred to; planEntry.parent-1 indexes it
	ids    map[string]uint16 // name -> index+1
}

// planBlock is the number of entries in one block of a plan.
const planBlock = 1 << 16

type planEntry struct {
	sum    [32]byte
	size   int64
	parent uint16 // 0: this archive holds it; else names[parent-1] does
	flags  uint8
}

const (
	planSeen uint8 = 1 << iota // its blob entry was read
	planHeld                   // and matched its digest
)

func newBlobPlan() *blobPlan { return &blobPlan{sorted: true, ids: map[string]uint16{}} }

// parseSum turns "sha256:<64 hex>" into its 32 bytes.
func parseSum(d string) (s [32]byte, ok bool) {
	if !ValidDigest(d) {
		return s, false
	}
	_, err := hex.Decode(s[:], []byte(d[len("sha256:"):]))
	return s, err == nil
}

// add records one catalog blob.
func (p *blobPlan) add(b Blob) error {
	sum, ok := parseSum(b.Digest)
	if !ok || b.Size < 0 {
		return fmt.Errorf("catalog: bad blob %q: %w", b.Digest, ErrCorrupt)
	}
	e := planEntry{sum: sum, size: b.Size}
	if b.Archive != "" {
		id, ok := p.ids[b.Archive]
		if !ok {
			if len(p.names) >= 1<<16-1 {
				return fmt.Errorf("catalog: blobs in more than %d parents: %w", 1<<16-1, ErrCorrupt)
			}
			p.names = append(p.names, b.Archive)
			id = uint16(len(p.names))
			p.ids[b.Archive] = id
		}
		e.parent = id
	}
	if p.n > 0 && bytes.Compare(p.at(p.n - 1).sum[:], sum[:]) >= 0 {
		p.sorted = false
	}
	if p.n%planBlock == 0 {
		p.blocks = append(p.blocks, make([]planEntry, 0, planBlock))
	}
	last := &p.blocks[len(p.blocks)-1]
	*last = append(*last, e)
	p.n++
	return nil
}

// at is entry i.
func (p *blobPlan) at(i int) *planEntry { return &p.blocks[i/planBlock][i%planBlock] }

// each calls fn for every entry, in order.
func (p *blobPlan) each(fn func(*planEntry) error) error {
	for _, b := range p.blocks {
		for i := range b {
			if err := fn(&b[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// finish sorts the plan once every blob was added; of a digest listed
// twice the last counts, as it did when the plan was a map.
func (p *blobPlan) finish() {
	if p.sorted {
		return
	}
	// Written by a regbackup that did not sort, or by hand: rare, so the
	// entries are joined into one slice for the sort and cut up again.
	all := make([]planEntry, 0, p.n)
	for _, b := range p.blocks {
		all = append(all, b...)
	}
	slices.SortStableFunc(all, func(a, b planEntry) int { return bytes.Compare(a.sum[:], b.sum[:]) })
	p.blocks, p.n = nil, 0
	for i, e := range all {
		if i+1 < len(all) && all[i+1].sum == e.sum {
			continue
		}
		if p.n%planBlock == 0 {
			p.blocks = append(p.blocks, make([]planEntry, 0, planBlock))
		}
		p.blocks[len(p.blocks)-1] = append(p.blocks[len(p.blocks)-1], e)
		p.n++
	}
	p.sorted = true
}

// find returns the entry of digest d, or nil.
func (p *blobPlan) find(d string) *planEntry {
	sum, ok := parseSum(d)
	if !ok {
		return nil
	}
	return p.findSum(sum)
}

// findSum returns the entry of the digest whose 32 bytes are sum, or nil.
func (p *blobPlan) findSum(sum [32]byte) *planEntry {
	lo, hi := 0, p.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch c := bytes.Compare(p.at(m).sum[:], sum[:]); {
		case c == 0:
			return p.at(m)
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return nil
}

// parentName is the name of the parent holding e, "" for this archive.
func (p *blobPlan) parentName(e *planEntry) string {
	if e == nil || e.parent == 0 {
		return ""
	}
	return p.names[e.parent-1]
}

// checkParents checks the catalog's parents against the blobs said to live
// in them, as Catalog.checkParents does for a catalog held whole.
func (p *blobPlan) checkParents(c *Catalog) error {
	probe := Catalog{Format: c.Format, Parents: c.Parents}
	if c.Format == FormatChunked {
		probe.Format = formatFor(false, len(c.Parents) > 0)
	}
	for _, n := range p.names {
		probe.Blobs = append(probe.Blobs, Blob{Archive: n})
	}
	return probe.checkParents()
}

// digestOf is the digest string of a plan entry.
func (e *planEntry) digest() string { return "sha256:" + hex.EncodeToString(e.sum[:]) }

// ParseSum turns a digest "sha256:<64 hex>" into its 32 bytes, for callers
// that hold many digests compactly (see Reader.BlobOf).
func ParseSum(d string) ([32]byte, bool) { return parseSum(d) }

// SumDigest is the digest string "sha256:<hex>" of 32 bytes.
func SumDigest(s [32]byte) string { return "sha256:" + hex.EncodeToString(s[:]) }
