package archive

import (
	"bytes"
	"io"
	"testing"
)

// FuzzReader feeds arbitrary bytes to the reader: it must never panic,
// hang or accept an archive whose content it could not check.
func FuzzReader(f *testing.F) {
	for _, c := range []Compression{None, Gzip} {
		f.Add(newSampleSizes(0, 1, 100).write(f, c))
	}
	f.Add([]byte{})
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		defer r.Close()
		for i := 0; i < 10000; i++ {
			e, err := r.Next()
			if err != nil {
				if err == io.EOF && r.Trailer() == nil {
					t.Fatal("io.EOF without a trailer")
				}
				return
			}
			io.Copy(io.Discard, e.Body)
		}
	})
}
