package snapshot

import (
	"bytes"
	"encoding/hex"
	"hash/maphash"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"sync"
	"unsafe"

	"github.com/regbackup/regbackup/archive"
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
// through a map (about 50 bytes an entry). A digest ("sha256:" and 64
// lowercase hex digits: every digest archive.ValidDigest accepts) is kept
// as its 32 bytes, in pages of digestPage, and its handle has digestBit
// set; str makes its text when asked, text without allocating. Other
// strings (repository and tag names, media types, odd paths) are packed
// into large chunks of bytes, never written again once handed out. Both
// are found through one open-addressed table of handles (4 bytes a slot,
// at most 3/4 full), which freeze lets go of once every string is in.
// Chunks and pages never move, so that a handle is read without the lock.
type interner struct {
	mu    sync.Mutex
	seed  maphash.Seed
	table []handle // len a power of two; 0 is empty; nil once frozen
	n     int      // strings placed: handles 1 to n
	nd    int      // digests placed: handles digestBit|1 to digestBit|nd

	chunk   []byte              // the chunk being filled
	last    int                 // its index in bases
	bases   [internChunks]*byte // every chunk's first byte
	pages   [internPages][]place
	digests [digestPages]*[digestPage]sum
}

// handle stands for a string its interner placed; 0 for "".
type handle uint32

// digestBit marks the handle of a digest: the rest is its index, from 1.
const digestBit handle = 1 << 31

func (h handle) isDigest() bool { return h&digestBit != 0 }

// index is a digest handle's index, from 1.
func (h handle) index() int { return int(h &^ digestBit) }

// sum is a sha256 digest's 32 bytes.
type sum [32]byte

// digestLen is the length of a digest's text: "sha256:" and 64 hex digits.
const digestLen = len("sha256:") + 64

const (
	digestPage  = 1 << 16 // digests a page: 2 MiB
	digestPages = 1 << 15 // pages: 2^31 digests
)

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
	d, isDigest := parseSum(s)
	h := in.hash(s, &d, isDigest)
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.table == nil {
		panic("interner: put after freeze")
	}
	i, found := in.lookup(h, s, &d, isDigest)
	if found {
		return in.table[i]
	}
	var hd handle
	if isDigest {
		in.nd++
		hd = digestBit | handle(in.nd)
		p, off := in.nd/digestPage, in.nd%digestPage
		if in.digests[p] == nil {
			in.digests[p] = new([digestPage]sum)
		}
		in.digests[p][off] = d
	} else {
		in.n++
		hd = handle(in.n)
		p, off := page(hd)
		if in.pages[p] == nil {
			in.pages[p] = make([]place, internPage0<<p)
		}
		in.pages[p][off] = in.add(s)
	}
	in.table[i] = hd
	if (in.n+in.nd)*4 > len(in.table)*3 {
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
	d, isDigest := parseSum(s)
	h := in.hash(s, &d, isDigest)
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.table == nil {
		return 0, false
	}
	if i, found := in.lookup(h, s, &d, isDigest); found {
		return in.table[i], true
	}
	return 0, false
}

// hash is the table hash of s: of its 32 bytes d when it is a digest.
func (in *interner) hash(s string, d *sum, isDigest bool) uint64 {
	if isDigest {
		return maphash.Bytes(in.seed, d[:])
	}
	return maphash.String(in.seed, s)
}

// lookup is the table slot of s (hash h; d its bytes when isDigest):
// where it is, or the empty slot it would go in. Called with mu held.
func (in *interner) lookup(h uint64, s string, d *sum, isDigest bool) (int, bool) {
	mask := uint64(len(in.table) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		hd := in.table[i]
		if hd == 0 {
			return int(i), false
		}
		if hd.isDigest() == isDigest && (isDigest && *in.sum(hd) == *d || !isDigest && in.plain(hd) == s) {
			return int(i), true
		}
	}
}

// parseSum is the 32 bytes of digest s, when s is a digest as
// archive.ValidDigest has it (lowercase hex only: an uppercase one is
// another string).
func parseSum(s string) (d sum, ok bool) {
	if !archive.ValidDigest(s) {
		return d, false
	}
	hexDigits := s[len("sha256:"):]
	for i := range d { // decoded here: hex.Decode would take a copy of s as []byte, an allocation a put
		d[i] = unhex(hexDigits[2*i])<<4 | unhex(hexDigits[2*i+1])
	}
	return d, true
}

// unhex is the value of lowercase hex digit c.
func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'a' + 10
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

// handleSet is a set of digest handles, a bit each: the digests a million
// tags name, some seven million times, are half a MB of bits where a list
// of them with repeats would be thirty.
type handleSet []uint64

func (hs *handleSet) add(h handle) {
	if !h.isDigest() {
		panic("snapshot: handleSet of a string that is no digest")
	}
	i := h.index()
	if w := i / 64; w >= len(*hs) {
		*hs = append(*hs, make([]uint64, w+1-len(*hs))...)
	}
	(*hs)[i/64] |= 1 << (i % 64)
}

// has reports whether the set holds h.
func (hs handleSet) has(h handle) bool {
	i := h.index()
	return h.isDigest() && i/64 < len(hs) && hs[i/64]&(1<<(i%64)) != 0
}

// sorted are the handles in set, sorted by the digests they stand for.
func (in *interner) sorted(set handleSet) []handle {
	n := 0
	for _, w := range set {
		n += bits.OnesCount64(w)
	}
	out := make([]handle, 0, n)
	for i, w := range set {
		for ; w != 0; w &= w - 1 {
			out = append(out, digestBit|handle(i*64+bits.TrailingZeros64(w)))
		}
	}
	slices.SortFunc(out, in.compare)
	return out
}

// str is the string h stands for: a digest's is made for the call.
func (in *interner) str(h handle) string {
	if h.isDigest() {
		buf := new([digestLen]byte)
		return in.text(h, buf)
	}
	return in.plain(h)
}

// text is the string h stands for, a digest's made in buf: for comparing
// without allocating (buf stays on the caller's stack when what text
// returns does not outlive it).
func (in *interner) text(h handle, buf *[digestLen]byte) string {
	if !h.isDigest() {
		return in.plain(h)
	}
	copy(buf[:], "sha256:")
	hex.Encode(buf[len("sha256:"):], in.sum(h)[:])
	return unsafe.String(&buf[0], digestLen)
}

// plain is the string h, no digest's handle, stands for.
func (in *interner) plain(h handle) string {
	if h == 0 {
		return ""
	}
	p, off := page(h)
	pl := in.pages[p][off]
	c, o, n := pl>>40, uintptr(pl>>16)&(internMaxChunk-1), int(pl&internMaxLen)
	return unsafe.String((*byte)(unsafe.Add(unsafe.Pointer(in.bases[c]), o)), n)
}

// sum is the 32 bytes of the digest h stands for.
func (in *interner) sum(h handle) *sum {
	i := h.index()
	return &in.digests[i/digestPage][i%digestPage]
}

// compare compares the strings a and b stand for, as strings.Compare.
func (in *interner) compare(a, b handle) int {
	if a.isDigest() && b.isDigest() { // hex keeps the bytes' order
		return bytes.Compare(in.sum(a)[:], in.sum(b)[:])
	}
	var ba, bb [digestLen]byte
	return compareStrings(in.text(a, &ba), in.text(b, &bb))
}

// compareTo compares the string h stands for with s, as strings.Compare.
func (in *interner) compareTo(h handle, s string) int {
	var buf [digestLen]byte
	return compareStrings(in.text(h, &buf), s)
}

// key is a string made ready to be compared with handles many times (a
// binary search): a digest's 32 bytes are compared with a digest's.
type key struct {
	s        string
	sum      sum
	isDigest bool
}

func makeKey(s string) key {
	k := key{s: s}
	k.sum, k.isDigest = parseSum(s)
	return k
}

// search is where the string s is, or would be, among the n handles at
// (sorted by the strings they stand for), and whether it is there.
func (in *interner) search(n int, at func(i int) handle, s string) (int, bool) {
	k := makeKey(s)
	i := sort.Search(n, func(i int) bool { return in.compareKey(at(i), &k) >= 0 })
	return i, i < n && in.compareKey(at(i), &k) == 0
}

// compareKey compares the string h stands for with k's, as
// strings.Compare.
func (in *interner) compareKey(h handle, k *key) int {
	if h.isDigest() && k.isDigest {
		return bytes.Compare(in.sum(h)[:], k.sum[:])
	}
	return in.compareTo(h, k.s)
}

// compareStrings is strings.Compare, whose arguments escape (it is
// assembly): with the comparison operators, a string made on the stack by
// text stays there.
func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
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
		var h uint64
		if hd.isDigest() {
			h = maphash.Bytes(in.seed, in.sum(hd)[:])
		} else {
			h = maphash.String(in.seed, in.plain(hd))
		}
		i := h & mask
		for in.table[i] != 0 {
			i = (i + 1) & mask
		}
		in.table[i] = hd
	}
}
