package blobio

import (
	"sync"
	"sync/atomic"
)

// ChunkSize is the unit blobs travel in: from a backup's readers to the
// archive writer, and in a restore's buffers. See backup's fetchBlobs and
// restore's blobWriter for the memory each holds in flight.
const ChunkSize = 1 << 20

var chunkPool = sync.Pool{New: func() any { b := make([]byte, ChunkSize); return &b }}

// chunksOut counts the chunks taken from chunkPool and not yet given back,
// and the most ever out at once: the memory bounds of backup and restore,
// measured.
var chunksOut struct{ now, peak atomic.Int64 }

// GetChunk takes a ChunkSize buffer from the pool; PutChunk gives it back.
func GetChunk() *[]byte {
	n := chunksOut.now.Add(1)
	for {
		p := chunksOut.peak.Load()
		if n <= p || chunksOut.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return chunkPool.Get().(*[]byte)
}

// PutChunk gives back a buffer GetChunk gave.
func PutChunk(b *[]byte) {
	chunksOut.now.Add(-1)
	chunkPool.Put(b)
}

// ResetChunkPeak starts measuring ChunkPeak afresh from the chunks out now
// (for tests of memory bounds).
func ResetChunkPeak() { chunksOut.peak.Store(chunksOut.now.Load()) }

// ChunkPeak is the most chunks out of the pool at once since the last
// ResetChunkPeak.
func ChunkPeak() int64 { return chunksOut.peak.Load() }
