package drivertest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/regbackup/regbackup/drivers"
)

// randomBytes returns n reproducible pseudo-random bytes for seed.
func randomBytes(seed uint64, n int) []byte {
	var s [32]byte
	s[0], s[1], s[2], s[3] = byte(seed), byte(seed>>8), byte(seed>>16), byte(seed>>24)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}

// blobPath is where the registry keeps a blob with this content.
func blobPath(data []byte) string {
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	return "docker/registry/v2/blobs/sha256/" + h[:2] + "/" + h + "/data"
}

// link returns a link file body naming the digest of seed's content.
func link(seed uint64) []byte {
	sum := sha256.Sum256(randomBytes(seed, 8))
	return []byte("sha256:" + hex.EncodeToString(sum[:]))
}

func put(t *testing.T, d drivers.Driver, p string, data []byte) {
	t.Helper()
	if err := d.Put(t.Context(), p, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("%s: Put(%q, %d bytes): %v", d, p, len(data), err)
	}
}

func get(t *testing.T, d drivers.Driver, p string) []byte {
	t.Helper()
	rc, err := d.Reader(t.Context(), p)
	if err != nil {
		t.Fatalf("%s: Reader(%q): %v", d, p, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("%s: reading %q: %v", d, p, err)
	}
	if err := rc.Close(); err != nil {
		t.Fatalf("%s: closing reader of %q: %v", d, p, err)
	}
	return b
}

// checkContent reads p back and compares it with want, byte for byte.
func checkContent(t *testing.T, d drivers.Driver, p string, want []byte) {
	t.Helper()
	if diff := compare(want, get(t, d, p)); diff != "" {
		t.Fatalf("%s: content of %q: %s", d, p, diff)
	}
	fi, err := d.Stat(t.Context(), p)
	if err != nil {
		t.Fatalf("%s: Stat(%q): %v", d, p, err)
	}
	if fi.Path != p || fi.Size != int64(len(want)) {
		t.Fatalf("%s: Stat(%q) = {Path: %q, Size: %d}, want {Path: %q, Size: %d}", d, p, fi.Path, fi.Size, p, len(want))
	}
	checkMD5(t, d, "Stat", fi, want)
}

// checkMD5 fails when fi reports an MD5 other than that of want: callers
// take a matching MD5 as proof that the file holds want (drivers.FileInfo).
func checkMD5(t *testing.T, d drivers.Driver, op string, fi drivers.FileInfo, want []byte) {
	t.Helper()
	if fi.MD5 != "" && fi.MD5 != drivers.MD5Of(want) {
		t.Fatalf("%s: %s reports %q with MD5 %q, want %q (the MD5 of its %d bytes) or \"\"",
			d, op, fi.Path, fi.MD5, drivers.MD5Of(want), len(want))
	}
}

// compare describes how got differs from want, or returns "".
func compare(want, got []byte) string {
	if bytes.Equal(want, got) {
		return ""
	}
	n := min(len(want), len(got))
	i := 0
	for i < n && want[i] == got[i] {
		i++
	}
	return fmt.Sprintf("got %d bytes, want %d; first difference at offset %d", len(got), len(want), i)
}

func walkAll(t *testing.T, d drivers.Driver, prefix string) []drivers.FileInfo {
	t.Helper()
	var got []drivers.FileInfo
	err := d.Walk(t.Context(), prefix, func(fi drivers.FileInfo) error {
		got = append(got, fi)
		return nil
	})
	if err != nil {
		t.Fatalf("%s: Walk(%q): %v", d, prefix, err)
	}
	return got
}

func walkPaths(t *testing.T, d drivers.Driver, prefix string) []string {
	t.Helper()
	var paths []string
	for _, fi := range walkAll(t, d, prefix) {
		paths = append(paths, fi.Path)
	}
	return paths
}

// checkGone asserts that p is not stored: Stat and Reader wrap ErrNotFound.
func checkGone(t *testing.T, d drivers.Driver, p string) {
	t.Helper()
	if fi, err := d.Stat(t.Context(), p); !errors.Is(err, drivers.ErrNotFound) {
		t.Fatalf("%s: Stat(%q) = %+v, %v; want an error wrapping ErrNotFound", d, p, fi, err)
	}
	rc, err := d.Reader(t.Context(), p)
	if err == nil {
		rc.Close()
	}
	if !errors.Is(err, drivers.ErrNotFound) {
		t.Fatalf("%s: Reader(%q) error = %v; want an error wrapping ErrNotFound", d, p, err)
	}
}

// checkEmpty asserts that Walk("") finds nothing.
func checkEmpty(t *testing.T, d drivers.Driver) {
	t.Helper()
	if got := walkPaths(t, d, ""); len(got) != 0 {
		t.Fatalf("%s: Walk(\"\") = %q, want nothing", d, got)
	}
}

// chunkReader serves data in small chunks, then err (io.EOF when nil), and
// calls atOffset once when it has served at least offset bytes.
type chunkReader struct {
	data     []byte
	err      error
	offset   int
	atOffset func()
	served   int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if r.atOffset != nil && r.served >= r.offset {
		r.atOffset()
		r.atOffset = nil
	}
	if r.served == len(r.data) {
		if r.err != nil {
			return 0, r.err
		}
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 64<<10)], r.data[r.served:])
	r.served += n
	return n, nil
}
