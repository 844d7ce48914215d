package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"iter"
	"sync"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/blobio"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/parallel"
)

// Blobs travel in chunks of blobio.ChunkSize from the readers to the
// writer.
//
// Memory in flight, whatever the blob sizes: fetchBlobs lets at most
// workers+1 streams hold data (workers in the ordered window, one being
// written), each holding at most depth chunks in its channel; each of the
// workers readers holds one more chunk while it waits to send it, and the
// writer one. So at most (workers+1)*depth + workers + 1 chunks. depth is
// streamDepth(workers): chunksPerBlob (4) up to 11 workers, fewer beyond
// (1 from 21 on), which keeps the total within fetchBudget (64 MiB) up to
// 31 workers; beyond, it is 2*workers+2 MiB (66 MiB at 32, 130 at 64).
// (The snapshot, earlier, holds at most workers manifests at once, each
// at most the registry's 4 MiB manifest limit and in practice a few KiB.)
const (
	chunksPerBlob = 4
	fetchBudget   = 64 << 20
)

// streamDepth is how many chunks one blob's stream may queue ahead of the
// writer: chunksPerBlob when that fits in fetchBudget, else fewer, at
// least one.
func streamDepth(workers int) int {
	return max(1, min(chunksPerBlob, (fetchBudget/blobio.ChunkSize-workers-1)/(workers+1)))
}

// MaxChunksInFlight is the most chunks of blobio.ChunkSize a Backup with
// that many readers holds at once (see above): what tests check the
// measured peak (blobio.ChunkPeak) against.
func MaxChunksInFlight(workers int) int64 {
	return int64((workers+1)*streamDepth(workers) + workers + 1)
}

// piece is one message from a reader goroutine to the writer: a chunk of
// data, or the blob's outcome (err set, or done with a verified digest).
type piece struct {
	buf  *[]byte
	n    int
	err  error // the blob could not be read or did not verify
	done bool
}

// blobStream carries one blob's pieces, in order.
type blobStream struct {
	blob   archive.Blob
	pieces chan piece
}

// fetchBlobs reads blobs with `workers` goroutines (0: the backend's
// preference), hashing as they read, and hands them to the caller in the
// order given: parallel in, ordered out. Up to workers blobs are requested
// at once, ahead of the one being written. The caller must drain every
// stream it receives. Closing happens when all blobs are handed over or
// ctx is cancelled.
func fetchBlobs(ctx context.Context, d drivers.Driver, blobs iter.Seq[archive.Blob], workers int) <-chan *blobStream {
	workers = parallel.Concurrency(workers, d)
	depth := streamDepth(workers)
	ordered := make(chan *blobStream, workers)
	jobs := make(chan *blobStream)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range jobs {
				readBlob(ctx, d, s)
			}
		}()
	}
	go func() {
		defer func() { close(jobs); wg.Wait() }()
		defer close(ordered)
		for b := range blobs {
			s := &blobStream{blob: b, pieces: make(chan piece, depth)}
			select {
			case ordered <- s:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- s:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ordered
}

// readBlob streams one blob into s.pieces and ends with a done piece, or an
// error piece (missing, unreadable, wrong size or wrong digest).
func readBlob(ctx context.Context, d drivers.Driver, s *blobStream) {
	defer close(s.pieces)
	send := func(p piece) bool {
		select {
		case s.pieces <- p:
			return true
		case <-ctx.Done():
			if p.buf != nil {
				blobio.PutChunk(p.buf)
			}
			return false
		}
	}
	path := archive.BlobPath(s.blob.Digest)
	rc, err := d.Reader(ctx, path)
	if err != nil {
		send(piece{err: err})
		return
	}
	defer rc.Close()
	h := sha256.New()
	var total int64
	for {
		buf := blobio.GetChunk()
		n, err := io.ReadFull(rc, *buf)
		total += int64(n)
		h.Write((*buf)[:n])
		if n > 0 && !send(piece{buf: buf, n: n}) {
			return
		}
		if n == 0 {
			blobio.PutChunk(buf)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			send(piece{err: fmt.Errorf("%s %s: %w", d.Name(), path, err)})
			return
		}
		if total > s.blob.Size {
			break
		}
	}
	if total != s.blob.Size {
		send(piece{err: &archive.DigestError{Path: path, Want: s.blob.Digest}})
		return
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != s.blob.Digest {
		send(piece{err: &archive.DigestError{Path: path, Want: s.blob.Digest, Got: got}})
		return
	}
	send(piece{done: true})
}

// streamReader presents a blobStream's data pieces as an io.Reader for the
// archive writer. An error piece ends the data early (io.EOF) and is kept
// in err; the writer then pads the entry and marks the blob corrupt.
type streamReader struct {
	s    *blobStream
	cur  piece
	off  int
	err  error
	done bool
}

func (r *streamReader) Read(p []byte) (int, error) {
	for r.cur.buf == nil || r.off == r.cur.n {
		if r.cur.buf != nil {
			blobio.PutChunk(r.cur.buf)
			r.cur = piece{}
		}
		pc, ok := <-r.s.pieces
		switch {
		case !ok:
			if !r.done && r.err == nil {
				r.err = context.Canceled
			}
			return 0, io.EOF
		case pc.err != nil:
			r.err = pc.err
			return 0, io.EOF
		case pc.done:
			r.done = true
			return 0, io.EOF
		}
		r.cur, r.off = pc, 0
	}
	n := copy(p, (*r.cur.buf)[r.off:r.cur.n])
	r.off += n
	return n, nil
}

// drain discards what is left of the stream, returning buffers to the pool.
func (r *streamReader) drain() {
	if r.cur.buf != nil {
		blobio.PutChunk(r.cur.buf)
		r.cur = piece{}
	}
	for pc := range r.s.pieces {
		if pc.buf != nil {
			blobio.PutChunk(pc.buf)
		}
		if pc.err != nil && r.err == nil {
			r.err = pc.err
		}
		if pc.done {
			r.done = true
		}
	}
}

// head is the start of the blob's data, after first.
func (r *streamReader) head() []byte {
	if r.cur.buf == nil {
		return nil
	}
	return (*r.cur.buf)[r.off:r.cur.n]
}

// first waits for the stream's first piece without consuming data, so the
// writer can tell a missing blob (no entry at all) from one that fails
// mid-way (an entry padded and marked corrupt).
func (r *streamReader) first() error {
	pc, ok := <-r.s.pieces
	switch {
	case !ok:
		return context.Canceled
	case pc.err != nil:
		r.err = pc.err
		return pc.err
	case pc.done:
		r.done = true
	default:
		r.cur, r.off = pc, 0
	}
	return nil
}
