package s3

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/drivertest"
	"github.com/regbackup/regbackup/integration/servers"
)

// smallCopyLimits makes objects above 5 MiB go through the multipart copy,
// in 5 MiB parts (S3's minimum), for the rest of the test.
func smallCopyLimits(t *testing.T) {
	oldLimit, oldPart := singleCopyLimit, copyPartSize
	singleCopyLimit, copyPartSize = 5<<20, 5<<20
	t.Cleanup(func() { singleCopyLimit, copyPartSize = oldLimit, oldPart })
}

// TestCopyVersityGW copies between two buckets of one real versitygw, with
// the multipart copy (UploadPartCopy) running on a 12 MiB object.
func TestCopyVersityGW(t *testing.T) {
	gw := servers.StartVersityGW(t)
	smallCopyLimits(t)
	open := func(t *testing.T, bucket, root string) *Driver {
		t.Helper()
		d, err := New(t.Context(), Config{Bucket: bucket, RootDirectory: root, Region: gw.Region, Endpoint: gw.Endpoint,
			PathStyle: true, AccessKey: gw.AccessKey, SecretKey: gw.SecretKey, PartSize: 5 << 20, UploadMemory: 20 << 20})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	t.Run("Conformance", func(t *testing.T) {
		drivertest.RunCopier(t, func(t *testing.T) (drivers.Driver, drivers.Driver) {
			return open(t, gw.NewBucket(t), "/src/"), open(t, gw.NewBucket(t), "reg")
		}, drivertest.CopierOptions{LargeSize: 12 << 20})
	})

	// Keys with characters that need encoding in x-amz-copy-source arrive
	// under their own names, byte for byte, in the server's posix folder.
	t.Run("EncodedKeys", func(t *testing.T) {
		srcBucket, dstBucket := gw.NewBucket(t), gw.NewBucket(t)
		src, dst := open(t, srcBucket, "r o+o%t"), open(t, dstBucket, "reg")
		for i, p := range []string{"a+b/c d/e%20f", "x/ü&=?#/y", "plain/path"} {
			data := bytes.Repeat([]byte{byte(i)}, 1000+i)
			if i == 2 {
				data = bytes.Repeat([]byte("0123456789abcdef"), 7<<16) // 7 MiB: multipart copy
			}
			if err := src.Put(t.Context(), p, bytes.NewReader(data), int64(len(data))); err != nil {
				t.Fatal(err)
			}
			if err := dst.CopyFrom(t.Context(), p, src, p); err != nil {
				t.Fatalf("CopyFrom(%q): %v", p, err)
			}
			b, err := os.ReadFile(filepath.Join(gw.Dir, dstBucket, "reg", filepath.FromSlash(p)))
			if err != nil || !bytes.Equal(b, data) {
				t.Fatalf("posix file for %q: %d bytes, %v; want %d bytes copied", p, len(b), err, len(data))
			}
		}
		if u := gw.Uploads(t, dstBucket); len(u) != 0 {
			t.Errorf("uploads left in progress: %q", u)
		}
	})

	// A source on another endpoint (an in-process S3) is refused before
	// any request, with ErrNoServerCopy.
	t.Run("OtherEndpoint", func(t *testing.T) {
		f := startFakeS3(t)
		other := f.newDriver(t, nil)
		data := []byte("hello")
		if err := other.Put(t.Context(), "a", bytes.NewReader(data), 5); err != nil {
			t.Fatal(err)
		}
		dst := open(t, gw.NewBucket(t), "reg")
		err := dst.CopyFrom(t.Context(), "a", other, "a")
		if !errors.Is(err, drivers.ErrNoServerCopy) || !strings.Contains(err.Error(), "another endpoint") {
			t.Fatalf("CopyFrom = %v, want ErrNoServerCopy saying another endpoint", err)
		}
	})
}

// TestCopyFakeS3 runs the copier suite against gofakes3, which has
// CopyObject but not UploadPartCopy: every object here is below the
// single-copy limit. The multipart copy runs against versitygw above, and
// its failure path below.
func TestCopyFakeS3(t *testing.T) {
	f := startFakeS3(t)
	drivertest.RunCopier(t, func(t *testing.T) (drivers.Driver, drivers.Driver) {
		return f.newDriver(t, nil), f.newDriver(t, nil)
	}, drivertest.CopierOptions{LargeSize: 6 << 20})
}

// TestCopyOtherCredentials refuses a source read with other credentials.
func TestCopyOtherCredentials(t *testing.T) {
	f := startFakeS3(t)
	src := f.newDriver(t, func(c *Config) { c.AccessKey, c.SecretKey = "otherkey", "other-secret-1234" })
	dst := f.newDriver(t, nil)
	if err := src.Put(t.Context(), "a", bytes.NewReader([]byte("x")), 1); err != nil {
		t.Fatal(err)
	}
	err := dst.CopyFrom(t.Context(), "a", src, "a")
	if !errors.Is(err, drivers.ErrNoServerCopy) || !strings.Contains(err.Error(), "other credentials") {
		t.Fatalf("CopyFrom = %v, want ErrNoServerCopy saying other credentials", err)
	}
	if strings.Contains(err.Error(), "other-secret") {
		t.Errorf("error shows a secret: %v", err)
	}
	if _, err := dst.Stat(t.Context(), "a"); !errors.Is(err, drivers.ErrNotFound) {
		t.Errorf("target after a refused copy: %v, want ErrNotFound", err)
	}
}

// TestCopyPartFailureAborts fails the second UploadPartCopy of a multipart
// copy: the upload is aborted, the target keeps its old content.
func TestCopyPartFailureAborts(t *testing.T) {
	smallCopyLimits(t)
	f := startFakeS3(t)
	src, dst := f.newDriver(t, nil), f.newDriver(t, nil)
	data := bytes.Repeat([]byte("x"), 12<<20)
	if err := src.Put(t.Context(), "big", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if err := dst.Put(t.Context(), "big", strings.NewReader("old"), 3); err != nil {
		t.Fatal(err)
	}
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("X-Amz-Copy-Source") == "" || !r.URL.Query().Has("partNumber") {
			return false
		}
		if r.URL.Query().Get("partNumber") == "2" {
			s3Error(w, http.StatusForbidden, "AccessDenied", "part refused")
			return true
		}
		// gofakes3 has no UploadPartCopy: answer the others as S3 would.
		w.Header().Set("Content-Type", "application/xml")
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><CopyPartResult><ETag>"e"</ETag></CopyPartResult>`)
		return true
	})
	err := dst.CopyFrom(t.Context(), "big", src, "big")
	f.setHook(nil)
	if err == nil || !strings.Contains(err.Error(), "part refused") {
		t.Fatalf("CopyFrom = %v, want the part's error", err)
	}
	if n := f.count("DELETE abort-multipart"); n != 1 {
		t.Errorf("%d aborts, want 1", n)
	}
	if u := uploads(t, dst); len(u) != 0 {
		t.Errorf("uploads left: %q", u)
	}
	rc, err := dst.Reader(t.Context(), "big")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != "old" {
		t.Errorf("target holds %d bytes, want the old 3", len(b))
	}
}

func TestCopySource(t *testing.T) {
	for in, want := range map[[2]string]string{
		{"b", "reg/docker/registry/v2/x"}: "b/reg/docker/registry/v2/x",
		{"b", "a+b c%/ü?#&="}:             "b/a%2Bb%20c%25/%C3%BC%3F%23%26%3D",
	} {
		if got := copySource(in[0], in[1]); got != want {
			t.Errorf("copySource(%q, %q) = %q, want %q", in[0], in[1], got, want)
		}
	}
}
