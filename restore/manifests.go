package restore

import (
	"bytes"
	"slices"

	"github.com/regbackup/regbackup/archive"
)

// manifestGraph is what a filtered restore and a listing keep of the
// catalog's manifests: each one's digest, media type and references, as
// 32-byte digests in shared slices (some 140 bytes a manifest of three
// references, a third of what the decoded archive.Manifest takes). It is
// built once (add, then finish) and then only read.
//
// A manifest or a reference whose digest is not a sha256 digest is left
// out: no blob of an archive can have it, so it has no size and names
// nothing a restore writes.
type manifestGraph struct {
	nodes []manifestNode
	refs  [][32]byte
	types []string          // media types; manifestNode.mediaType indexes it
	ids   map[string]uint32 // media type -> index in types
}

type manifestNode struct {
	sum       [32]byte
	start, n  uint32 // its references: refs[start : start+n]
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
	n := manifestNode{sum: sum, start: uint32(len(g.refs)), mediaType: id}
	for _, r := range m.References {
		if rs, ok := archive.ParseSum(r); ok {
			g.refs = append(g.refs, rs)
			n.n++
		}
	}
	g.nodes = append(g.nodes, n)
}

// finish sorts the manifests by digest; of a digest listed twice the last
// counts, as it did when they were a map.
func (g *manifestGraph) finish() {
	slices.SortStableFunc(g.nodes, func(a, b manifestNode) int { return bytes.Compare(a.sum[:], b.sum[:]) })
	out := g.nodes[:0]
	for i, n := range g.nodes {
		if i+1 < len(g.nodes) && g.nodes[i+1].sum == n.sum {
			continue
		}
		out = append(out, n)
	}
	g.nodes = slices.Clip(out)
}

// find returns the manifest of digest sum, or nil.
func (g *manifestGraph) find(sum [32]byte) *manifestNode {
	i, ok := slices.BinarySearchFunc(g.nodes, sum, func(n manifestNode, s [32]byte) int { return bytes.Compare(n.sum[:], s[:]) })
	if !ok {
		return nil
	}
	return &g.nodes[i]
}

// references are the digests manifest n references.
func (g *manifestGraph) references(n *manifestNode) [][32]byte {
	return g.refs[n.start : n.start+n.n]
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
