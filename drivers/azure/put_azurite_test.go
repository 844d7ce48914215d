package azure_test

// Put on Azurite: AppendBlobs, failures, the buffer budget, seekable readers.

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/azure"
	"github.com/regbackup/regbackup/integration/servers"
)

// testAppendBlobs: the registry's AppendBlobs are read, listed and stated
// like any blob, and Put replaces them (small and multi-block).
func testAppendBlobs(t *testing.T, az *servers.AzureServer, newDriver driverFactory) {
	d, name := newDriver(t, nil)
	cc := az.Client().ServiceClient().NewContainerClient(name)
	want := bytes.Repeat([]byte("append-blob "), 100000)
	for _, p := range []string{"small", "big"} {
		ab := cc.NewAppendBlobClient("reg/" + p)
		if _, err := ab.Create(t.Context(), nil); err != nil {
			t.Fatal(err)
		}
		for off := 0; off < len(want); off += 512 << 10 {
			chunk := want[off:min(off+512<<10, len(want))]
			if _, err := ab.AppendBlock(t.Context(), nopSeekCloser{bytes.NewReader(chunk)}, nil); err != nil {
				t.Fatal(err)
			}
		}
		rc, err := d.Reader(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("reading an AppendBlob: %d bytes, %v; want %d bytes", len(got), err, len(want))
		}
		if fi, err := d.Stat(t.Context(), p); err != nil || fi.Size != int64(len(want)) {
			t.Fatalf("Stat of an AppendBlob = %+v, %v", fi, err)
		}
	}
	small, big := []byte("replaced"), bytes.Repeat([]byte{7}, 2*testBlockSize+3)
	for p, data := range map[string][]byte{"small": small, "big": big} {
		var r io.Reader = bytes.NewReader(data)
		if p == "big" {
			r = struct{ io.Reader }{r} // streamed into blocks, not sent from sections
		}
		if err := d.Put(t.Context(), p, r, int64(len(data))); err != nil {
			t.Fatalf("Put over an AppendBlob: %v", err)
		}
		rc, err := d.Reader(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, data) {
			t.Fatalf("%s after Put over an AppendBlob: %d bytes, want %d", p, len(got), len(data))
		}
	}
}

type nopSeekCloser struct{ *bytes.Reader }

func (nopSeekCloser) Close() error { return nil }

// testFailedPutLeavesNothing: after failed multi-block Puts nothing is
// listed, even with uncommitted blobs included, except what was there.
func testFailedPutLeavesNothing(t *testing.T, az *servers.AzureServer, newDriver driverFactory) {
	d, name := newDriver(t, nil)
	boom := errors.New("boom")
	const p = "docker/registry/v2/blobs/sha256/ab/ab/data"
	err := d.Put(t.Context(), p, io.MultiReader(bytes.NewReader(make([]byte, 3*testBlockSize)), errReader{boom}), 5*testBlockSize)
	if !errors.Is(err, boom) {
		t.Fatalf("Put with a failing reader = %v, want %v", err, boom)
	}
	committed, _ := containerNames(t, az, name)
	if len(committed) != 0 {
		t.Fatalf("after a failed Put the container lists %q", committed)
	}
	if _, err := d.Stat(t.Context(), p); !errors.Is(err, drivers.ErrNotFound) {
		t.Fatalf("Stat after a failed Put = %v, want ErrNotFound", err)
	}
	// A later Put of the same path commits only its own blocks.
	data := bytes.Repeat([]byte{1}, 2*testBlockSize+1)
	if err := d.Put(t.Context(), p, bytes.NewReader(data), -1); err != nil {
		t.Fatal(err)
	}
	rc, err := d.Reader(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, data) {
		t.Fatalf("after a failed then a good Put: %d bytes, want %d", len(got), len(data))
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// testMemoryBound runs 16 multi-block Puts at once on a driver whose
// buffer budget is 4 blocks: they all complete, whole, and the most buffer
// memory held at any moment stayed within the budget, and was used.
func testMemoryBound(t *testing.T, newDriver driverFactory) {
	d, _ := newDriver(t, func(c *azure.Config) { c.BufferMemory = 4 * testBlockSize })
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	start := time.Now()
	for i := range 16 {
		wg.Go(func() {
			data := bytes.Repeat([]byte{byte(i)}, 3*testBlockSize+i)
			p := "docker/registry/v2/blobs/sha256/cc/" + strings.Repeat(string(rune('a'+i)), 4) + "/data"
			r := struct{ io.Reader }{bytes.NewReader(data)} // not seekable: Put buffers it
			if err := d.Put(t.Context(), p, r, int64(len(data))); err != nil {
				errs <- err
				return
			}
			fi, err := d.Stat(t.Context(), p)
			if err != nil || fi.Size != int64(len(data)) {
				errs <- errors.Join(err, errors.New("wrong size after Put"))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	peak := azure.PeakBufferBytes(d)
	if peak > 4*testBlockSize || peak < testBlockSize {
		t.Errorf("peak buffer memory %d bytes, want between one block and the 4-block budget (%d)", peak, 4*testBlockSize)
	}
	t.Logf("16 Puts of 3 MiB through a 4 MiB buffer budget in %s, peak %d bytes buffered", time.Since(start).Round(time.Millisecond), peak)
}

// testSeekableReaders: a reader that is an io.ReaderAt and io.Seeker is sent
// from its current position without buffering; a length other than size
// stores nothing and keeps the earlier file.
func testSeekableReaders(t *testing.T, newDriver driverFactory) {
	d, _ := newDriver(t, nil)
	const p = "docker/registry/v2/blobs/sha256/ff/ff/data"
	read := func() []byte {
		t.Helper()
		rc, err := d.Reader(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, n := range []int{100, 3*testBlockSize + 5} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i * 7)
		}
		r := bytes.NewReader(data)
		io.CopyN(io.Discard, r, 10) // Put starts where the reader is
		if err := d.Put(t.Context(), p, r, int64(n-10)); err != nil {
			t.Fatal(err)
		}
		if got := read(); !bytes.Equal(got, data[10:]) {
			t.Fatalf("%d bytes from offset 10: read back %d bytes, want %d", n, len(got), n-10)
		}
		for _, size := range []int64{int64(n - 11), int64(n - 9)} {
			if err := d.Put(t.Context(), p, bytes.NewReader(make([]byte, n-10)), size); err == nil {
				t.Fatalf("Put of a %d-byte ReaderAt with size %d succeeded", n-10, size)
			}
			if got := read(); !bytes.Equal(got, data[10:]) {
				t.Fatalf("a failed Put (size %d) changed the file", size)
			}
		}
	}
	if peak := azure.PeakBufferBytes(d); peak != 0 {
		t.Errorf("Puts of seekable readers buffered %d bytes, want none", peak)
	}
}
