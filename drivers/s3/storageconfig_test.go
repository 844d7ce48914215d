package s3

import (
	"reflect"
	"strings"
	"testing"
)

// TestStorageConfigRoundTrip: the section StorageConfig gives reads back,
// through the registry-params reader, as the same Config (secrets aside).
func TestStorageConfigRoundTrip(t *testing.T) {
	for _, c := range []Config{
		{Bucket: "registry", RootDirectory: "/reg/", Region: "us-east-1", Endpoint: "http://127.0.0.1:7070", PathStyle: true,
			AccessKey: "testkey", SecretKey: "testsecret123", StorageClass: "STANDARD", ObjectACL: "private"},
		{Bucket: "b", Region: "eu-west-1", SSE: SSEKMS, SSEKMSKeyID: "alias/reg", StorageClass: "STANDARD_IA", ObjectACL: "bucket-owner-full-control"},
		{Bucket: "b", Region: "r", Endpoint: "minio.local:9000", DisableTLS: true, SkipVerify: true, SSE: SSES3},
		{Bucket: "b", Region: "r", Endpoint: "https://s3.example", PathStyle: false, RootDirectory: "a/b", StorageClass: "STANDARD"},
	} {
		want, err := c.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		d := &Driver{cfg: want}
		name, params := d.StorageConfig()
		for _, v := range params {
			if s, ok := v.(string); ok && (strings.Contains(s, "testsecret") || strings.Contains(s, "testkey")) {
				t.Errorf("StorageConfig shows a credential: %v", params)
			}
		}
		got, err := FromParameters(params)
		if err != nil {
			t.Fatalf("%s %v: %v", name, params, err)
		}
		if c.AccessKey != "" && (got.AccessKey != accessKeyPlaceholder || got.SecretKey != secretKeyPlaceholder) {
			t.Errorf("static keys: got %q/%q, want the placeholders", got.AccessKey, got.SecretKey)
		}
		got.AccessKey, got.SecretKey = want.AccessKey, want.SecretKey
		if got, err = got.withDefaults(); err != nil {
			t.Fatal(err)
		}
		got.PartSize = want.PartSize // chunksize is left to the registry
		if strings.HasPrefix(want.Endpoint, "http://") {
			want.DisableTLS = true // the same thing: the scheme is in the endpoint
		}
		if want.ObjectACL == "" {
			want.ObjectACL = "private" // the registry always sends an ACL, private by default
		}
		if name != "s3" || !reflect.DeepEqual(got, want) {
			t.Errorf("%v:\n got  %+v\n want %+v", params, got, want)
		}
	}
}

// TestStorageConfigVersityGW is the exact section for the test stack.
func TestStorageConfigVersityGW(t *testing.T) {
	c, _ := Config{Bucket: "registry", RootDirectory: "reg", Region: "us-east-1", Endpoint: "http://127.0.0.1:7070",
		PathStyle: true, AccessKey: "k", SecretKey: "s"}.withDefaults()
	_, got := (&Driver{cfg: c}).StorageConfig()
	want := map[string]any{"bucket": "registry", "region": "us-east-1", "regionendpoint": "http://127.0.0.1:7070",
		"forcepathstyle": true, "rootdirectory": "/reg", "secure": false, "storageclass": "NONE",
		"accesskey": accessKeyPlaceholder, "secretkey": secretKeyPlaceholder}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("StorageConfig() =\n %v\nwant\n %v", got, want)
	}
}
