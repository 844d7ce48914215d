package snapshot

import (
	"hash/maphash"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"unsafe"
)

// interner hands out one string for equal strings: the digests of a
// registry are named by many links and manifests each (a layer by its
// _layers link, by each manifest listing it and as a key of Present), a
// repository's name by each of its links, a tag's by two. It also hands
// out a handle, 4 bytes, that stands for the string (see Link). Safe for
// concurrent use.
//
// A million tags make some three million digests, so the strings are not
// allocated one by one (80 bytes for a 71-byte digest) nor found again
// through a map (about 50 bytes an entry): they are packed into large
// chunks of bytes, never written again once handed out, and found through
// an open-addressed table of handles (4 bytes a slot, at most 3/4 full),
// which freeze lets go of once every string is in. Chunks and the pages
// of places never move, so that a handle is read without the lock.
type interner struct {
	mu    sync.Mutex
	seed  maphash.Seed
	table []handle // len a power of two; 0 is empty; nil once frozen
	n     int      // strings placed: handles 1 to n

	chunk []byte              // the chunk being filled
	last  int                 // its index in bases
	bases [internChunks]*byte // every chunk's first byte
	pages [internPages][]place
}

// handle stands for a string its interner placed; 0 for "".
type handle uint32

// place is where a string is: chunk<<40 | offset<<16 | length.
type place uint64

const (
	internMaxLen    = 1<<16 - 1 // longer strings are copied, not placed
	internMaxChunk  = 1 << 24   // a chunk's most bytes: offsets have 24 bits
	internFirstSize = 64 << 10  // the first chunk's: a small snapshot stays small
	internChunks    = 1 << 12   // chunks at most: 64 GiB of strings
	internPage0     = 1 << 10   // places in the first page; page p holds internPage0<<p
	internPages     = 23        // pages: 2^32 handles
)

func newInterner() *interner {
	return &interner{seed: maphash.MakeSeed(), table: make([]handle, 1024), last: -1}
}

// get returns the string equal to s that get returned first, copying s
// the first time (so that it does not keep alive what it was cut from).
// A nil or frozen interner returns a copy.
func (in *interner) get(s string) string {
	if in == nil || s == "" || len(s) > internMaxLen || in.frozen() {
		return strings.Clone(s)
	}
	return in.str(in.put(s))
}

// put is the handle of s, placing s the first time. s must be at most
// internMaxLen bytes, and the interner not frozen.
func (in *interner) put(s string) handle {
	if s == "" {
		return 0
	}
	if len(s) > internMaxLen {
		panic("interner: string too long")
	}
	h := maphash.String(in.seed, s)
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.table == nil {
		panic("interner: put after freeze")
	}
	i, found := in.lookup(h, s)
	if found {
		return in.table[i]
	}
	in.n++
	hd := handle(in.n)
	p, off := page(hd)
	if in.pages[p] == nil {
		in.pages[p] = make([]place, internPage0<<p)
	}
	in.pages[p][off] = in.add(s)
	in.table[i] = hd
	if in.n*4 > len(in.table)*3 {
		in.grow()
	}
	return hd
}

// find is the handle of s, if placed; false when frozen (or nil).
func (in *interner) find(s string) (handle, bool) {
	if s == "" {
		return 0, true
	}
	if in == nil || len(s) > internMaxLen {
		return 0, false
	}
	h := maphash.String(in.seed, s)
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.table == nil {
		return 0, false
	}
	if i, found := in.lookup(h, s); found {
		return in.table[i], true
	}
	return 0, false
}

// lookup is the table slot of s (hash h): where it is, or the empty slot
// it would go in. Called with mu held.
func (in *interner) lookup(h uint64, s string) (int, bool) {
	mask := uint64(len(in.table) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		hd := in.table[i]
		if hd == 0 {
			return int(i), false
		}
		if in.str(hd) == s {
			return int(i), true
		}
	}
}

// frozen reports whether freeze was called.
func (in *interner) frozen() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.table == nil
}

// freeze lets go of the table that finds strings: what was placed stays,
// and so does every handle, but nothing more is placed (get copies, find
// finds nothing).
func (in *interner) freeze() {
	if in == nil {
		return
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.table, in.chunk = nil, nil
}

// handleSet is a set of handles, a bit each: the digests a million tags
// name, some seven million times, are half a MB of bits where a list of
// them with repeats would be thirty.
type handleSet []uint64

func (hs *handleSet) add(h handle) {
	if w := int(h / 64); w >= len(*hs) {
		*hs = append(*hs, make([]uint64, w+1-len(*hs))...)
	}
	(*hs)[h/64] |= 1 << (h % 64)
}

// sorted are the handles in set, sorted by the strings they stand for.
func (in *interner) sorted(set handleSet) []handle {
	n := 0
	for _, w := range set {
		n += bits.OnesCount64(w)
	}
	out := make([]handle, 0, n)
	for i, w := range set {
		for ; w != 0; w &= w - 1 {
			out = append(out, handle(i*64+bits.TrailingZeros64(w)))
		}
	}
	slices.SortFunc(out, func(a, b handle) int { return strings.Compare(in.str(a), in.str(b)) })
	return out
}

// str is the string h stands for.
func (in *interner) str(h handle) string {
	if h == 0 {
		return ""
	}
	p, off := page(h)
	pl := in.pages[p][off]
	c, o, n := pl>>40, uintptr(pl>>16)&(internMaxChunk-1), int(pl&internMaxLen)
	return unsafe.String((*byte)(unsafe.Add(unsafe.Pointer(in.bases[c]), o)), n)
}

// page is where handle h's place is kept: page p, offset off.
func page(h handle) (p, off int) {
	x := uint64(h) - 1 + internPage0
	p = bits.Len64(x) - bits.Len64(internPage0)
	return p, int(x - internPage0<<p)
}

// add copies s into the chunk being filled (a new one when it is full)
// and returns its place. Called with mu held.
func (in *interner) add(s string) place {
	if cap(in.chunk)-len(in.chunk) < len(s) {
		size := internFirstSize
		if in.last >= 0 {
			size = min(2*cap(in.chunk), internMaxChunk)
		}
		size = max(size, len(s))
		in.last++
		if in.last == internChunks {
			panic("interner: full")
		}
		in.chunk = make([]byte, 0, size)
		in.bases[in.last] = unsafe.SliceData(in.chunk)
	}
	off := len(in.chunk)
	in.chunk = append(in.chunk, s...)
	return place(in.last)<<40 | place(off)<<16 | place(len(s))
}

// grow doubles the table. Called with mu held.
func (in *interner) grow() {
	old := in.table
	in.table = make([]handle, 2*len(old))
	mask := uint64(len(in.table) - 1)
	for _, hd := range old {
		if hd == 0 {
			continue
		}
		i := maphash.String(in.seed, in.str(hd)) & mask
		for in.table[i] != 0 {
			i = (i + 1) & mask
		}
		in.table[i] = hd
	}
}
