package spill

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"
)

func key(i uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], i)
	s := sha256.Sum256(b[:])
	return s[:]
}

// A million 32-byte digests (32 MB) in a KeySet built in 2 MiB: the heap
// holds the index (1/256 of the keys) and one block, every key added is
// found and others are not.
func TestKeySetMemoryAndLookups(t *testing.T) {
	const n = 1_000_000
	b := NewKeySetBuilder(t.TempDir(), 32, 2<<20)
	base := heapInUse()
	for i := range uint64(n) {
		if err := b.Add(key(i)); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 { // repeats count once
			b.Add(key(i))
		}
	}
	ks, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	if ks.Len() != n {
		t.Errorf("Len = %d, want %d", ks.Len(), n)
	}
	if used := heapInUse(); used > base+8<<20 {
		t.Errorf("the set holds %d MiB of heap, want under 8 MiB more than the %d MiB before", (used-base)>>20, base>>20)
	}
	for i := uint64(0); i < n; i += 997 {
		if ok, err := ks.Has(key(i)); !ok || err != nil {
			t.Fatalf("key %d not found (%v)", i, err)
		}
		if ok, _ := ks.Has(key(i + n)); ok {
			t.Fatalf("key %d found, never added", i+n)
		}
	}
	if ok, _ := ks.Has([]byte("short")); ok {
		t.Error("a key of the wrong width found")
	}
}
