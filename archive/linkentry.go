package archive

import (
	"archive/tar"
	"bytes"
	"strconv"
)

// Link entries are the bulk of an incremental archive of an unchanged
// registry (one per link file: 5,500 for 1,000 tags) and archive/tar spends
// most of their cost deciding, for every header, between USTAR, PAX and GNU.
// linkEntries writes the same bytes archive/tar would, faster: a header
// template made once by archive/tar itself (mode, size, mtime, USTAR magic),
// where only the name, the USTAR prefix and the checksum change. Paths
// archive/tar would write otherwise (non-ASCII, or too long for a USTAR
// name and prefix, which take PAX records) go through archive/tar.
// linkentry_test.go checks the bytes are the same.

const (
	tarBlock      = 512
	ustarName     = 100 // name field: bytes 0..99
	ustarPrefix   = 155 // prefix field: bytes 345..499
	offPrefix     = 345
	offChecksum   = 148
	lenChecksum   = 8
	offTypeflag   = 156
	offUSTARMagic = 257
)

// fastLinks can be turned off by tests, to compare with archive/tar.
var fastLinks = true

// linkEntries writes link entries of one size (a digest's length) for a
// Writer.
type linkEntries struct {
	size int
	tmpl [tarBlock]byte // name, prefix and checksum blank
	sum  int64          // the template's byte sum, checksum counted as spaces
	buf  []byte         // header, content and padding of one entry
}

// newLinkEntries makes the template of a regular file of size bytes with
// hdr's other fields, or returns nil when archive/tar would not write such
// a file as one plain USTAR header (then every link goes through it).
func newLinkEntries(hdr tar.Header) *linkEntries {
	var out bytes.Buffer
	hdr.Name = "x"
	if err := tar.NewWriter(&out).WriteHeader(&hdr); err != nil || out.Len() != tarBlock {
		return nil
	}
	e := &linkEntries{size: int(hdr.Size)}
	copy(e.tmpl[:], out.Bytes())
	if e.tmpl[offTypeflag] != tar.TypeReg || string(e.tmpl[offUSTARMagic:offUSTARMagic+8]) != "ustar\x0000" {
		return nil
	}
	clear(e.tmpl[:ustarName])
	clear(e.tmpl[offPrefix : offPrefix+ustarPrefix])
	for i := range lenChecksum {
		e.tmpl[offChecksum+i] = ' '
	}
	for _, c := range e.tmpl {
		e.sum += int64(c)
	}
	padded := (e.size + tarBlock - 1) / tarBlock * tarBlock
	e.buf = make([]byte, tarBlock+padded)
	return e
}

// entry returns the bytes of the entry for path holding content (of
// e.size bytes), or ok false when archive/tar must write it. The slice is
// reused by the next call.
func (e *linkEntries) entry(path, content string) (b []byte, ok bool) {
	if len(content) != e.size || !isPlainASCII(path) {
		return nil, false
	}
	prefix, name := "", path
	if len(path) > ustarName {
		if prefix, name, ok = splitUSTARPath(path); !ok {
			return nil, false
		}
	}
	h := e.buf[:tarBlock]
	copy(h, e.tmpl[:])
	copy(h, name)
	copy(h[offPrefix:], prefix)
	sum := e.sum
	for i := 0; i < len(name); i++ {
		sum += int64(name[i])
	}
	for i := 0; i < len(prefix); i++ {
		sum += int64(prefix[i])
	}
	// As archive/tar: six octal digits, NUL, space.
	chk := h[offChecksum : offChecksum+lenChecksum]
	s := strconv.AppendInt(chk[:0:0], sum, 8)
	for i := range 6 - len(s) {
		chk[i] = '0'
	}
	copy(chk[6-len(s):], s)
	chk[6], chk[7] = 0, ' '
	copy(e.buf[tarBlock:], content) // the padding after it stays zero
	return e.buf, true
}

// splitUSTARPath is archive/tar's: the longest prefix of at most 155 bytes
// ending before a slash, leaving a name of at most 100 bytes.
func splitUSTARPath(name string) (prefix, suffix string, ok bool) {
	length := len(name)
	if length <= ustarName {
		return "", "", false
	} else if length > ustarPrefix+1 {
		length = ustarPrefix + 1
	} else if name[length-1] == '/' {
		length--
	}
	i := -1
	for j := length - 1; j >= 0; j-- {
		if name[j] == '/' {
			i = j
			break
		}
	}
	nlen := len(name) - i - 1
	plen := i
	if i <= 0 || nlen > ustarName || nlen == 0 || plen > ustarPrefix {
		return "", "", false
	}
	return name[:i], name[i+1:], true
}

// isPlainASCII reports whether s is printable ASCII (no NUL, nothing a
// tar header would need PAX records for).
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
