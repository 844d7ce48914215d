package s3_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/drivertest"
	"github.com/regbackup/regbackup/drivers/s3"
	"github.com/regbackup/regbackup/integration/servers"
)

// TestVersityGW runs everything that needs a real S3 server against one
// versitygw (posix backend), with a fresh bucket per subtest.
func TestVersityGW(t *testing.T) {
	gw := servers.StartVersityGW(t)
	config := func(bucket string) s3.Config {
		return s3.Config{Bucket: bucket, RootDirectory: "/reg/", Region: gw.Region, Endpoint: gw.Endpoint, PathStyle: true,
			AccessKey: gw.AccessKey, SecretKey: gw.SecretKey, PartSize: 5 << 20, UploadMemory: 20 << 20}
	}
	newDriver := func(t *testing.T) (*s3.Driver, string) {
		t.Helper()
		bucket := gw.NewBucket(t)
		d, err := s3.New(t.Context(), config(bucket))
		if err != nil {
			t.Fatal(err)
		}
		return d, bucket
	}

	t.Run("Conformance", func(t *testing.T) {
		drivertest.Run(t, func(t *testing.T) drivers.Driver { d, _ := newDriver(t); return d })
	})
	t.Run("MD5", func(t *testing.T) {
		drivertest.RunMD5(t, func(t *testing.T) drivers.Driver { d, _ := newDriver(t); return d })
	})

	// The registry's keys, as files in versitygw's posix folder: what a
	// registry on this bucket reads.
	t.Run("Layout", func(t *testing.T) {
		d, bucket := newDriver(t)
		const p = "docker/registry/v2/repositories/a/_manifests/tags/v1/current/link"
		link := []byte("sha256:" + strings.Repeat("ab", 32))
		if err := d.Put(t.Context(), p, bytes.NewReader(link), int64(len(link))); err != nil {
			t.Fatal(err)
		}
		if got := gw.Keys(t, bucket); !slices.Equal(got, []string{"reg/" + p}) {
			t.Errorf("keys %q, want [reg/%s]", got, p)
		}
		if b, err := os.ReadFile(filepath.Join(gw.Dir, bucket, "reg", p)); err != nil || !bytes.Equal(b, link) {
			t.Errorf("posix file: %q, %v", b, err)
		}
	})

	// A multipart Put whose reader fails after two parts leaves no object
	// and no upload in progress on a real server.
	t.Run("FailedMultipartLeavesNoUpload", func(t *testing.T) {
		d, bucket := newDriver(t)
		boom := errors.New("reader exploded")
		r := io.MultiReader(bytes.NewReader(make([]byte, 12<<20)), errReader{boom})
		if err := d.Put(t.Context(), "big", r, 20<<20); !errors.Is(err, boom) {
			t.Fatalf("Put = %v, want %v", err, boom)
		}
		if u := gw.Uploads(t, bucket); len(u) != 0 {
			t.Errorf("uploads left in progress: %q", u)
		}
		if k := gw.Keys(t, bucket); len(k) != 0 {
			t.Errorf("keys left: %q", k)
		}
	})

	// RemoveLeftovers aborts the unfinished uploads below the root that
	// keep does not keep, never another root's nor a Put's in flight.
	t.Run("RemoveLeftovers", func(t *testing.T) {
		d, bucket := newDriver(t)
		for _, k := range []string{"reg/docker/registry/v2/blobs/sha256/ab/ab/data", "reg/docker/registry/v2/repositories/r/_uploads/u/data", "other/data"} {
			if _, err := gw.Client().CreateMultipartUpload(t.Context(), &awss3.CreateMultipartUploadInput{Bucket: &bucket, Key: &k}); err != nil {
				t.Fatal(err)
			}
		}
		pr, pw := io.Pipe()
		putDone := make(chan error, 1)
		go func() { putDone <- d.Put(context.Background(), "live", pr, 12<<20) }()
		if _, err := pw.Write(make([]byte, 6<<20)); err != nil { // past the part size: the upload exists
			t.Fatal(err)
		}
		for end := time.Now().Add(10 * time.Second); !slices.Contains(gw.Uploads(t, bucket), "reg/live"); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("no upload for the Put in flight: %q", gw.Uploads(t, bucket))
			}
		}
		n, err := d.RemoveLeftovers(t.Context(), "", func(p string) bool { return strings.Contains(p, "/_uploads/") })
		if err != nil || n != 1 {
			t.Errorf("RemoveLeftovers = %d, %v; want 1, nil", n, err)
		}
		pw.Write(make([]byte, 6<<20))
		pw.Close()
		if err := <-putDone; err != nil {
			t.Fatalf("the Put in flight failed after RemoveLeftovers: %v", err)
		}
		got := gw.Uploads(t, bucket)
		slices.Sort(got)
		if want := []string{"other/data", "reg/docker/registry/v2/repositories/r/_uploads/u/data"}; !slices.Equal(got, want) {
			t.Errorf("uploads left %q, want %q", got, want)
		}
	})

	t.Run("NewErrors", func(t *testing.T) {
		bucket := gw.NewBucket(t)
		for _, tc := range []struct {
			name   string
			adjust func(*s3.Config)
			want   string
		}{
			{"wrong secret", func(c *s3.Config) { c.SecretKey = "not-the-secret-1234" }, "access denied to bucket"},
			{"unknown key", func(c *s3.Config) { c.AccessKey = "nosuchkey1234" }, "access denied to bucket"},
			{"missing bucket", func(c *s3.Config) { c.Bucket = "no-such-bucket" }, `bucket "no-such-bucket" does not exist at ` + gw.Endpoint},
		} {
			c := config(bucket)
			tc.adjust(&c)
			start := time.Now()
			_, err := s3.New(t.Context(), c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: New = %v, want an error saying %q", tc.name, err, tc.want)
				continue
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("%s: New took %s to fail", tc.name, took)
			}
			for _, secret := range []string{c.SecretKey, c.AccessKey, gw.SecretKey} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("%s: error shows a credential: %v", tc.name, err)
				}
			}
			t.Logf("%s: %v", tc.name, err)
		}
	})
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
