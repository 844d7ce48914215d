package sample

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"errors"
	"hash"
	"hash/crc32"
	"io"
)

// Layers are real gzip streams that pull clients can unpack: a tar holding
// one file of random bytes, wrapped in gzip with deflate "stored" (not
// compressed) blocks. Their exact size is then known in advance, and the
// gzip header's extra field absorbs what the tar's 512-byte granularity
// leaves over, so a layer can have any size from minGzipLayer bytes on.
const (
	gzipHead     = 10 + 2 + 4 // header, XLEN, one extra subfield's SI1 SI2 LEN
	gzipTail     = 8          // CRC32, ISIZE
	storedHead   = 5          // BFINAL/BTYPE byte, LEN, NLEN
	maxStored    = 65535      // bytes in one stored block
	tarBlock     = 512
	tarOverhead  = tarBlock + 2*tarBlock // file header + end-of-archive blocks
	minGzipLayer = gzipHead + gzipTail + storedHead + tarOverhead
)

// gzipPlan says how a layer of size bytes is built.
type gzipPlan struct {
	extra  int   // bytes of padding in the gzip extra field (0..511)
	blocks int   // stored blocks
	tar    int64 // tar stream bytes
	data   int64 // bytes of the one file in the tar (a multiple of 512)
}

func planGzip(size int64) (gzipPlan, error) {
	if size < minGzipLayer {
		return gzipPlan{}, errors.New("sample: layer too small for a gzip'd tar")
	}
	avail := size - gzipHead - gzipTail
	blocks := max(1, (avail+maxStored+storedHead-1)/(maxStored+storedHead))
	most := avail - storedHead*blocks
	tarLen := most / tarBlock * tarBlock
	return gzipPlan{extra: int(most - tarLen), blocks: int(blocks), tar: tarLen, data: tarLen - tarOverhead}, nil
}

// gzipHeader is a gzip member header with an extra field of padding bytes.
func gzipHeader(padding int) []byte {
	h := []byte{0x1f, 0x8b, 8, 0x04, 0, 0, 0, 0, 0, 255} // deflate, FEXTRA, no mtime, unknown OS
	h = binary.LittleEndian.AppendUint16(h, uint16(4+padding))
	h = append(h, 'R', 'B')
	h = binary.LittleEndian.AppendUint16(h, uint16(padding))
	return append(h, make([]byte, padding)...)
}

// tarHeader is the USTAR header of the layer's one file.
func tarHeader(name string, size int64) []byte {
	var b bytes.Buffer
	err := tar.NewWriter(&b).WriteHeader(&tar.Header{
		Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644,
		ModTime: epoch, Format: tar.FormatUSTAR,
	})
	if err != nil || b.Len() != tarBlock {
		panic("sample: tar header for " + name) // fixed, valid fields
	}
	return b.Bytes()
}

// storedWriter frames the bytes written to it as a deflate stream of
// exactly `blocks` stored blocks carrying total bytes, then closes the gzip
// member with its CRC32 and length. raw, if not nil, also receives the
// uncompressed bytes.
type storedWriter struct {
	w, raw        io.Writer
	crc           hash.Hash32
	total, n      int64
	blocks, block int   // how many, and how many started
	left          int64 // bytes left in the current block
}

func newStoredWriter(w, raw io.Writer, total int64, blocks int) *storedWriter {
	return &storedWriter{w: w, raw: raw, crc: crc32.NewIEEE(), total: total, blocks: blocks}
}

// blockLen spreads total over the blocks evenly (each <= maxStored).
func (s *storedWriter) blockLen(i int) int64 {
	q, r := s.total/int64(s.blocks), s.total%int64(s.blocks)
	if int64(i) < r {
		return q + 1
	}
	return q
}

func (s *storedWriter) startBlock() error {
	if s.block == s.blocks {
		return errors.New("sample: layer stream longer than planned")
	}
	n := s.blockLen(s.block)
	s.block++
	final := byte(0)
	if s.block == s.blocks {
		final = 1
	}
	h := []byte{final, byte(n), byte(n >> 8), ^byte(n), ^byte(n >> 8)}
	s.left = n
	_, err := s.w.Write(h)
	return err
}

func (s *storedWriter) Write(p []byte) (int, error) {
	done := 0
	for len(p) > 0 {
		for s.left == 0 {
			if err := s.startBlock(); err != nil {
				return done, err
			}
		}
		c := min(int64(len(p)), s.left)
		if _, err := s.w.Write(p[:c]); err != nil {
			return done, err
		}
		s.crc.Write(p[:c])
		if s.raw != nil {
			s.raw.Write(p[:c])
		}
		s.left -= c
		s.n += c
		done += int(c)
		p = p[c:]
	}
	return done, nil
}

// finish writes any blocks still due and the gzip trailer.
func (s *storedWriter) finish() error {
	if s.n != s.total || s.left != 0 {
		return errors.New("sample: layer stream shorter than planned")
	}
	for s.block < s.blocks {
		if err := s.startBlock(); err != nil {
			return err
		}
	}
	t := binary.LittleEndian.AppendUint32(nil, s.crc.Sum32())
	t = binary.LittleEndian.AppendUint32(t, uint32(s.total))
	_, err := s.w.Write(t)
	return err
}
