package s3

import (
	"context"
	"errors"
	"io"
	"sync/atomic"

	"golang.org/x/sync/semaphore"
)

// bufferPool is the upload memory of one Driver: a budget of bytes shared
// by every Put, from which multipart uploads take fixed-size chunks (kept
// for reuse) and small Puts take exactly what they need. A Put waits, or
// gives up when its ctx ends, while the budget is spent; it never needs a
// second chunk before the first is released by a finished request, so
// waiting cannot deadlock.
type bufferPool struct {
	chunkSize int64
	chunks    int64 // budget / chunkSize: the most chunks out at once
	budget    *semaphore.Weighted
	free      chan []byte

	inUse, peak atomic.Int64 // bytes handed out now, and at most so far
}

func newBufferPool(chunkSize, budget int64) *bufferPool {
	n := budget / chunkSize
	return &bufferPool{
		chunkSize: chunkSize,
		chunks:    n,
		budget:    semaphore.NewWeighted(n * chunkSize),
		free:      make(chan []byte, n),
	}
}

// getChunk waits for a chunk of chunkSize bytes (not zeroed).
func (p *bufferPool) getChunk(ctx context.Context) ([]byte, error) {
	if err := p.budget.Acquire(ctx, p.chunkSize); err != nil {
		return nil, err
	}
	p.took(p.chunkSize)
	select {
	case b := <-p.free:
		return b, nil
	default:
		return make([]byte, p.chunkSize), nil
	}
}

// putChunk returns a chunk from getChunk.
func (p *bufferPool) putChunk(b []byte) {
	select {
	case p.free <- b[:p.chunkSize]:
	default:
	}
	p.took(-p.chunkSize)
	p.budget.Release(p.chunkSize)
}

// getSmall waits for n bytes of budget (n <= chunkSize) and returns a new
// buffer of that length; release with putSmall(n).
func (p *bufferPool) getSmall(ctx context.Context, n int64) ([]byte, error) {
	if err := p.budget.Acquire(ctx, max(n, 1)); err != nil {
		return nil, err
	}
	p.took(max(n, 1))
	return make([]byte, n), nil
}

func (p *bufferPool) putSmall(n int64) {
	p.took(-max(n, 1))
	p.budget.Release(max(n, 1))
}

// took records n bytes handed out (or, negative, returned).
func (p *bufferPool) took(n int64) {
	now := p.inUse.Add(n)
	for {
		peak := p.peak.Load()
		if now <= peak || p.peak.CompareAndSwap(peak, now) {
			return
		}
	}
}

// segments reads a list of byte slices as one seekable body, so that a
// part made of several chunks can be sent, and re-sent on a retry, without
// copying.
type segments struct {
	bufs [][]byte
	size int64
	off  int64
}

func newSegments(bufs [][]byte) *segments {
	s := &segments{bufs: bufs}
	for _, b := range bufs {
		s.size += int64(len(b))
	}
	return s
}

func (s *segments) Read(p []byte) (int, error) {
	if s.off >= s.size {
		return 0, io.EOF
	}
	n := 0
	off := s.off
	for _, b := range s.bufs {
		if off >= int64(len(b)) {
			off -= int64(len(b))
			continue
		}
		k := copy(p[n:], b[off:])
		n += k
		off = 0
		if n == len(p) {
			break
		}
	}
	s.off += int64(n)
	return n, nil
}

func (s *segments) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += s.off
	case io.SeekEnd:
		offset += s.size
	default:
		return 0, errors.New("segments: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("segments: negative position")
	}
	s.off = offset
	return offset, nil
}
