package archive

import (
	"bufio"
	"io"

	"github.com/klauspost/compress/zstd"
)

// zstdSink is the zstd codec with a pass-through mode. Data that is
// already compressed (gzip'ed or zstd'ed layers, most of a registry) gains
// nothing from a second compression, so it goes out as a separate zstd
// frame made of raw (stored) blocks: a memcpy instead of a compression
// attempt. A zstd stream is a sequence of frames, so every decoder (zstd -d,
// tar --zstd, klauspost) reads the result as one stream.
type zstdSink struct {
	out *bufio.Writer
	enc *zstd.Encoder
	raw bool
}

// Raw frame layout (RFC 8878): magic, a Frame_Header_Descriptor of 0 (no
// content size, no checksum, no dictionary, not single-segment), a
// Window_Descriptor of 128 KiB (exponent 7), then blocks whose 3-byte
// little-endian header is size<<3 | type<<1 | last, type 0 being Raw.
var rawFrameHeader = []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3}

const rawBlockMax = 128 << 10

func newZstdSink(w io.Writer, enc *zstd.Encoder) *zstdSink {
	out := bufio.NewWriterSize(w, 1<<20)
	enc.Reset(out)
	return &zstdSink{out: out, enc: enc}
}

func (s *zstdSink) Write(p []byte) (int, error) {
	if !s.raw {
		return s.enc.Write(p)
	}
	n := 0
	for len(p) > 0 {
		k := min(len(p), rawBlockMax)
		if err := s.blockHeader(k, false); err != nil {
			return n, err
		}
		if _, err := s.out.Write(p[:k]); err != nil {
			return n, err
		}
		n += k
		p = p[k:]
	}
	return n, nil
}

func (s *zstdSink) blockHeader(size int, last bool) error {
	h := uint32(size) << 3
	if last {
		h |= 1
	}
	_, err := s.out.Write([]byte{byte(h), byte(h >> 8), byte(h >> 16)})
	return err
}

// setRaw switches between compressed frames and raw frames, ending the
// current frame.
func (s *zstdSink) setRaw(raw bool) error {
	if raw == s.raw {
		return nil
	}
	s.raw = raw
	if raw {
		if err := s.enc.Close(); err != nil {
			return err
		}
		_, err := s.out.Write(rawFrameHeader)
		return err
	}
	if err := s.blockHeader(0, true); err != nil {
		return err
	}
	s.enc.Reset(s.out)
	return nil
}

func (s *zstdSink) Close() error {
	if err := s.setRaw(false); err != nil {
		return err
	}
	if err := s.enc.Close(); err != nil {
		return err
	}
	return s.out.Flush()
}

// LooksCompressed reports whether data starts like a gzip, zstd, bzip2 or
// xz stream: content a second compression would only slow down.
func LooksCompressed(head []byte) bool {
	for _, magic := range [][]byte{gzipMagic, zstdMagic, []byte("BZh"), {0xfd, '7', 'z', 'X', 'Z', 0}} {
		if len(head) >= len(magic) && string(head[:len(magic)]) == string(magic) {
			return true
		}
	}
	return false
}
