package archive

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"runtime"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compression names an archive's outer compression.
type Compression string

const (
	Zstd Compression = "zstd"
	Gzip Compression = "gzip"
	None Compression = "none"
)

// ParseCompression accepts "zstd", "gzip" or "none".
func ParseCompression(s string) (Compression, error) {
	switch c := Compression(s); c {
	case Zstd, Gzip, None:
		return c, nil
	}
	return "", fmt.Errorf("unknown compression %q (use zstd, gzip or none)", s)
}

// Ext is the usual file name suffix for an archive with this compression.
func (c Compression) Ext() string {
	switch c {
	case Zstd:
		return ".tar.zst"
	case Gzip:
		return ".tar.gz"
	}
	return ".tar"
}

// compressor wraps w. level is codec-specific (zstd 1-4, gzip 1-9); 0 picks
// the fast default, which suits already-compressed layers.
func compressor(w io.Writer, c Compression, level, concurrency int) (io.WriteCloser, error) {
	if concurrency <= 0 {
		concurrency = runtime.GOMAXPROCS(0)
	}
	switch c {
	case Zstd:
		l := zstd.SpeedFastest
		if level > 0 {
			l = zstd.EncoderLevelFromZstd(level)
		}
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(l), zstd.WithEncoderConcurrency(concurrency),
			zstd.WithEncoderCRC(true))
		if err != nil {
			return nil, err
		}
		return newZstdSink(w, enc), nil
	case Gzip:
		if level == 0 {
			level = gzip.BestSpeed
		}
		return gzip.NewWriterLevel(w, level)
	case None, "":
		return nopCloser{w}, nil
	}
	return nil, fmt.Errorf("unknown compression %q", c)
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

var (
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
	gzipMagic = []byte{0x1f, 0x8b}
)

// decompressor detects the compression from the stream's first bytes and
// returns a reader of the tar stream inside.
func decompressor(r io.Reader) (io.ReadCloser, Compression, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	head, err := br.Peek(4)
	if err != nil && len(head) == 0 {
		if err == io.EOF {
			return nil, "", fmt.Errorf("empty input: %w", ErrIncomplete)
		}
		return nil, "", err
	}
	switch {
	case bytes.HasPrefix(head, zstdMagic):
		d, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(2), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(64<<20))
		if err != nil {
			return nil, "", err
		}
		return d.IOReadCloser(), Zstd, nil
	case bytes.HasPrefix(head, gzipMagic):
		g, err := gzip.NewReader(br)
		if err != nil {
			return nil, "", fmt.Errorf("gzip header: %w: %v", ErrCorrupt, err)
		}
		return g, Gzip, nil
	}
	return io.NopCloser(br), None, nil
}
