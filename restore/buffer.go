package restore

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/regbackup/regbackup/blobio"
)

// smallBlob: blobs up to this size are buffered in one exact allocation;
// bigger ones in chunks from blobio.GetChunk, so that buffering many medium blobs
// does not churn the heap.
const smallBlob = 32 << 10

// budget bounds the bytes held by blob buffers. One goroutine acquires,
// any number release; acquire waits until enough was released.
type budget struct {
	mu    sync.Mutex
	free  int64
	used  int64
	peak  int64         // highest used, for tests and reports
	freed chan struct{} // a token when bytes were released (capacity 1)
}

func newBudget(bytes int64) *budget {
	return &budget{free: bytes, freed: make(chan struct{}, 1)}
}

// acquire takes n bytes, waiting for releases as long as needed. It
// returns the cause of ctx's cancellation if that comes first. n must not
// exceed the budget's total. Only one goroutine may acquire at a time.
func (b *budget) acquire(ctx context.Context, n int64) error {
	for {
		b.mu.Lock()
		if b.free >= n {
			b.free -= n
			b.used += n
			b.peak = max(b.peak, b.used)
			b.mu.Unlock()
			return nil
		}
		b.mu.Unlock()
		select {
		case <-b.freed:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// release gives n bytes back.
func (b *budget) release(n int64) {
	b.mu.Lock()
	b.free += n
	b.used -= n
	b.mu.Unlock()
	select {
	case b.freed <- struct{}{}:
	default: // a token is already waiting
	}
}

// maxUsed is the most bytes ever held at once.
func (b *budget) maxUsed() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.peak
}

// blobBuffer holds one verified blob in memory, in chunks from blobio.GetChunk
// (or one small slice). It is an io.ReaderAt, so a Put can read it through
// an io.SectionReader, which object-store SDKs can seek to retry a request
// or split into parts without copying.
type blobBuffer struct {
	small  []byte
	chunks []*[]byte
	size   int64
	cost   int64 // bytes taken from the budget
}

// bufferCost is what a blob of size bytes takes from the budget.
func bufferCost(size int64) int64 {
	if size <= smallBlob {
		return size
	}
	return (size + blobio.ChunkSize - 1) / blobio.ChunkSize * blobio.ChunkSize
}

// fillBuffer reads exactly size bytes from body into a new buffer and then
// reads body to its end, so that an archive entry's digest check (which
// reports at the end) has passed before the buffer is returned. The caller
// has taken bufferCost(size) from the budget; on error nothing is held.
func fillBuffer(body io.Reader, size int64) (*blobBuffer, error) {
	b := &blobBuffer{size: size, cost: bufferCost(size)}
	if size <= smallBlob {
		b.small = make([]byte, size)
		if _, err := io.ReadFull(body, b.small); err != nil {
			return nil, err
		}
	} else {
		for left := size; left > 0; {
			c := blobio.GetChunk()
			b.chunks = append(b.chunks, c)
			if _, err := io.ReadFull(body, (*c)[:min(left, blobio.ChunkSize)]); err != nil {
				b.free()
				return nil, err
			}
			left -= min(left, blobio.ChunkSize)
		}
	}
	// io.ReadFull drops an error that comes with the last bytes: read on
	// until the entry says io.EOF (verified) or why not.
	var one [1]byte
	for {
		n, err := body.Read(one[:])
		if err == io.EOF {
			return b, nil
		}
		if n > 0 && err == nil {
			err = errors.New("entry longer than its size")
		}
		if err != nil {
			b.free()
			return nil, err
		}
	}
}

// ReadAt implements io.ReaderAt.
func (b *blobBuffer) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= b.size {
		return 0, io.EOF
	}
	if b.small != nil {
		n := copy(p, b.small[off:])
		if n < len(p) {
			return n, io.EOF
		}
		return n, nil
	}
	n := 0
	for n < len(p) && off < b.size {
		c := *b.chunks[off/blobio.ChunkSize]
		end := min(int64(blobio.ChunkSize), b.size-off/blobio.ChunkSize*blobio.ChunkSize)
		m := copy(p[n:], c[off%blobio.ChunkSize:end])
		n += m
		off += int64(m)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// reader reads the whole blob from its start.
func (b *blobBuffer) reader() *io.SectionReader { return io.NewSectionReader(b, 0, b.size) }

// free returns the chunks to the pool. The buffer must not be used after.
func (b *blobBuffer) free() {
	for _, c := range b.chunks {
		blobio.PutChunk(c)
	}
	b.chunks, b.small = nil, nil
}
