package snapshot

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The interner gives back, for every string, an equal one, the same one
// for equal strings, through chunk changes and table growth, from many
// goroutines at once; a string too long to place is copied.
func TestInterner(t *testing.T) {
	in := newInterner()
	const n = 200000 // several chunks, the table doubled many times
	key := func(i int) string { return fmt.Sprintf("library/repository-%012d", i*7919) }
	first := make([]string, n)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < n; i += 4 {
				first[i] = in.get(key(i))
			}
		})
	}
	wg.Wait()
	if in.last < 1 {
		t.Errorf("%d chunks for %d strings: the test does not cross a chunk", in.last+1, n)
	}
	for i := range n {
		again := in.get(strings.Clone(key(i)))
		if again != key(i) || first[i] != key(i) {
			t.Fatalf("get(%s) = %s then %s", key(i), first[i], again)
		}
		if !sameString(again, first[i]) {
			t.Fatalf("get(%s) gave two copies", key(i))
		}
	}
	if in.n != n {
		t.Errorf("%d strings placed, want %d", in.n, n)
	}
	long := strings.Repeat("x", internMaxLen+1)
	if got := in.get(long); got != long || sameString(got, long) {
		t.Errorf("a string over internMaxLen is not given back as a copy")
	}
	if got := in.get(""); got != "" {
		t.Errorf("get(\"\") = %q", got)
	}
	var none *interner
	if got := none.get("a"); got != "a" {
		t.Errorf("a nil interner's get(a) = %q", got)
	}
}

// A digest is kept as its 32 bytes: the same handle for equal digests,
// its text made again, in the digests' order; an uppercase or shorter
// "digest" is a string like any other.
func TestInternerDigests(t *testing.T) {
	in := newInterner()
	const n = 3 * digestPage // several pages
	key := func(i int) string { return fmt.Sprintf("sha256:%064x", i*7919) }
	hs := make([]handle, n)
	for i := range n {
		hs[i] = in.put(key(i))
		if !hs[i].isDigest() {
			t.Fatalf("%s: not kept as a digest", key(i))
		}
	}
	for i := range n {
		if h := in.put(strings.Clone(key(i))); h != hs[i] {
			t.Fatalf("put(%s) again = %x, want %x", key(i), h, hs[i])
		}
		if got := in.str(hs[i]); got != key(i) {
			t.Fatalf("str = %s, want %s", got, key(i))
		}
	}
	if in.nd != n || in.n != 0 {
		t.Errorf("%d digests and %d strings placed, want %d and 0", in.nd, in.n, n)
	}
	for _, s := range []string{"sha256:" + strings.Repeat("A", 64), "sha256:abc", "sha512:" + strings.Repeat("a", 128), "sha256:" + strings.Repeat("g", 64)} {
		h := in.put(s)
		if h.isDigest() || in.str(h) != s {
			t.Errorf("put(%s) = %x (%s)", s, h, in.str(h))
		}
		var buf [digestLen]byte
		for _, o := range hs[:100] {
			if got, want := in.compare(h, o), strings.Compare(s, in.str(o)); got != want {
				t.Fatalf("compare(%s, %s) = %d, want %d", s, in.str(o), got, want)
			}
			if got, want := in.compareTo(o, s), strings.Compare(in.text(o, &buf), s); got != want {
				t.Fatalf("compareTo(%s, %s) = %d, want %d", in.str(o), s, got, want)
			}
		}
	}
	for i := 1; i < 1000; i++ {
		if got, want := in.compare(hs[i-1], hs[i]), strings.Compare(key(i-1), key(i)); got != want {
			t.Fatalf("compare(%s, %s) = %d, want %d", key(i-1), key(i), got, want)
		}
	}
	in.freeze()
	if got := in.str(hs[n-1]); got != key(n-1) {
		t.Errorf("after freeze, str = %s, want %s", got, key(n-1))
	}
}

// Comparing a digest's text does not allocate: sorting millions of links
// by path would otherwise make a string a comparison.
func TestInternerCompareDoesNotAllocate(t *testing.T) {
	in := newInterner()
	a, b := in.put("sha256:"+strings.Repeat("1", 64)), in.put("sha256:"+strings.Repeat("2", 64))
	r := in.put("library/a")
	allocs := testing.AllocsPerRun(100, func() {
		_ = in.compare(a, b) + in.compare(a, r) + in.compareTo(b, "sha256:3")
	})
	if allocs != 0 {
		t.Errorf("%v allocations a comparison", allocs)
	}
}

// A handle stands for its string, after freeze too; a frozen interner
// places nothing more.
func TestInternerHandles(t *testing.T) {
	in := newInterner()
	var hs []handle
	for i := range 5000 {
		hs = append(hs, in.put(fmt.Sprint("repo/", i)))
	}
	if h, ok := in.find("repo/42"); !ok || h != hs[42] {
		t.Errorf("find(repo/42) = %d, %v; want %d", h, ok, hs[42])
	}
	if _, ok := in.find("repo/none"); ok {
		t.Errorf("find found a string never placed")
	}
	in.freeze()
	for i, h := range hs {
		if got, want := in.str(h), fmt.Sprint("repo/", i); got != want {
			t.Fatalf("after freeze, handle %d is %q, want %q", h, got, want)
		}
	}
	if _, ok := in.find("repo/42"); ok {
		t.Errorf("a frozen interner still finds")
	}
	if got := in.get("repo/42"); got != "repo/42" {
		t.Errorf("a frozen interner's get = %q", got)
	}
	if in.str(0) != "" {
		t.Errorf("handle 0 is not the empty string")
	}
}

// A handleSet holds each handle once, and sorted gives them by string.
func TestHandleSet(t *testing.T) {
	in := newInterner()
	var set handleSet
	var want []string
	for i := 999; i >= 0; i-- {
		s := fmt.Sprintf("sha256:%064x", i*7919%1000)
		set.add(in.put(s))
		set.add(in.put(s)) // a repeat
		want = append(want, s)
	}
	slices.Sort(want)
	var got []string
	for _, h := range in.sorted(set) {
		got = append(got, in.str(h))
	}
	if !slices.Equal(got, want) {
		t.Errorf("sorted gives %d strings, want %d, in order", len(got), len(want))
	}
}

// Placing and finding a digest allocates nothing: a snapshot of a million
// tags looks five million of them up.
func TestInternerPutDoesNotAllocate(t *testing.T) {
	in := newInterner()
	dg := "sha256:" + strings.Repeat("ab", 32)
	in.put(dg)
	if allocs := testing.AllocsPerRun(100, func() { in.put(dg); in.find(dg) }); allocs != 0 {
		t.Errorf("%v allocations a put and a find of a digest placed", allocs)
	}
	if d, ok := parseSum(dg); !ok || d[0] != 0xab || d[31] != 0xab {
		t.Errorf("parseSum(%s) = %x, %v", dg, d, ok)
	}
}
