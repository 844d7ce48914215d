package s3

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regbackup/regbackup/drivers"
)

// TestThrottlingIsRetried answers the first two attempts of every PutObject
// and GetObject with 503 SlowDown: both succeed on the third.
func TestThrottlingIsRetried(t *testing.T) {
	f := startFakeS3(t)
	d := f.newDriver(t, func(c *Config) { c.backoff = time.Millisecond })
	var mu sync.Mutex
	tries := map[string]int{}
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if requestKind(r) != "object" || (r.Method != http.MethodPut && r.Method != http.MethodGet) {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		k := r.Method + " " + r.URL.Path
		tries[k]++
		if tries[k] <= 2 {
			io.Copy(io.Discard, r.Body)
			s3Error(w, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
			return true
		}
		return false
	})
	data := randomData(1, 300<<10)
	if err := d.Put(t.Context(), "a/b", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Put through two SlowDown answers: %v", err)
	}
	if got := readAll(t, d, "a/b"); !bytes.Equal(got, data) {
		t.Fatal("read back other bytes")
	}
	mu.Lock()
	defer mu.Unlock()
	for k, n := range tries {
		if n != 3 {
			t.Errorf("%s tried %d times, want 3", k, n)
		}
	}
}

// TestPersistentErrorsGiveUp checks that a store that keeps failing makes
// the request fail after MaxAttempts, with a one-line error naming the S3
// error and the attempts.
func TestPersistentErrorsGiveUp(t *testing.T) {
	f := startFakeS3(t)
	d := f.newDriver(t, func(c *Config) { c.backoff = time.Millisecond; c.MaxAttempts = 4 })
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		io.Copy(io.Discard, r.Body)
		s3Error(w, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
		return true
	})
	f.resetLog()
	err := d.Put(t.Context(), "a/b", bytes.NewReader([]byte("x")), 1)
	want := "s3: put a/b: SlowDown: Please reduce your request rate. (HTTP 503) (after 4 attempts)"
	if err == nil || err.Error() != want {
		t.Fatalf("Put = %v\nwant %s", err, want)
	}
	if n := f.count("PUT object"); n != 4 {
		t.Errorf("%d attempts, want 4", n)
	}
}

// cutBody serves the first n bytes of a GetObject answer, then breaks the
// connection, once per object.
type cutBody struct {
	http.ResponseWriter
	left int
}

func (c *cutBody) Write(p []byte) (int, error) {
	if len(p) > c.left {
		p = p[:c.left]
	}
	n, err := c.ResponseWriter.Write(p)
	c.left -= n
	if c.left == 0 {
		c.ResponseWriter.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	return n, err
}

// TestReaderResumes breaks the connection of a GetObject twice, mid-body:
// the Reader resumes with Range requests and returns the object exactly.
func TestReaderResumes(t *testing.T) {
	f := startFakeS3(t)
	d := f.newDriver(t, nil)
	data := randomData(3, 3*mib+17)
	if err := d.Put(t.Context(), "blob", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	cuts := 0
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		cut := r.Method == http.MethodGet && requestKind(r) != "list" && cuts < 2
		if cut {
			cuts++
		}
		mu.Unlock()
		if cut {
			f.serveCut(&cutBody{ResponseWriter: w, left: 1*mib + 5}, r)
		}
		return cut
	})
	f.resetLog()
	got := readAll(t, d, "blob")
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, want %d identical", len(got), len(data))
	}
	if n := f.count("GET range"); n != 2 {
		t.Errorf("%d Range requests, want 2", n)
	}
}

// TestReaderReplacedObject checks that a resume finding another version of
// the object (412 on If-Match) fails instead of mixing two versions.
func TestReaderReplacedObject(t *testing.T) {
	f := startFakeS3(t)
	d := f.newDriver(t, nil)
	data := randomData(4, 2*mib)
	if err := d.Put(t.Context(), "blob", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	first := true
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		switch {
		case r.Method == http.MethodGet && requestKind(r) == "object" && first:
			first = false
			f.serveCut(&cutBody{ResponseWriter: w, left: mib}, r)
			return true
		case requestKind(r) == "range":
			if r.Header.Get("If-Match") == "" {
				t.Errorf("resume without If-Match")
			}
			s3Error(w, http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
			return true
		}
		return false
	})
	rc, err := d.Reader(t.Context(), "blob")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	_, err = io.ReadAll(rc)
	if !errors.Is(err, errReplaced) || !strings.HasPrefix(err.Error(), "s3: read blob: ") {
		t.Fatalf("read of a replaced object = %v, want errReplaced", err)
	}
}

// TestCutListingIsRetried breaks the first two listing answers off after
// 100 bytes of their body, which fails in the SDK's decoding ("failed to
// decode response body, unexpected EOF"), not in sending: Walk retries the
// page and sees every object once.
func TestCutListingIsRetried(t *testing.T) {
	f := startFakeS3(t)
	d := f.newDriver(t, func(c *Config) { c.backoff = time.Millisecond })
	for i := range 5 {
		if err := d.Put(t.Context(), fmt.Sprintf("dir/f%d", i), strings.NewReader("x"), 1); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	cuts := 0
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		cut := requestKind(r) == "list" && cuts < 2
		if cut {
			cuts++
		}
		mu.Unlock()
		if cut {
			f.serveCut(&cutBody{ResponseWriter: w, left: 100}, r)
		}
		return cut
	})
	f.resetLog()
	var got []string
	if err := d.Walk(t.Context(), "dir", func(fi drivers.FileInfo) error {
		got = append(got, fi.Path)
		return nil
	}); err != nil {
		t.Fatalf("Walk through two cut listings: %v", err)
	}
	if len(got) != 5 {
		t.Errorf("Walk saw %q, want the 5 objects once each", got)
	}
	if n := f.count("GET list"); n < 3 {
		t.Errorf("%d listing requests, want at least 3 (two cut, then whole)", n)
	}
}
