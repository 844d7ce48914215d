package gcs_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/regbackup/regbackup/drivers"
)

// TestPutSeekableFailures: the one-request path keeps Put all or nothing:
// short and long readers, a reader that changes between its two reads
// (the server refuses the CRC32C), a cancelled ctx; nothing is stored and
// an earlier object stays.
func TestPutSeekableFailures(t *testing.T) {
	f := startFake(t)
	bucket := f.newBucket(t)
	d := f.open(t, bucket, "reg")
	const p = "docker/registry/v2/blobs/sha256/aa/aa/data"
	old := []byte("earlier content")
	if err := d.Put(t.Context(), p, bytes.NewReader(old), int64(len(old))); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 3<<20)
	rand.Read(data)
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		r    io.ReadSeeker
		size int64
		want error
	}{
		{"short", t.Context(), bytes.NewReader(data[:1000]), 2000, io.ErrUnexpectedEOF},
		{"long", t.Context(), bytes.NewReader(data), 1000, nil},
		{"changes", t.Context(), &changing{data: bytes.Clone(data)}, int64(len(data)), nil},
		{"cancelled", cancelled, bytes.NewReader(data), int64(len(data)), context.Canceled},
	} {
		err := d.Put(tc.ctx, p, tc.r, tc.size)
		t.Logf("%s: %v", tc.name, err)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s reader: Put = %v, want an error (wrapping %v)", tc.name, err, tc.want)
		}
		if err != nil && strings.ContainsAny(err.Error(), "\n") {
			t.Errorf("%s reader: error spans lines: %q", tc.name, err)
		}
		rc, err := d.Reader(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, old) {
			t.Fatalf("%s reader: the object now holds %d bytes, want the earlier %d", tc.name, len(got), len(old))
		}
	}
	var paths []string
	d.Walk(t.Context(), "", func(fi drivers.FileInfo) error { paths = append(paths, fi.Path); return nil })
	if len(paths) != 1 {
		t.Errorf("after failed Puts Walk = %q, want only %q", paths, p)
	}
}

// changing is a ReadSeeker whose content changes when it is rewound, as a
// buffer reused too early would.
type changing struct {
	data    []byte
	off     int
	rewinds int
}

func (c *changing) Read(p []byte) (int, error) {
	if c.off == len(c.data) {
		return 0, io.EOF
	}
	n := copy(p, c.data[c.off:])
	c.off += n
	return n, nil
}

func (c *changing) Seek(off int64, whence int) (int64, error) {
	if whence == io.SeekStart {
		c.rewinds++
		c.data[len(c.data)/2] ^= 0xff
		c.off = int(off)
	}
	return int64(c.off), nil
}

// TestRetries: requests answered 503 are sent again: uploads on both
// paths (the object whole in the end), then every other kind of request.
func TestRetries(t *testing.T) {
	f := startFake(t)
	bucket := f.newBucket(t)
	target, _ := url.Parse(f.server.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	var failed atomic.Int64
	var all atomic.Bool // fail every other request of any kind, not only uploads
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Fail every other upload request, after reading it all.
		if (all.Load() || strings.HasPrefix(r.URL.Path, "/upload/")) && failed.Add(1)%2 == 1 {
			io.Copy(io.Discard, r.Body)
			http.Error(w, `{"error": {"code": 503, "message": "try again"}}`, http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	})}
	ln := listen(t)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	cfg := f.config(bucket, "reg")
	cfg.Endpoint = "http://" + ln.Addr().String()
	cfg.ChunkSize = 256 << 10
	d := open(t, cfg)
	for _, tc := range []struct {
		name string
		size int
		wrap func(io.Reader) io.Reader
	}{
		{"seekable", 1 << 20, func(r io.Reader) io.Reader { return r }},
		{"stream", 1 << 20, func(r io.Reader) io.Reader { return streamOnly{r} }},
	} {
		failed.Store(0)
		data := make([]byte, tc.size)
		rand.Read(data)
		p := "obj/" + tc.name
		if err := d.Put(t.Context(), p, tc.wrap(bytes.NewReader(data)), int64(len(data))); err != nil {
			t.Fatalf("%s: Put through a server failing every other upload request: %v", tc.name, err)
		}
		if n := failed.Load(); n < 2 {
			t.Errorf("%s: only %d upload requests, so no retry happened", tc.name, n)
		}
		rc, err := d.Reader(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, data) {
			t.Fatalf("%s: read back %d bytes that differ from the %d written", tc.name, len(got), len(data))
		}
		t.Logf("%s: %d upload requests, every other one answered 503", tc.name, failed.Load())
	}

	failed.Store(0)
	all.Store(true)
	const p = "obj/seekable"
	if fi, err := d.Stat(t.Context(), p); err != nil || fi.Size != 1<<20 {
		t.Errorf("Stat through a flaky server = %+v, %v", fi, err)
	}
	rc, err := d.Reader(t.Context(), p)
	if err != nil {
		t.Fatalf("Reader through a flaky server: %v", err)
	}
	if n, err := io.Copy(io.Discard, rc); err != nil || n != 1<<20 {
		t.Errorf("reading through a flaky server: %d bytes, %v", n, err)
	}
	rc.Close()
	var paths []string
	if err := d.Walk(t.Context(), "obj/", func(fi drivers.FileInfo) error { paths = append(paths, fi.Path); return nil }); err != nil || len(paths) != 2 {
		t.Errorf("Walk through a flaky server = %q, %v", paths, err)
	}
	if err := d.Delete(t.Context(), p); err != nil {
		t.Errorf("Delete through a flaky server: %v", err)
	}
	if _, err := d.Stat(t.Context(), p); !errors.Is(err, drivers.ErrNotFound) {
		t.Errorf("Stat after Delete through a flaky server = %v, want ErrNotFound", err)
	}
	t.Logf("Stat, Reader, Walk, Delete, Stat: %d requests, every other one answered 503", failed.Load())
}
