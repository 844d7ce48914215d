package archive

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"slices"
)

// blobPlan is what a Reader keeps of the catalog's blobs: for each, its
// digest as 32 bytes, its size, which parent holds it and what the archive
// showed of it, 48 bytes a blob in one sorted slice (a map of digest
// strings took three times that). Three million blobs, a million tags'
// worth, take 144 MB.
type blobPlan struct {
	ents   []planEntry
	sorted bool
	names  []string          // parent names blobs referred to; planEntry.parent-1 indexes it
	ids    map[string]uint16 // name -> index+1
}

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
	if n := len(p.ents); n > 0 && bytes.Compare(p.ents[n-1].sum[:], sum[:]) >= 0 {
		p.sorted = false
	}
	p.ents = append(p.ents, e)
	return nil
}

// finish sorts the plan once every blob was added; of a digest listed
// twice the last counts, as it did when the plan was a map.
func (p *blobPlan) finish() {
	if p.sorted {
		return
	}
	slices.SortStableFunc(p.ents, func(a, b planEntry) int { return bytes.Compare(a.sum[:], b.sum[:]) })
	out := p.ents[:0]
	for i, e := range p.ents {
		if i+1 < len(p.ents) && p.ents[i+1].sum == e.sum {
			continue
		}
		out = append(out, e)
	}
	p.ents = slices.Clip(out)
	p.sorted = true
}

// find returns the entry of digest d, or nil.
func (p *blobPlan) find(d string) *planEntry {
	sum, ok := parseSum(d)
	if !ok {
		return nil
	}
	i, found := slices.BinarySearchFunc(p.ents, sum, func(e planEntry, s [32]byte) int { return bytes.Compare(e.sum[:], s[:]) })
	if !found {
		return nil
	}
	return &p.ents[i]
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
