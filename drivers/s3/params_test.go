package s3

import (
	"reflect"
	"strings"
	"testing"
)

// TestFromParameters maps registry config.yml storage sections as 2.8, 3.x
// and GitLab read them, with values typed as YAML or REGISTRY_* env give them.
func TestFromParameters(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params map[string]any
		want   Config
	}{
		{"test-stack 3.x", map[string]any{"accesskey": "testkey", "secretkey": "testsecret123", "region": "us-east-1",
			"regionendpoint": "http://127.0.0.1:7070", "forcepathstyle": true, "bucket": "registry", "rootdirectory": "/reg",
			"secure": false, "chunksize": 5242880},
			Config{AccessKey: "testkey", SecretKey: "testsecret123", Region: "us-east-1", Endpoint: "http://127.0.0.1:7070",
				PathStyle: true, Bucket: "registry", RootDirectory: "/reg", DisableTLS: true, PartSize: 5 << 20,
				StorageClass: "STANDARD", ObjectACL: "private"}},
		{"2.8: regionendpoint means path style", map[string]any{"region": "us-east-1", "regionendpoint": "http://127.0.0.1:7070",
			"bucket": "registry", "v4auth": true},
			Config{Region: "us-east-1", Endpoint: "http://127.0.0.1:7070", PathStyle: true, Bucket: "registry",
				StorageClass: "STANDARD", ObjectACL: "private"}},
		{"3.x forcepathstyle false wins", map[string]any{"region": "us-east-1", "regionendpoint": "https://minio.example",
			"forcepathstyle": "false", "bucket": "registry"},
			Config{Region: "us-east-1", Endpoint: "https://minio.example", Bucket: "registry", StorageClass: "STANDARD", ObjectACL: "private"}},
		{"GitLab s3_v2 pathstyle and sessiontoken", map[string]any{"accesskey": "k", "secretkey": "s", "sessiontoken": "tok",
			"region": "eu-central-1", "regionendpoint": "https://s3.example", "pathstyle": "true", "bucket": "gl"},
			Config{AccessKey: "k", SecretKey: "s", SessionToken: "tok", Region: "eu-central-1", Endpoint: "https://s3.example",
				PathStyle: true, Bucket: "gl", StorageClass: "STANDARD", ObjectACL: "private"}},
		{"AWS with encryption and KMS key, env-typed strings", map[string]any{"region": "eu-west-1", "bucket": "b",
			"encrypt": "true", "keyid": "alias/registry", "secure": "true", "skipverify": "false", "chunksize": "10485760",
			"storageclass": "reduced_redundancy", "objectacl": "bucket-owner-full-control", "rootdirectory": "registry/"},
			Config{Region: "eu-west-1", Bucket: "b", SSE: SSEKMS, SSEKMSKeyID: "alias/registry", PartSize: 10 << 20,
				StorageClass: "REDUCED_REDUNDANCY", ObjectACL: "bucket-owner-full-control", RootDirectory: "registry/"}},
		{"encrypt without keyid is SSE-S3; storageclass NONE sends none", map[string]any{"region": "eu-west-1", "bucket": "b",
			"encrypt": true, "storageclass": "NONE", "skipverify": true},
			Config{Region: "eu-west-1", Bucket: "b", SSE: SSES3, SkipVerify: true, ObjectACL: "private"}},
		{"keyid without encrypt is ignored, like the registry", map[string]any{"region": "r", "bucket": "b", "keyid": "k"},
			Config{Region: "r", Bucket: "b", StorageClass: "STANDARD", ObjectACL: "private"}},
		{"one static key alone means the default chain", map[string]any{"region": "r", "bucket": "b", "accesskey": "only"},
			Config{Region: "r", Bucket: "b", StorageClass: "STANDARD", ObjectACL: "private"}},
		{"chunksize as float", map[string]any{"region": "r", "bucket": "b", "chunksize": float64(6 << 20)},
			Config{Region: "r", Bucket: "b", PartSize: 6 << 20, StorageClass: "STANDARD", ObjectACL: "private"}},
	} {
		got, err := FromParameters(tc.params)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got  %+v\n want %+v", tc.name, got, tc.want)
		}
	}
}

func TestFromParametersErrors(t *testing.T) {
	for _, tc := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"region": "r"}, "no bucket parameter"},
		{map[string]any{"bucket": "b"}, "no region parameter"},
		{map[string]any{"bucket": "b", "region": "r", "secure": "maybe"}, "secure parameter should be a boolean"},
		{map[string]any{"bucket": "b", "region": "r", "forcepathstyle": 3}, "forcepathstyle parameter should be a boolean"},
		{map[string]any{"bucket": "b", "region": "r", "chunksize": "big"}, "chunksize parameter should be an integer"},
		{map[string]any{"bucket": "b", "region": "r", "chunksize": 1024}, "chunksize parameter 1024 should be between"},
		{map[string]any{"bucket": "b", "region": "r", "encrypt": "yes", "secretkey": "hunter2secret"}, "encrypt parameter"},
	} {
		_, err := FromParameters(tc.params)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("FromParameters(%v) = %v, want an error saying %q", tc.params, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error shows the secret key: %v", err)
		}
	}
}

// TestOpenParamsReachesTheBucket opens a fake bucket through the registry
// parameter names and checks the keys match the registry's layout.
func TestOpenParamsReachesTheBucket(t *testing.T) {
	f := startFakeS3(t)
	bucket := f.bucket(t)
	for _, name := range []string{"s3", "s3aws", "s3_v2"} {
		params := map[string]any{"accesskey": "k", "secretkey": "secretsecret", "region": "us-east-1",
			"regionendpoint": f.server.URL, "bucket": bucket, "rootdirectory": "/reg/", "chunksize": 5 << 20,
			"storageclass": "NONE", "objectacl": nil}
		d, err := openParams(t, name, params)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want := "s3://" + bucket + "/reg?endpoint=" + f.server.URL + "&path-style=true&region=us-east-1"; d.String() != want {
			t.Errorf("%s: String() = %q, want %q", name, d.String(), want)
		}
	}
}
