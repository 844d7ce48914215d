package restore

import (
	"bytes"
	"slices"
	"sort"

	"github.com/regbackup/regbackup/archive"
)

// manifestGraph is what a filtered restore and a listing keep of the
// catalog's manifests: each one's digest, media type and references, as
// 32-byte digests in blocks that never grow by copying (some 108 bytes a
// manifest of two references, a third of what the decoded archive.Manifest
// takes). It is built once (add, then finish) and then only read.
//
// A manifest or a reference whose digest is not a sha256 digest is left
// out: no blob of an archive can have it, so it has no size and names
// nothing a restore writes.
type manifestGraph struct {
	nodes    [][]manifestNode // blocks of graphBlock nodes, sorted by digest once finished
	n        int
	unsorted bool              // a node was added out of order
	refs     [][][32]byte      // blocks of graphBlock references (one of a manifest of more: its own)
	types    []string          // media types; manifestNode.mediaType indexes it
	ids      map[string]uint32 // media type -> index in types
}

// graphBlock is how many nodes, and references, one block holds.
const graphBlock = 1 << 16

type manifestNode struct {
	sum       [32]byte
	ref, n    uint32 // its references: refs[ref>>16][ref&0xffff:][:n]
	mediaType uint32
}

// add adds one manifest of the catalog.
func (g *manifestGraph) add(m *archive.Manifest) {
	sum, ok := archive.ParseSum(m.Digest)
	if !ok {
		return
	}
	if g.ids == nil {
		g.ids = map[string]uint32{}
	}
	id, ok := g.ids[m.MediaType]
	if !ok {
		id = uint32(len(g.types))
		g.types = append(g.types, m.MediaType)
		g.ids[m.MediaType] = id
	}
	n := manifestNode{sum: sum, mediaType: id}
	refs := 0
	for _, r := range m.References {
		if archive.ValidDigest(r) {
			refs++
		}
	}
	// A block is full when the next manifest's references do not fit;
	// one of more than a block's worth gets a block of its own.
	if last := len(g.refs) - 1; last < 0 || len(g.refs[last])+refs > graphBlock {
		var block [][32]byte // grown by append up to graphBlock: a small catalog takes little
		if refs > graphBlock {
			block = make([][32]byte, 0, refs)
		}
		g.refs = append(g.refs, block)
	}
	last := len(g.refs) - 1
	g.refs[last] = grow(g.refs[last], refs)
	n.ref = uint32(last)<<16 | uint32(len(g.refs[last]))
	for _, r := range m.References {
		if rs, ok := archive.ParseSum(r); ok {
			g.refs[last] = append(g.refs[last], rs)
			n.n++
		}
	}
	if g.n > 0 {
		prev := g.node(g.n - 1)
		if bytes.Compare(prev.sum[:], sum[:]) >= 0 {
			g.unsorted = true
		}
	}
	g.push(n)
}

// push appends n to the nodes.
func (g *manifestGraph) push(n manifestNode) {
	if g.n%graphBlock == 0 {
		g.nodes = append(g.nodes, nil) // grown by append up to graphBlock
	}
	last := &g.nodes[len(g.nodes)-1]
	*last = append(grow(*last, 1), n)
	g.n++
}

// grow makes room for k more elements in a block, doubling it up to
// graphBlock, never past (unless k alone is more): append's own growth
// would leave a full block a quarter empty.
func grow[T any](b []T, k int) []T {
	if len(b)+k <= cap(b) {
		return b
	}
	nb := make([]T, len(b), max(min(2*cap(b), graphBlock), len(b)+k, 64))
	copy(nb, b)
	return nb
}

// node is node i.
func (g *manifestGraph) node(i int) *manifestNode { return &g.nodes[i/graphBlock][i%graphBlock] }

// finish sorts the manifests by digest; of a digest listed twice the last
// counts, as it did when they were a map. A catalog lists them sorted:
// only one written otherwise is joined and sorted.
func (g *manifestGraph) finish() {
	if !g.unsorted {
		return
	}
	all := make([]manifestNode, 0, g.n)
	for _, b := range g.nodes {
		all = append(all, b...)
	}
	slices.SortStableFunc(all, func(a, b manifestNode) int { return bytes.Compare(a.sum[:], b.sum[:]) })
	g.nodes, g.n, g.unsorted = nil, 0, false
	for i, n := range all {
		if i+1 < len(all) && all[i+1].sum == n.sum {
			continue
		}
		g.push(n)
	}
}

// find returns the manifest of digest sum, or nil.
func (g *manifestGraph) find(sum [32]byte) *manifestNode {
	if i := g.index(sum); i >= 0 {
		return g.node(i)
	}
	return nil
}

// index is the number of the manifest of digest sum (see node), or -1.
func (g *manifestGraph) index(sum [32]byte) int {
	i := sort.Search(g.n, func(i int) bool { return bytes.Compare(g.node(i).sum[:], sum[:]) >= 0 })
	if i < g.n && g.node(i).sum == sum {
		return i
	}
	return -1
}

// references are the digests manifest n references.
func (g *manifestGraph) references(n *manifestNode) [][32]byte {
	off := n.ref & 0xffff
	return g.refs[n.ref>>16][off : off+n.n]
}

// mediaTypeOf is the media type of manifest n.
func (g *manifestGraph) mediaTypeOf(n *manifestNode) string { return g.types[n.mediaType] }

// closure calls fn once for every digest reachable from root: root itself,
// and, when it is a manifest, what it references, recursively (an index's
// child manifests and theirs). seen holds what was already visited, across
// calls.
func (g *manifestGraph) closure(root [32]byte, seen map[[32]byte]struct{}, fn func([32]byte)) {
	stack := [][32]byte{root}
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if _, ok := seen[d]; ok {
			continue
		}
		seen[d] = struct{}{}
		fn(d)
		if n := g.find(d); n != nil {
			refs := g.references(n)
			for i := len(refs) - 1; i >= 0; i-- {
				stack = append(stack, refs[i])
			}
		}
	}
}
