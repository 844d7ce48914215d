package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regbackup/regbackup/drivers"
)

const mib = 1 << 20

func randomData(seed uint64, n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}).Read(b)
	return b
}

func readAll(t testing.TB, d *Driver, p string) []byte {
	t.Helper()
	rc, err := d.Reader(t.Context(), p)
	if err != nil {
		t.Fatalf("Reader(%q): %v", p, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %q: %v", p, err)
	}
	return b
}

// TestPutChoosesSingleOrMultipart checks which requests a Put makes: up to
// PartSize one PutObject, above it a multipart upload of PartSize parts,
// for known and unknown sizes, and that the bytes come back unchanged.
func TestPutChoosesSingleOrMultipart(t *testing.T) {
	f := startFakeS3(t)
	d := f.newDriver(t, nil) // 5 MiB parts
	for _, tc := range []struct {
		n, size   int
		seekable  bool
		wantParts int // 0: one PutObject
	}{
		{5 * mib, 5 * mib, false, 0},
		{5 * mib, 5 * mib, true, 0},
		{5 * mib, -1, false, 0},
		{5*mib + 1, 5*mib + 1, false, 2},
		{5*mib + 1, 5*mib + 1, true, 2},
		{5*mib + 1, -1, false, 2},
		{10 * mib, 10 * mib, false, 2},
		{10 * mib, 10 * mib, true, 2},
		{17*mib + 3, -1, false, 4},
		{17*mib + 3, 17*mib + 3, true, 4},
	} {
		t.Run(fmt.Sprintf("%d/%d/seekable=%v", tc.n, tc.size, tc.seekable), func(t *testing.T) {
			data := randomData(uint64(tc.n), tc.n)
			r := stream(data)
			if tc.seekable {
				r = bytes.NewReader(data)
			}
			f.resetLog()
			d.pool.ResetPeak()
			if err := d.Put(t.Context(), "blob", r, int64(tc.size)); err != nil {
				t.Fatal(err)
			}
			if peak := d.pool.Peak(); tc.seekable && peak != 0 {
				t.Errorf("a seekable Put took %d bytes of upload memory, want none (sent without copying)", peak)
			}
			parts, single := f.count("PUT part"), f.count("PUT object")
			if tc.wantParts == 0 && (single != 1 || parts != 0) {
				t.Errorf("%d PutObject and %d UploadPart requests, want 1 PutObject", single, parts)
			}
			if tc.wantParts > 0 && (single != 0 || parts != tc.wantParts || f.count("POST complete-multipart") != 1) {
				t.Errorf("%d PutObject, %d UploadPart, %d Complete requests; want 0, %d, 1", single, parts, f.count("POST complete-multipart"), tc.wantParts)
			}
			if got := readAll(t, d, "blob"); !bytes.Equal(got, data) {
				t.Fatalf("read back %d bytes, not the %d written", len(got), len(data))
			}
		})
	}
}

// stream hides bytes.Reader's Seek and ReadAt: a reader Put must stream.
func stream(b []byte) io.Reader { return struct{ io.Reader }{bytes.NewReader(b)} }

// failingReader yields data, then err.
type failingReader struct {
	r     io.Reader
	err   error
	after func() // called once when data runs out
}

func (r *failingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err == io.EOF {
		if r.after != nil {
			r.after()
			r.after = nil
		}
		return n, r.err
	}
	return n, err
}

// TestMultipartFailuresLeaveNothing checks that every way a multipart Put
// can fail returns an error, leaves an earlier object intact, makes no new
// object visible and aborts the upload (no orphan parts left in the bucket).
func TestMultipartFailuresLeaveNothing(t *testing.T) {
	f := startFakeS3(t)
	boom := errors.New("reader exploded")
	old := randomData(1, 100)
	for _, tc := range []struct {
		name   string
		size   int64
		reader func(cancel context.CancelFunc) io.Reader
		hook   func(w http.ResponseWriter, r *http.Request) bool
		want   func(error) bool
	}{
		{name: "reader fails after 2 parts", size: 18 * mib,
			reader: func(context.CancelFunc) io.Reader {
				return &failingReader{r: bytes.NewReader(randomData(2, 12*mib)), err: boom}
			},
			want: func(err error) bool { return errors.Is(err, boom) }},
		{name: "reader fails, size unknown", size: -1,
			reader: func(context.CancelFunc) io.Reader {
				return &failingReader{r: bytes.NewReader(randomData(2, 12*mib)), err: boom}
			},
			want: func(err error) bool { return errors.Is(err, boom) }},
		{name: "short reader", size: 18 * mib,
			reader: func(context.CancelFunc) io.Reader { return stream(randomData(3, 12*mib)) },
			want:   func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }},
		{name: "long reader", size: 11 * mib,
			reader: func(context.CancelFunc) io.Reader { return stream(randomData(4, 18*mib)) },
			want:   func(err error) bool { return strings.Contains(err.Error(), "more than the expected") }},
		{name: "long reader at a part boundary", size: 10 * mib,
			reader: func(context.CancelFunc) io.Reader { return stream(randomData(4, 10*mib+1)) },
			want:   func(err error) bool { return strings.Contains(err.Error(), "more than the expected") }},
		{name: "short seekable reader", size: 18 * mib,
			reader: func(context.CancelFunc) io.Reader { return bytes.NewReader(randomData(3, 12*mib)) },
			want:   func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }},
		{name: "long seekable reader", size: 11 * mib,
			reader: func(context.CancelFunc) io.Reader { return bytes.NewReader(randomData(4, 18*mib)) },
			want:   func(err error) bool { return strings.Contains(err.Error(), "more than the expected") }},
		{name: "cancelled after 2 parts", size: 18 * mib,
			reader: func(cancel context.CancelFunc) io.Reader {
				return io.MultiReader(&failingReader{r: bytes.NewReader(randomData(5, 12*mib)), err: io.EOF, after: cancel},
					bytes.NewReader(randomData(6, 6*mib)))
			},
			want: func(err error) bool { return errors.Is(err, context.Canceled) }},
		{name: "part 2 fails on the server", size: 18 * mib,
			reader: func(context.CancelFunc) io.Reader { return stream(randomData(7, 18*mib)) },
			hook: func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Query().Get("partNumber") == "2" {
					io.Copy(io.Discard, r.Body)
					s3Error(w, 500, "InternalError", "We encountered an internal error. Please try again.")
					return true
				}
				return false
			},
			want: func(err error) bool { return strings.Contains(err.Error(), "InternalError") }},
		{name: "part 2 fails, seekable reader", size: 18 * mib,
			reader: func(context.CancelFunc) io.Reader { return bytes.NewReader(randomData(7, 18*mib)) },
			hook: func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Query().Get("partNumber") == "2" {
					io.Copy(io.Discard, r.Body)
					s3Error(w, 500, "InternalError", "We encountered an internal error. Please try again.")
					return true
				}
				return false
			},
			want: func(err error) bool { return strings.Contains(err.Error(), "InternalError") }},
		{name: "complete fails", size: 18 * mib,
			reader: func(context.CancelFunc) io.Reader { return stream(randomData(8, 18*mib)) },
			hook: func(w http.ResponseWriter, r *http.Request) bool {
				if requestKind(r) == "complete-multipart" {
					s3Error(w, 400, "InvalidPart", "One or more of the specified parts could not be found.")
					return true
				}
				return false
			},
			want: func(err error) bool { return strings.Contains(err.Error(), "InvalidPart") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := f.newDriver(t, func(c *Config) { c.MaxAttempts = 2; c.backoff = time.Millisecond })
			const p = "docker/registry/v2/blobs/sha256/ab/abcd/data"
			for _, existing := range []bool{false, true} {
				if existing {
					if err := d.Put(t.Context(), p, bytes.NewReader(old), int64(len(old))); err != nil {
						t.Fatal(err)
					}
				}
				ctx, cancel := context.WithCancel(t.Context())
				f.resetLog()
				f.setHook(tc.hook)
				err := d.Put(ctx, p, tc.reader(cancel), tc.size)
				f.setHook(nil)
				cancel()
				if err == nil || !tc.want(err) {
					t.Fatalf("Put = %v, want the failure", err)
				}
				if !strings.HasPrefix(err.Error(), "s3: put "+p+": ") || strings.Count(err.Error(), "s3:") != 1 {
					t.Errorf("error %q should read \"s3: put PATH: ...\" once", err)
				}
				if f.count("POST create-multipart") > 0 && f.count("DELETE abort-multipart") != 1 {
					t.Errorf("multipart upload created but aborted %d times", f.count("DELETE abort-multipart"))
				}
				if u := uploads(t, d); len(u) != 0 {
					t.Errorf("uploads left in progress: %q", u)
				}
				if existing {
					if got := readAll(t, d, p); !bytes.Equal(got, old) {
						t.Errorf("earlier object changed: %d bytes", len(got))
					}
				} else if _, err := d.Stat(t.Context(), p); !errors.Is(err, drivers.ErrNotFound) {
					t.Errorf("Stat after the failed Put = %v, want ErrNotFound", err)
				}
			}
		})
	}
}

// TestUploadMemoryIsShared runs many large Puts at once on a Driver whose
// upload memory holds two parts: all complete, and the part buffers out at
// once never exceed the budget, however many Puts there are.
func TestUploadMemoryIsShared(t *testing.T) {
	f := startFakeS3(t)
	d := f.newDriver(t, func(c *Config) { c.UploadMemory = 10 * mib })
	const puts = 6
	var wg sync.WaitGroup
	data := make([][]byte, puts)
	for i := range puts {
		data[i] = randomData(uint64(100+i), 6*mib+i)
		size := int64(len(data[i]))
		if i%2 == 1 {
			size = -1
		}
		wg.Go(func() {
			if err := d.Put(t.Context(), fmt.Sprintf("blob/%d", i), stream(data[i]), size); err != nil {
				t.Errorf("Put %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if peak := d.pool.Peak(); peak > 10*mib || peak < 10*mib {
		t.Errorf("peak part memory %d bytes, want exactly the 10 MiB budget (reached, never exceeded)", peak)
	}
	if n := d.pool.InUse(); n != 0 {
		t.Errorf("%d bytes of part buffers not returned", n)
	}
	for i := range puts {
		if got := readAll(t, d, fmt.Sprintf("blob/%d", i)); !bytes.Equal(got, data[i]) {
			t.Errorf("blob/%d: read back %d bytes, not the %d written", i, len(got), len(data[i]))
		}
	}
}

// TestPutWaitingForMemoryCancels checks that a Put waiting for part memory
// gives up when its ctx ends.
func TestPutWaitingForMemoryCancels(t *testing.T) {
	f := startFakeS3(t)
	d := f.newDriver(t, func(c *Config) { c.UploadMemory = 10 * mib })
	a, _ := d.pool.Get(t.Context(), int(d.cfg.PartSize))
	b, _ := d.pool.Get(t.Context(), int(d.cfg.PartSize))
	defer d.pool.Put(a)
	defer d.pool.Put(b)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	err := d.Put(ctx, "x", stream(randomData(1, 6*mib)), 6*mib)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Put with no memory free = %v, want context.DeadlineExceeded", err)
	}
}

// TestUnknownSizePartsGrow checks that an upload of unknown size (an archive
// streamed to S3) doubles its part size every growEvery parts, so that
// 10,000 parts hold far more than 10,000 x part-size, and that the bytes
// come back unchanged.
func TestUnknownSizePartsGrow(t *testing.T) {
	defer func(old int32) { growEvery = old }(growEvery)
	growEvery = 2
	f := startFakeS3(t)
	d := f.newDriver(t, nil) // 5 MiB parts
	// 5 + 5 + 10 + 10 + 3 MiB: five parts; with fixed parts it would be seven.
	data := randomData(7, 33*mib)
	f.resetLog()
	if err := d.Put(t.Context(), "archive", stream(data), -1); err != nil {
		t.Fatal(err)
	}
	if parts := f.count("PUT part"); parts != 5 {
		t.Errorf("%d UploadPart requests, want 5 (parts of 5, 5, 10, 10, 3 MiB)", parts)
	}
	if got := readAll(t, d, "archive"); !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, not the %d written", len(got), len(data))
	}
	growEvery = 2000
	if got, want := (&Driver{cfg: Config{PartSize: DefaultPartSize}, maxPart: 128 << 20}).maxUnknownSize(), int64(2000*(1+2+4+8+8))*DefaultPartSize; got != want {
		t.Errorf("maxUnknownSize at the defaults = %d, want %d (359 GiB)", got, want)
	}
}
