package spill

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// DefaultMemory is the memory a Sorter uses for records when NewSorter is
// given 0.
const DefaultMemory = 32 << 20

// runBuffer is the read buffer of each run while merging.
const runBuffer = 32 << 10

// Sorter sorts records of any number in bounded memory: Add copies each
// record into an arena; when the arena holds more than the memory given,
// it is sorted and written to a temporary file as a run. Sort merges the
// runs (and what is still in memory) into one sorted stream.
type Sorter struct {
	dir    string
	memory int
	arena  []byte
	offs   []int // record starts in arena; each record is stored as varint length + bytes
	runs   []*os.File
	n      int64
	sorted bool
}

// NewSorter returns a Sorter that keeps at most about memory bytes of
// records (and 8 bytes of index a record) in memory (DefaultMemory when 0) and writes runs in dir
// (os.TempDir() when "").
func NewSorter(dir string, memory int) *Sorter {
	if memory <= 0 {
		memory = DefaultMemory
	}
	return &Sorter{dir: dir, memory: memory}
}

// Len is the number of records added.
func (s *Sorter) Len() int64 { return s.n }

// Runs is the number of runs written to disk so far.
func (s *Sorter) Runs() int { return len(s.runs) }

// Add adds a copy of rec.
func (s *Sorter) Add(rec []byte) error {
	if s.sorted {
		return errors.New("spill: Add after Sort")
	}
	if len(s.arena)+8*len(s.offs)+len(rec)+binary.MaxVarintLen64 > s.memory && len(s.offs) > 0 {
		if err := s.flush(); err != nil {
			return err
		}
	}
	if s.arena == nil {
		s.arena = make([]byte, 0, s.memory)
	}
	s.offs = append(s.offs, len(s.arena))
	s.arena = binary.AppendUvarint(s.arena, uint64(len(rec)))
	s.arena = append(s.arena, rec...)
	s.n++
	return nil
}

func (s *Sorter) record(off int) []byte {
	n, k := binary.Uvarint(s.arena[off:])
	return s.arena[off+k : off+k+int(n)]
}

func (s *Sorter) sortMemory() {
	slices.SortStableFunc(s.offs, func(a, b int) int { return bytes.Compare(s.record(a), s.record(b)) })
}

// flush writes the records in memory as one sorted run.
func (s *Sorter) flush() error {
	s.sortMemory()
	f, err := os.CreateTemp(s.dir, "regbackup-spill-*")
	if err != nil {
		return fmt.Errorf("spill: %w", err)
	}
	s.runs = append(s.runs, f)
	w := bufio.NewWriterSize(f, 256<<10)
	for _, off := range s.offs {
		n, k := binary.Uvarint(s.arena[off:])
		if _, err := w.Write(s.arena[off : off+k+int(n)]); err != nil {
			return fmt.Errorf("spill: write %s: %w", f.Name(), err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("spill: write %s: %w", f.Name(), err)
	}
	s.arena, s.offs = s.arena[:0], s.offs[:0]
	return nil
}

// Sort ends the adding and returns the records in order (equal records in
// the order added when they were in the same run). With unique, of equal
// records only the first is returned. The Iterator is valid until Close.
func (s *Sorter) Sort(unique bool) (*Iterator, error) {
	if s.sorted {
		return nil, errors.New("spill: Sort called twice")
	}
	s.sorted = true
	it := &Iterator{unique: unique}
	if len(s.runs) == 0 {
		s.sortMemory()
		it.mem = s
		return it, nil
	}
	if len(s.offs) > 0 {
		if err := s.flush(); err != nil {
			return nil, err
		}
	}
	s.arena, s.offs = nil, nil
	for _, f := range s.runs {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("spill: %w", err)
		}
		r := &runReader{r: bufio.NewReaderSize(f, runBuffer), name: f.Name(), idx: len(it.h)}
		if r.next() {
			it.h = append(it.h, r)
		} else if r.err != nil {
			return nil, r.err
		}
	}
	heap.Init(&it.h)
	return it, nil
}

// Close removes the runs. The Sorter and its Iterator are then unusable.
func (s *Sorter) Close() error {
	var first error
	for _, f := range s.runs {
		f.Close()
		if err := os.Remove(f.Name()); err != nil && first == nil && !errors.Is(err, os.ErrNotExist) {
			first = fmt.Errorf("spill: %w", err)
		}
	}
	s.runs, s.arena, s.offs = nil, nil, nil
	return first
}

// Iterator walks a Sorter's records in order.
type Iterator struct {
	unique bool
	mem    *Sorter // all in memory: walk offs
	i      int
	h      runHeap
	cur    []byte
	prev   []byte
	have   bool
	err    error
}

// Next moves to the next record and reports whether there is one.
func (it *Iterator) Next() bool {
	for {
		if !it.step() {
			return false
		}
		if !it.unique || !it.have || !bytes.Equal(it.cur, it.prev) {
			it.have = true
			it.prev = append(it.prev[:0], it.cur...)
			return true
		}
	}
}

func (it *Iterator) step() bool {
	if it.err != nil {
		return false
	}
	if it.mem != nil {
		if it.i >= len(it.mem.offs) {
			return false
		}
		it.cur = it.mem.record(it.mem.offs[it.i])
		it.i++
		return true
	}
	if len(it.h) == 0 {
		return false
	}
	top := it.h[0]
	it.cur = append(it.cur[:0], top.rec...)
	if top.next() {
		heap.Fix(&it.h, 0)
	} else {
		if top.err != nil {
			it.err = top.err
			return false
		}
		heap.Pop(&it.h)
	}
	return true
}

// Record is the current record, valid until the next call to Next.
func (it *Iterator) Record() []byte { return it.cur }

// Err is the error that ended the walk early, if any.
func (it *Iterator) Err() error { return it.err }

// runReader reads one run's records.
type runReader struct {
	idx  int // the run's place among the runs, for ties
	r    *bufio.Reader
	name string
	rec  []byte
	err  error
}

func (r *runReader) next() bool {
	n, err := binary.ReadUvarint(r.r)
	if err == io.EOF {
		return false
	}
	if err != nil {
		r.err = fmt.Errorf("spill: read %s: %w", r.name, err)
		return false
	}
	r.rec = slices.Grow(r.rec[:0], int(n))[:n]
	if _, err := io.ReadFull(r.r, r.rec); err != nil {
		r.err = fmt.Errorf("spill: read %s: %w", r.name, err)
		return false
	}
	return true
}

type runHeap []*runReader

func (h runHeap) Len() int { return len(h) }
func (h runHeap) Less(i, j int) bool {
	c := bytes.Compare(h[i].rec, h[j].rec)
	return c < 0 || (c == 0 && h[i].idx < h[j].idx)
}
func (h runHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)   { *h = append(*h, x.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
