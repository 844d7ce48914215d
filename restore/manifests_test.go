package restore

import (
	"runtime"
	"testing"

	"github.com/regbackup/regbackup/archive"
)

// A manifest graph gives back every manifest's references and media type
// across blocks, one of more references than a block holds too, sorted
// when added out of order, the last of a digest listed twice counting.
func TestManifestGraphBlocks(t *testing.T) {
	for _, sorted := range []bool{true, false} {
		var g manifestGraph
		const n = graphBlock + 50
		refsOf := func(i int) []string {
			switch {
			case i == 7:
				refs := make([]string, graphBlock+3)
				for j := range refs {
					refs[j] = testDigest(1<<30 + j)
				}
				return refs
			case i%5 == 0:
				return nil
			}
			return []string{testDigest(1<<29 + 2*i), "sha512:skipped", testDigest(1<<29 + 2*i + 1)}
		}
		add := func(i int) {
			g.add(&archive.Manifest{Digest: testDigest(i), MediaType: []string{"a", "b"}[i%2], References: refsOf(i)})
		}
		if !sorted {
			// The first record of 9 is wrong: the last counts.
			g.add(&archive.Manifest{Digest: testDigest(9), MediaType: "wrong", References: []string{testDigest(1)}})
			for i := n - 1; i >= 0; i-- {
				add(i)
			}
		} else {
			for i := range n {
				add(i)
			}
		}
		g.finish()
		if g.n != n {
			t.Fatalf("sorted %v: %d manifests, want %d", sorted, g.n, n)
		}
		for i := range n {
			sum, _ := archive.ParseSum(testDigest(i))
			m := g.find(sum)
			if m == nil {
				t.Fatalf("sorted %v: manifest %d not found", sorted, i)
			}
			want := refsOf(i)
			if len(want) == 3 {
				want = []string{want[0], want[2]}
			}
			got := g.references(m)
			if len(got) != len(want) || g.mediaTypeOf(m) != []string{"a", "b"}[i%2] {
				t.Fatalf("sorted %v: manifest %d: %d references of type %s, want %d", sorted, i, len(got), g.mediaTypeOf(m), len(want))
			}
			for j := range got {
				if archive.SumDigest(got[j]) != want[j] {
					t.Fatalf("sorted %v: manifest %d reference %d: %s, want %s", sorted, i, j, archive.SumDigest(got[j]), want[j])
				}
			}
		}
	}
}

// A graph holds a manifest of two references in at most 112 bytes (44 of
// node, 64 of references): a million tags' in about 110 MB.
func TestManifestGraphMemory(t *testing.T) {
	const n = 4 * graphBlock
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	ms := make([]archive.Manifest, 1000)
	before := heap()
	var g manifestGraph
	for i := range n {
		m := &ms[i%len(ms)]
		*m = archive.Manifest{Digest: testDigest(i), MediaType: "application/vnd.oci.image.manifest.v1+json",
			References: []string{testDigest(1<<29 + 2*i), testDigest(1<<29 + 2*i + 1)}}
		g.add(m)
	}
	g.finish()
	ms = nil
	per := float64(heap()-before) / n
	runtime.KeepAlive(&g)
	t.Logf("%.1f bytes a manifest of two references", per)
	if per > 112 {
		t.Errorf("the graph takes %.1f bytes a manifest, want at most 112", per)
	}
}
