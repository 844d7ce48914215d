package s3

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// fakeS3 is an in-process S3 (gofakes3) on a loopback HTTP server, with a
// hook that can answer a request itself (to inject failures) and a log of
// the requests it saw.
type fakeS3 struct {
	backend *s3mem.Backend
	server  *httptest.Server
	inner   http.Handler // gofakes3 itself
	buckets atomic.Int64

	mu   sync.Mutex
	hook func(w http.ResponseWriter, r *http.Request) bool
	seen []string // "METHOD op" per request, op from the query (uploadId, partNumber, ...)
}

func startFakeS3(t testing.TB) *fakeS3 {
	t.Helper()
	f := &fakeS3{backend: s3mem.New()}
	inner := gofakes3.New(f.backend).Server()
	f.inner = inner
	f.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.seen = append(f.seen, r.Method+" "+requestKind(r))
		hook := f.hook
		f.mu.Unlock()
		if hook != nil && hook(w, r) {
			return
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(f.server.Close)
	return f
}

// requestKind names an S3 request by its query: "part", "create-multipart",
// "complete-multipart", "abort-multipart", "list", "range", or "object".
func requestKind(r *http.Request) string {
	q := r.URL.Query()
	switch {
	case q.Has("partNumber"):
		return "part"
	case q.Has("uploads") && r.Method == http.MethodPost:
		return "create-multipart"
	case q.Has("uploads"):
		return "list-multipart"
	case q.Has("uploadId") && r.Method == http.MethodPost:
		return "complete-multipart"
	case q.Has("uploadId") && r.Method == http.MethodDelete:
		return "abort-multipart"
	case q.Has("list-type"):
		return "list"
	case r.Header.Get("Range") != "":
		return "range"
	}
	return "object"
}

// serveCut lets gofakes3 answer r through w (e.g. a cutBody).
func (f *fakeS3) serveCut(w http.ResponseWriter, r *http.Request) { f.inner.ServeHTTP(w, r) }

// setHook installs (or, with nil, removes) the failure injector.
func (f *fakeS3) setHook(h func(w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	f.hook = h
	f.mu.Unlock()
}

// count returns how many requests of "METHOD kind" were seen, and resets
// the log when reset is true.
func (f *fakeS3) count(what string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.seen {
		if s == what {
			n++
		}
	}
	return n
}

func (f *fakeS3) resetLog() {
	f.mu.Lock()
	f.seen = nil
	f.mu.Unlock()
}

// bucket creates a fresh bucket and returns its name.
func (f *fakeS3) bucket(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("bucket-%d", f.buckets.Add(1))
	if err := f.backend.CreateBucket(name); err != nil {
		t.Fatal(err)
	}
	return name
}

// config is a Config for bucket at f with small parts, so that the
// conformance suite's 17 MiB round trip is a multipart upload.
func (f *fakeS3) config(bucket, root string) Config {
	return Config{
		Bucket: bucket, RootDirectory: root, Region: "us-east-1",
		Endpoint: f.server.URL, PathStyle: true,
		AccessKey: "fakekey", SecretKey: "fakesecret-for-tests",
		PartSize: 5 << 20, UploadMemory: 20 << 20,
	}
}

// newDriver opens a Driver on a fresh bucket with cfg changed by adjust.
func (f *fakeS3) newDriver(t testing.TB, adjust func(*Config)) *Driver {
	t.Helper()
	c := f.config(f.bucket(t), "reg")
	if adjust != nil {
		adjust(&c)
	}
	d, err := New(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// uploads lists the multipart uploads in progress in d's bucket.
func uploads(t testing.TB, d *Driver) []string {
	t.Helper()
	out, err := d.client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &d.cfg.Bucket})
	if isNoSuchUpload(err) {
		return nil // gofakes3's answer for a bucket that never had an upload
	}
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}

// s3Error writes an S3 XML error answer.
func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>1</RequestId></Error>`, code, msg)
}
