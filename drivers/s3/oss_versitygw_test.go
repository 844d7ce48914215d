package s3_test

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/drivertest"
	"github.com/regbackup/regbackup/drivers/s3"
	"github.com/regbackup/regbackup/integration/servers"
)

// TestOSSSettings runs the suite through the Config a registry's `oss:`
// section maps to, unchanged: OSS's S3-compatible endpoint for the region
// (http://s3.oss-cn-hangzhou.aliyuncs.com, with secure: false),
// virtual-hosted addressing, the region ID as signing region, no chunked
// or trailing-checksum bodies. The requests reach a loopback versitygw
// serving that domain as its virtual-host domain, as an HTTP proxy, so
// nothing leaves the machine; versitygw's region is set to cn-hangzhou so
// that it checks the signatures as OSS would.
func TestOSSSettings(t *testing.T) {
	const region = "cn-hangzhou"
	gw := servers.StartVersityGW(t, "--virtual-domain", "s3.oss-"+region+".aliyuncs.com", "--region", region)
	proxy, err := url.Parse(gw.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	newDriver := func(t *testing.T) (drivers.Driver, string) {
		bucket := gw.NewBucket(t)
		c, err := s3.FromOSSParameters(map[string]any{"accesskeyid": gw.AccessKey, "accesskeysecret": gw.SecretKey,
			"region": "oss-" + region, "bucket": bucket, "rootdirectory": "/reg", "secure": false, "chunksize": 5 << 20})
		if err != nil {
			t.Fatal(err)
		}
		if c.Endpoint != "http://s3.oss-"+region+".aliyuncs.com" || c.PathStyle {
			t.Fatalf("oss maps to endpoint %s, path style %v", c.Endpoint, c.PathStyle)
		}
		s3.SetProxy(&c, proxy)
		d, err := s3.New(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		return d, bucket
	}
	t.Run("Conformance", func(t *testing.T) {
		drivertest.Run(t, func(t *testing.T) drivers.Driver { d, _ := newDriver(t); return d })
	})
	t.Run("Layout", func(t *testing.T) {
		d, bucket := newDriver(t)
		const p = "docker/registry/v2/repositories/a/_manifests/tags/v1/current/link"
		data := []byte("sha256:0123")
		if err := d.Put(t.Context(), p, bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
		// Where the registry's oss driver keeps it: rootdirectory + path.
		if b, err := os.ReadFile(filepath.Join(gw.Dir, bucket, "reg", p)); err != nil || !bytes.Equal(b, data) {
			t.Errorf("object reg/%s: %q, %v", p, b, err)
		}
	})
}
