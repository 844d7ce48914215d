package spill

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
)

// keysPerBlock is how many keys share one entry of a KeySet's index: a
// lookup reads one block of them (8 KiB for 32-byte keys).
const keysPerBlock = 256

// KeySet is a set of keys of one width (a digest's 32 bytes, say), built
// once and then queried in any order: the keys sorted and deduplicated in
// a file, and in memory only the first key of every block of
// keysPerBlock (1/256 of the keys: 375 KB for three million digests).
// Has reads one block with ReadAt; the page cache keeps the hot ones.
type KeySet struct {
	width int
	f     *os.File
	n     int64
	index [][]byte // first key of each block
	block []byte
}

// KeySetBuilder collects the keys of a KeySet in a Sorter.
type KeySetBuilder struct {
	width int
	dir   string
	s     *Sorter
}

// NewKeySetBuilder starts a set of keys of width bytes, sorted in at most
// about memory bytes (see NewSorter), its files in dir.
func NewKeySetBuilder(dir string, width, memory int) *KeySetBuilder {
	return &KeySetBuilder{width: width, dir: dir, s: NewSorter(dir, memory)}
}

// Add adds key, which must be width bytes long.
func (b *KeySetBuilder) Add(key []byte) error {
	if len(key) != b.width {
		return fmt.Errorf("spill: key of %d bytes in a set of %d-byte keys", len(key), b.width)
	}
	return b.s.Add(key)
}

// Build sorts the keys into the set's file. The builder is then spent.
func (b *KeySetBuilder) Build() (*KeySet, error) {
	defer b.s.Close()
	it, err := b.s.Sort(true)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(b.dir, "regbackup-keyset-*")
	if err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	ks := &KeySet{width: b.width, f: f, block: make([]byte, b.width*keysPerBlock)}
	w := bufio.NewWriterSize(f, 256<<10)
	for it.Next() {
		k := it.Record()
		if ks.n%keysPerBlock == 0 {
			ks.index = append(ks.index, slices.Clone(k))
		}
		if _, err := w.Write(k); err != nil {
			ks.Close()
			return nil, fmt.Errorf("spill: write %s: %w", f.Name(), err)
		}
		ks.n++
	}
	if err := it.Err(); err != nil {
		ks.Close()
		return nil, err
	}
	if err := w.Flush(); err != nil {
		ks.Close()
		return nil, fmt.Errorf("spill: write %s: %w", f.Name(), err)
	}
	return ks, nil
}

// Close removes the builder's files without building the set (a run
// that failed before it was needed). The builder is then spent.
func (b *KeySetBuilder) Close() error { return b.s.Close() }

// Len is the number of distinct keys.
func (ks *KeySet) Len() int64 { return ks.n }

// Has reports whether key is in the set.
func (ks *KeySet) Has(key []byte) (bool, error) {
	if len(key) != ks.width || ks.n == 0 {
		return false, nil
	}
	// The last block whose first key is <= key.
	i, found := slices.BinarySearchFunc(ks.index, key, bytes.Compare)
	if found {
		return true, nil
	}
	if i == 0 {
		return false, nil
	}
	i--
	start := int64(i) * keysPerBlock
	cnt := min(int64(keysPerBlock), ks.n-start)
	blk := ks.block[:cnt*int64(ks.width)]
	if _, err := ks.f.ReadAt(blk, start*int64(ks.width)); err != nil {
		return false, fmt.Errorf("spill: read %s: %w", ks.f.Name(), err)
	}
	lo, hi := 0, int(cnt)
	for lo < hi {
		m := (lo + hi) / 2
		switch c := bytes.Compare(blk[m*ks.width:(m+1)*ks.width], key); {
		case c == 0:
			return true, nil
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return false, nil
}

// Close removes the set's file.
func (ks *KeySet) Close() error {
	if ks.f == nil {
		return nil
	}
	ks.f.Close()
	err := os.Remove(ks.f.Name())
	ks.f = nil
	if err != nil {
		return fmt.Errorf("spill: %w", err)
	}
	return nil
}
