package s3

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/regbackup/regbackup/integration/servers"
)

// TestStorageConfigServesRegistry writes an image into versitygw with this
// Driver, starts a real Distribution 3 registry whose config.yml storage
// section is exactly StorageConfig's (credentials from the REGISTRY_*
// variables the placeholders name), and pulls the manifest and a layer
// back byte for byte.
func TestStorageConfigServesRegistry(t *testing.T) {
	gw := servers.StartVersityGW(t)
	registryBin := servers.Tool(t, "registry")
	bucket := gw.NewBucket(t)
	d, err := New(t.Context(), Config{Bucket: bucket, RootDirectory: "/reg/", Region: gw.Region, Endpoint: gw.Endpoint,
		PathStyle: true, AccessKey: gw.AccessKey, SecretKey: gw.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	put := func(p string, b []byte) {
		t.Helper()
		if err := d.Put(t.Context(), "docker/registry/v2/"+p, bytes.NewReader(b), int64(len(b))); err != nil {
			t.Fatal(err)
		}
	}
	blob := func(b []byte) string {
		sum := sha256.Sum256(b)
		h := hex.EncodeToString(sum[:])
		put("blobs/sha256/"+h[:2]+"/"+h+"/data", b)
		return h
	}
	cfgBlob := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	layer := bytes.Repeat([]byte("layer!"), 1000)
	c, l := blob(cfgBlob), blob(layer)
	manifest := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},`+
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%d}]}`,
		c, len(cfgBlob), l, len(layer)))
	m := blob(manifest)
	for _, h := range []string{c, l} {
		put("repositories/app/_layers/sha256/"+h+"/link", []byte("sha256:"+h))
	}
	put("repositories/app/_manifests/revisions/sha256/"+m+"/link", []byte("sha256:"+m))
	put("repositories/app/_manifests/tags/v1/index/sha256/"+m+"/link", []byte("sha256:"+m))
	put("repositories/app/_manifests/tags/v1/current/link", []byte("sha256:"+m))

	name, params := d.StorageConfig()
	port := servers.FreePort(t)
	conf, err := yaml.Marshal(map[string]any{
		"version": 0.1,
		"storage": map[string]any{name: params, "redirect": map[string]any{"disable": true}},
		"http":    map[string]any{"addr": "127.0.0.1:" + strconv.Itoa(port), "secret": "test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(t.TempDir(), "config.yml")
	if err := os.WriteFile(cfgFile, conf, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("config.yml:\n%s", conf)
	p := servers.Start(t, []string{"OTEL_TRACES_EXPORTER=none",
		"REGISTRY_STORAGE_S3_ACCESSKEY=" + gw.AccessKey, "REGISTRY_STORAGE_S3_SECRETKEY=" + gw.SecretKey},
		registryBin, "serve", cfgFile)
	if !servers.Listening(port, 15*time.Second, p.Exited) {
		t.Fatalf("registry did not start (log %s)", p.LogFile)
	}
	get := func(path, accept string) []byte {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(port)+path, nil)
		req.Header.Set("Accept", accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			log, _ := os.ReadFile(p.LogFile)
			t.Fatalf("GET %s: %s: %s\nregistry log:\n%s", path, resp.Status, b, log)
		}
		return b
	}
	if got := get("/v2/app/manifests/v1", "application/vnd.oci.image.manifest.v1+json"); !bytes.Equal(got, manifest) {
		t.Errorf("manifest served: %q, want %q", got, manifest)
	}
	if got := get("/v2/app/blobs/sha256:"+l, "*/*"); !bytes.Equal(got, layer) {
		t.Errorf("layer served: %d bytes, want %d", len(got), len(layer))
	}
}
