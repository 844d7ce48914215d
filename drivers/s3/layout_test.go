package s3

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/regbackup/regbackup/drivers"
)

func openParams(t *testing.T, name string, params map[string]any) (drivers.Driver, error) {
	t.Helper()
	d, ok, err := drivers.OpenParams(t.Context(), name, params)
	if !ok {
		t.Fatalf("registry driver %q is not registered", name)
	}
	return d, err
}

// keys lists every key in bucket, folder keys included.
func keys(t testing.TB, d *Driver) []string {
	t.Helper()
	var ks []string
	pages := s3.NewListObjectsV2Paginator(d.client, &s3.ListObjectsV2Input{Bucket: &d.cfg.Bucket})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			ks = append(ks, aws.ToString(o.Key))
		}
	}
	return ks
}

// TestKeysFollowTheRegistry checks object keys are the registry's
// (rootdirectory trimmed of "/" + "/" + path), with its Content-Type, that
// no folder objects are written, and that folder keys other tools made are
// not reported by Walk.
func TestKeysFollowTheRegistry(t *testing.T) {
	f := startFakeS3(t)
	for _, tc := range []struct{ root, want string }{
		{"", "docker/registry/v2/blobs/sha256/ab/abcd/data"},
		{"/", "docker/registry/v2/blobs/sha256/ab/abcd/data"},
		{"/reg", "reg/docker/registry/v2/blobs/sha256/ab/abcd/data"},
		{"a/b/", "a/b/docker/registry/v2/blobs/sha256/ab/abcd/data"},
	} {
		d := f.newDriver(t, func(c *Config) { c.RootDirectory = tc.root })
		const p = "docker/registry/v2/blobs/sha256/ab/abcd/data"
		if err := d.Put(t.Context(), p, bytes.NewReader([]byte("hello")), 5); err != nil {
			t.Fatal(err)
		}
		if got := keys(t, d); !slices.Equal(got, []string{tc.want}) {
			t.Errorf("root %q: keys %q, want [%q]", tc.root, got, tc.want)
		}
		head, err := d.client.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: &d.cfg.Bucket, Key: aws.String(tc.want)})
		if err != nil {
			t.Fatal(err)
		}
		if ct := aws.ToString(head.ContentType); ct != "application/octet-stream" {
			t.Errorf("Content-Type %q, want application/octet-stream", ct)
		}
		// A folder object as the S3 console makes them.
		folder := d.root + "docker/registry/v2/blobs/"
		if _, err := d.client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: &d.cfg.Bucket, Key: &folder, Body: bytes.NewReader(nil)}); err != nil {
			t.Fatal(err)
		}
		var walked []string
		if err := d.Walk(t.Context(), "", func(fi drivers.FileInfo) error { walked = append(walked, fi.Path); return nil }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(walked, []string{p}) {
			t.Errorf("root %q: Walk = %q, want only %q", tc.root, walked, p)
		}
	}
}
