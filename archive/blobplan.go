package archive

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"sort"
)

// blobPlan is what a Reader keeps of the catalog's blobs: for each, its
// digest as 32 bytes, its size, which parent holds it and what the archive
// showed of it, in flat arrays of sorted blocks: 37 bytes a blob (32 of
// digest, 4 of size, 1 of flags; 2 more in a block holding a blob of a
// parent; a size of 4 GiB or more in a map). Three million blobs, a
// million tags' worth, take 111 MB; a struct a blob took 48 bytes, a map
// of digest strings three times that.
type blobPlan struct {
	blocks []*planBlock // of planBlockLen entries each but the last: no array is ever copied to grow
	n      int
	sorted bool
	big    map[int]int64     // sizes of math.MaxUint32 bytes or more, by entry
	names  []string          // parent names blobs referred to; a parent number-1 indexes it
	ids    map[string]uint16 // name -> index+1
}

// planBlockLen is the number of entries in one block of a plan.
const planBlockLen = 1 << 16

// planBlock is planBlockLen entries (fewer in the last block).
type planBlock struct {
	sums    [][32]byte
	sizes   []uint32 // math.MaxUint32: in blobPlan.big
	flags   []uint8
	parents []uint16 // nil while every entry's is 0 (this archive holds it); else names[parent-1] does
}

const (
	planSeen     uint8 = 1 << iota // its blob entry was read
	planHeld                       // and matched its digest
	planSelected                   // the caller selected it (Reader.Select)
)

// planEntry is one entry of a plan as add takes it and finish sorts it.
type planEntry struct {
	sum    [32]byte
	size   int64
	parent uint16
	flags  uint8
}

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
	if p.n > 0 {
		last := p.sum(p.n - 1)
		if bytes.Compare(last[:], sum[:]) >= 0 {
			p.sorted = false
		}
	}
	p.push(e)
	return nil
}

// push appends e.
func (p *blobPlan) push(e planEntry) {
	if p.n%planBlockLen == 0 {
		p.blocks = append(p.blocks, &planBlock{sums: make([][32]byte, 0, planBlockLen),
			sizes: make([]uint32, 0, planBlockLen), flags: make([]uint8, 0, planBlockLen)})
	}
	b := p.blocks[len(p.blocks)-1]
	size := uint32(math.MaxUint32)
	if e.size < math.MaxUint32 {
		size = uint32(e.size)
	} else {
		if p.big == nil {
			p.big = map[int]int64{}
		}
		p.big[p.n] = e.size
	}
	b.sums = append(b.sums, e.sum)
	b.sizes = append(b.sizes, size)
	b.flags = append(b.flags, e.flags)
	if e.parent != 0 && b.parents == nil {
		b.parents = make([]uint16, len(b.sums)-1, planBlockLen)
	}
	if b.parents != nil {
		b.parents = append(b.parents, e.parent)
	}
	p.n++
}

// entry is entry i whole.
func (p *blobPlan) entry(i int) planEntry {
	return planEntry{sum: p.sum(i), size: p.size(i), parent: p.parent(i), flags: p.flags(i)}
}

func (p *blobPlan) block(i int) (*planBlock, int) { return p.blocks[i/planBlockLen], i % planBlockLen }

// sum is entry i's digest as 32 bytes.
func (p *blobPlan) sum(i int) [32]byte {
	b, j := p.block(i)
	return b.sums[j]
}

// size is entry i's size.
func (p *blobPlan) size(i int) int64 {
	b, j := p.block(i)
	if s := b.sizes[j]; s != math.MaxUint32 {
		return int64(s)
	}
	return p.big[i]
}

// parent is the number of the parent holding entry i, 0 for this archive.
func (p *blobPlan) parent(i int) uint16 {
	b, j := p.block(i)
	if b.parents == nil {
		return 0
	}
	return b.parents[j]
}

// flags are entry i's planSeen and planHeld.
func (p *blobPlan) flags(i int) uint8 {
	b, j := p.block(i)
	return b.flags[j]
}

// mark sets flags f of entry i.
func (p *blobPlan) mark(i int, f uint8) {
	b, j := p.block(i)
	b.flags[j] |= f
}

// each calls fn for every entry, in order.
func (p *blobPlan) each(fn func(i int) error) error {
	for i := range p.n {
		if err := fn(i); err != nil {
			return err
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
	// entries are joined into one slice for the sort and laid out again.
	all := make([]planEntry, 0, p.n)
	for i := range p.n {
		all = append(all, p.entry(i))
	}
	slices.SortStableFunc(all, func(a, b planEntry) int { return bytes.Compare(a.sum[:], b.sum[:]) })
	p.blocks, p.n, p.big = nil, 0, nil
	for i, e := range all {
		if i+1 < len(all) && all[i+1].sum == e.sum {
			continue
		}
		p.push(e)
	}
	p.sorted = true
}

// find returns the entry of digest d, or -1.
func (p *blobPlan) find(d string) int {
	sum, ok := parseSum(d)
	if !ok {
		return -1
	}
	return p.findSum(sum)
}

// findSum returns the entry of the digest whose 32 bytes are sum, or -1.
func (p *blobPlan) findSum(sum [32]byte) int {
	at := func(i int) *[32]byte { b, j := p.block(i); return &b.sums[j] }
	i := sort.Search(p.n, func(i int) bool { return bytes.Compare(at(i)[:], sum[:]) >= 0 })
	if i < p.n && *at(i) == sum {
		return i
	}
	return -1
}

// parentName is the name of the parent holding entry i, "" for this
// archive.
func (p *blobPlan) parentName(i int) string {
	if i < 0 {
		return ""
	}
	if id := p.parent(i); id != 0 {
		return p.names[id-1]
	}
	return ""
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

// digest is the digest string of entry i.
func (p *blobPlan) digest(i int) string { return SumDigest(p.sum(i)) }

// ParseSum turns a digest "sha256:<64 hex>" into its 32 bytes, for callers
// that hold many digests compactly (see Reader.BlobOf).
func ParseSum(d string) ([32]byte, bool) { return parseSum(d) }

// SumDigest is the digest string "sha256:<hex>" of 32 bytes.
func SumDigest(s [32]byte) string { return "sha256:" + hex.EncodeToString(s[:]) }
