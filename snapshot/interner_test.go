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
	key := func(i int) string { return fmt.Sprintf("sha256:%064x", i*7919) }
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
