package gcs_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/drivertest"
	"github.com/regbackup/regbackup/drivers/gcs"
	"github.com/regbackup/regbackup/integration/servers"
)

// TestCopyServer copies between two buckets of the real fake-gcs-server
// binary with the rewrite API, and checks the bytes in its filesystem.
func TestCopyServer(t *testing.T) {
	s := servers.StartFakeGCS(t)
	n := 0
	newBucket := func(t *testing.T) string {
		n++
		name := fmt.Sprintf("copy-%d", n)
		s.CreateBucket(t, name)
		return name
	}
	openAt := func(t *testing.T, bucket, root string) *gcs.Driver {
		return open(t, gcs.Config{Bucket: bucket, RootDirectory: root, Endpoint: s.Endpoint, Anonymous: true})
	}
	t.Run("Conformance", func(t *testing.T) {
		drivertest.RunCopier(t, func(t *testing.T) (drivers.Driver, drivers.Driver) {
			return openAt(t, newBucket(t), "src"), openAt(t, newBucket(t), "/reg/")
		}, drivertest.CopierOptions{LargeSize: 20 << 20})
	})
	t.Run("ServerFiles", func(t *testing.T) {
		srcBucket, dstBucket := newBucket(t), newBucket(t)
		src, dst := openAt(t, srcBucket, "a b+c"), openAt(t, dstBucket, "reg")
		const p = "docker/registry/v2/blobs/sha256/aa/a+b c/data"
		data := bytes.Repeat([]byte("registry"), 1<<17)
		if err := src.Put(t.Context(), p, bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
		if err := dst.CopyFrom(t.Context(), p, src, p); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(s.Root, dstBucket, "reg", filepath.FromSlash(p)))
		if err != nil || !bytes.Equal(b, data) {
			t.Fatalf("server file: %d bytes, %v; want %d", len(b), err, len(data))
		}
	})
	t.Run("OtherEndpoint", func(t *testing.T) {
		f := startFake(t)
		other := f.open(t, f.newBucket(t), "")
		if err := other.Put(t.Context(), "a", strings.NewReader("x"), 1); err != nil {
			t.Fatal(err)
		}
		dst := openAt(t, newBucket(t), "")
		err := dst.CopyFrom(t.Context(), "a", other, "a")
		if !errors.Is(err, drivers.ErrNoServerCopy) || !strings.Contains(err.Error(), "another endpoint") {
			t.Fatalf("CopyFrom = %v, want ErrNoServerCopy saying another endpoint", err)
		}
	})
}

// TestCopyFake runs the copier suite against the in-process fake too.
func TestCopyFake(t *testing.T) {
	f := startFake(t)
	drivertest.RunCopier(t, func(t *testing.T) (drivers.Driver, drivers.Driver) {
		return f.open(t, f.newBucket(t), "src"), f.open(t, f.newBucket(t), "reg")
	}, drivertest.CopierOptions{})
	if f.requests("rewriteTo") == 0 {
		t.Error("no rewriteTo request reached the server: the copies were not server-side")
	}
}
