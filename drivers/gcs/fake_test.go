package gcs_test

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/regbackup/regbackup/drivers/gcs"
)

// fake is an in-process fake-gcs-server listening on 127.0.0.1 over plain
// HTTP, with its access log kept for inspection.
type fake struct {
	server   *fakestorage.Server
	endpoint string // http://127.0.0.1:PORT/storage/v1/
	log      *syncBuffer
	n        atomic.Int64
}

func startFake(t testing.TB) *fake {
	t.Helper()
	log := &syncBuffer{}
	s, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		Scheme: "http", Host: "127.0.0.1", Writer: log, PublicHost: "127.0.0.1",
	})
	if err != nil {
		t.Fatalf("in-process fake-gcs-server: %v", err)
	}
	t.Cleanup(s.Stop)
	return &fake{server: s, endpoint: s.URL() + "/storage/v1/", log: log}
}

// newBucket creates a bucket with a fresh name and returns it.
func (f *fake) newBucket(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("bucket-%d", f.n.Add(1))
	f.server.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: name})
	return name
}

// config is a Config for bucket/root on the fake, without credentials.
func (f *fake) config(bucket, root string) gcs.Config {
	return gcs.Config{Bucket: bucket, RootDirectory: root, Endpoint: f.endpoint, Anonymous: true}
}

// open connects a driver to bucket/root on the fake.
func (f *fake) open(t testing.TB, bucket, root string) *gcs.Driver {
	t.Helper()
	return open(t, f.config(bucket, root))
}

// put stores an object directly, with a Content-Type, bypassing the driver.
func (f *fake) put(bucket, name, contentType string, data []byte) {
	f.server.CreateObject(fakestorage.Object{
		ObjectAttrs: fakestorage.ObjectAttrs{BucketName: bucket, Name: name, ContentType: contentType},
		Content:     data,
	})
}

// requests counts the access log lines containing all of parts.
func (f *fake) requests(parts ...string) int {
	n := 0
	for _, l := range strings.Split(f.log.String(), "\n") {
		ok := l != ""
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			n++
		}
	}
	return n
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}

// listen opens a loopback listener closed at cleanup.
func listen(t testing.TB) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// open connects a driver with cfg, closed at cleanup.
func open(t testing.TB, cfg gcs.Config) *gcs.Driver {
	t.Helper()
	d, err := gcs.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}
