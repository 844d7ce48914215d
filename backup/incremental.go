package backup

import (
	"fmt"
	"iter"
	"strings"

	"github.com/regbackup/regbackup/archive"
)

// DefaultMaxParents is how many parent archives an incremental backup may
// need before a full one is written instead (Options.MaxParents).
const DefaultMaxParents = 30

// catalogBlobs are the blobs an archive's catalog lists, an
// archive.BlobList: the snapshot's plan, made a blob at a time, and for an
// incremental archive which parent holds each (two bytes a blob, where a
// []archive.Blob would be forty plus the digest).
type catalogBlobs struct {
	plan    archive.BlobList
	holder  []uint16 // nil: every blob is this archive's; else 0 for this archive, k for holders[k-1]
	holders []string
	local   int // blobs this archive holds itself
}

var _ archive.BlobSearcher = (*catalogBlobs)(nil)

func (c *catalogBlobs) Len() int { return c.plan.Len() }

func (c *catalogBlobs) At(i int) archive.Blob {
	b := c.plan.At(i)
	if c.holder != nil && c.holder[i] > 0 {
		b.Archive = c.holders[c.holder[i]-1]
	}
	return b
}

func (c *catalogBlobs) Search(dg string) (int, bool) { return archive.SearchBlobs(c.plan, dg) }

// Has reports whether the catalog lists blob dg.
func (c *catalogBlobs) Has(dg string) bool {
	_, ok := c.Search(dg)
	return ok
}

// Local yields the blobs this archive holds itself, in order.
func (c *catalogBlobs) Local() iter.Seq[archive.Blob] {
	return func(yield func(archive.Blob) bool) {
		for i := range c.plan.Len() {
			if (c.holder == nil || c.holder[i] == 0) && !yield(c.plan.At(i)) {
				return
			}
		}
	}
}

// applyBase lists plan's blobs for an archive on top of base (the newest
// earlier archive, as its sidecar describes it): every blob base or one of
// its parents holds intact, with the same size, is left to that archive
// (its Blob.Archive), and cat.Parents lists the archives so named, nearest
// first. With no base, or when more than maxParents archives would be
// needed, cat stays a full catalog and the archive holds every blob.
func applyBase(cat *archive.Catalog, plan archive.BlobList, base *archive.Meta, maxParents int) (*catalogBlobs, string, error) {
	full := &catalogBlobs{plan: plan, local: plan.Len()}
	if base == nil {
		return full, "", nil
	}
	held, done := heldBy(base)
	c := &catalogBlobs{plan: plan, holder: make([]uint16, plan.Len())}
	index := map[string]uint16{}
	for i := range plan.Len() {
		b := plan.At(i)
		h, ok := held(b.Digest)
		if !ok || h.Size != b.Size {
			c.local++
			continue
		}
		name := base.Holder(h)
		k, ok := index[name]
		if !ok {
			if len(c.holders) == 1<<16-1 {
				done()
				return full, fmt.Sprintf("an incremental on top of %s would need over %d parent archives: writing a full backup", base.Archive, len(c.holders)), nil
			}
			c.holders = append(c.holders, name)
			k = uint16(len(c.holders))
			index[name] = k
		}
		c.holder[i] = k
	}
	if err := done(); err != nil {
		return nil, "", fmt.Errorf("reading the blob list of %s: %w", base.Archive, err)
	}
	chain := append([]archive.Parent{{Name: base.Archive, CatalogSHA256: base.CatalogSHA256, Created: base.Created}}, base.Parents...)
	var parents []archive.Parent
	for _, p := range chain {
		if _, used := index[p.Name]; used {
			parents = append(parents, p)
		}
	}
	if maxParents <= 0 {
		maxParents = DefaultMaxParents
	}
	if len(parents) > maxParents {
		return full, fmt.Sprintf("an incremental on top of %s would need %d parent archives, over --max-chain %d: writing a full backup",
			base.Archive, len(parents), maxParents), nil
	}
	cat.Parents = parents
	return c, "", nil
}

// heldBy returns a lookup of the blobs base and its parents hold, to be
// asked for digests in ascending order (a snapshot's plan is sorted), and
// done, to call once finished, which says whether base's list could be
// read whole. base's list is sorted too (a sidecar's is), so that is a
// walk along it as it is read (base.EachBlob: a million tags' sidecar is
// some three million blobs, not held); a map of them (some hundred bytes
// a blob) only when it is not sorted.
func heldBy(base *archive.Meta) (held func(dg string) (archive.Blob, bool), done func() error) {
	var err error
	if !base.Sorted() {
		m := map[string]archive.Blob{}
		for b, berr := range base.EachBlob() {
			if berr != nil {
				err = berr
				break
			}
			m[b.Digest] = b
		}
		return func(dg string) (archive.Blob, bool) { b, ok := m[dg]; return b, ok }, func() error { return err }
	}
	next, stop := iter.Pull2(base.EachBlob())
	var cur archive.Blob
	more := true
	advance := func() {
		var berr error
		if cur, berr, more = next(); more && berr != nil {
			err, more = berr, false
		}
	}
	advance()
	held = func(dg string) (archive.Blob, bool) {
		for more && strings.Compare(cur.Digest, dg) < 0 {
			advance()
		}
		return cur, more && cur.Digest == dg
	}
	return held, func() error { stop(); return err }
}
