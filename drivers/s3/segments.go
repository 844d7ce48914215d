package s3

import (
	"errors"
	"io"
)

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
