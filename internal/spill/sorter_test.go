package spill

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"testing"
)

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// record i: an 8-byte key that sorts as i does, then a payload.
func record(buf []byte, i uint64) []byte {
	buf = binary.BigEndian.AppendUint64(buf[:0], i)
	return append(buf, "payload: a link path of about the usual length/_manifests/tags"...)
}

// A million records (75 MB) sort in 4 MiB of records: the heap stays
// within a few MiB of where it started, the runs are many, and the output
// is every record in order.
func TestSorterStaysWithinItsMemory(t *testing.T) {
	const n = 1_000_000
	const memory = 4 << 20
	dir := t.TempDir()
	s := NewSorter(dir, memory)
	defer s.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	perm := rng.Perm(n)
	base := heapInUse()
	var buf []byte
	var peak uint64
	for k, i := range perm {
		if err := s.Add(record(buf, uint64(i))); err != nil {
			t.Fatal(err)
		}
		if k%250_000 == 0 {
			peak = max(peak, heapInUse())
		}
	}
	if s.Runs() < 15 {
		t.Errorf("%d runs; 75 MB in 4 MiB should make about 20", s.Runs())
	}
	it, err := s.Sort(false)
	if err != nil {
		t.Fatal(err)
	}
	var want uint64
	for it.Next() {
		if got := binary.BigEndian.Uint64(it.Record()); got != want {
			t.Fatalf("record %d is %d", want, got)
		}
		if want%250_000 == 0 {
			peak = max(peak, heapInUse())
		}
		want++
	}
	if it.Err() != nil || want != n {
		t.Fatalf("got %d records, err %v", want, it.Err())
	}
	// The arena and its index (4 MiB), the runs' read buffers (32 KiB
	// each), and slack for garbage not yet collected.
	if limit := base + 2*memory + uint64(s.Runs())*2*runBuffer; peak > limit {
		t.Errorf("heap reached %d MiB, over %d MiB (started at %d MiB)", peak>>20, limit>>20, base>>20)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("Close left %d files", len(left))
	}
}

// Unique drops repeats, across runs and within one; equal records keep
// the order they were added in.
func TestSorterUniqueAndStable(t *testing.T) {
	s := NewSorter(t.TempDir(), 64)
	defer s.Close()
	in := []string{"b1", "a2", "b1", "c", "a1", "b2", "a1", "c"}
	for _, r := range in {
		if err := s.Add([]byte(r)); err != nil {
			t.Fatal(err)
		}
	}
	it, err := s.Sort(true)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for it.Next() {
		got = append(got, string(it.Record()))
	}
	if want := []string{"a1", "a2", "b1", "b2", "c"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestSorterInMemoryOnly(t *testing.T) {
	s := NewSorter(t.TempDir(), 0)
	defer s.Close()
	for _, r := range []string{"z", "", "m"} {
		s.Add([]byte(r))
	}
	it, _ := s.Sort(false)
	var got [][]byte
	for it.Next() {
		got = append(got, bytes.Clone(it.Record()))
	}
	if s.Runs() != 0 || len(got) != 3 || string(got[0]) != "" || string(got[2]) != "z" {
		t.Errorf("runs %d, got %q", s.Runs(), got)
	}
}
