package gcs_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/drivers/gcs"
)

func TestParseLocation(t *testing.T) {
	for _, tc := range []struct {
		loc  string
		want gcs.Config
	}{
		{"gs://my-bucket", gcs.Config{Bucket: "my-bucket"}},
		{"gs://my-bucket/", gcs.Config{Bucket: "my-bucket"}},
		{"gs://my-bucket/registry", gcs.Config{Bucket: "my-bucket", RootDirectory: "registry"}},
		{"gcs://my-bucket/a/b/", gcs.Config{Bucket: "my-bucket", RootDirectory: "a/b"}},
		{"gs://b12/reg?endpoint=http://127.0.0.1:4443/storage/v1/",
			gcs.Config{Bucket: "b12", RootDirectory: "reg", Endpoint: "http://127.0.0.1:4443/storage/v1/", Anonymous: true}},
		{"gs://b12?endpoint=http://127.0.0.1:4443&auth=default",
			gcs.Config{Bucket: "b12", Endpoint: "http://127.0.0.1:4443"}},
		{"gs://b12?auth=none", gcs.Config{Bucket: "b12", Anonymous: true}},
		{"gs://b12?chunksize=524288", gcs.Config{Bucket: "b12", ChunkSize: 512 << 10}},
	} {
		u, err := url.Parse(tc.loc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := gcs.ParseLocation(u)
		if err != nil {
			t.Errorf("ParseLocation(%q): %v", tc.loc, err)
			continue
		}
		if got.String() != tc.want.String() || got.Anonymous != tc.want.Anonymous || got.ChunkSize != tc.want.ChunkSize ||
			got.Endpoint != tc.want.Endpoint || got.RootDirectory != tc.want.RootDirectory || got.KeyFile != "" || got.CredentialsJSON != nil {
			t.Errorf("ParseLocation(%q) = %#v (anonymous %v, chunk %d), want %#v (anonymous %v, chunk %d)",
				tc.loc, got, got.Anonymous, got.ChunkSize, tc.want, tc.want.Anonymous, tc.want.ChunkSize)
		}
	}
}

func TestParseLocationRejects(t *testing.T) {
	for loc, wantInErr := range map[string]string{
		"gs:///registry":                      "want gs://BUCKET",
		"gs://user:s3cr3t-pass@bucket/reg":    "credentials in the URL are not supported",
		"gs://bucket?keyfile=/etc/key.json":   "GOOGLE_APPLICATION_CREDENTIALS",
		"gs://bucket?credentials=s3cr3t-json": "credentials never come from a location",
		"gs://bucket?endpiont=http://x":       `unknown parameter "endpiont"`,
		"gs://bucket?auth=s3cr3t-token":       `auth must be "default" or "none"`,
		"gs://bucket?chunksize=1000":          "multiple of 262144",
		"gs://bucket?endpoint=a&endpoint=b":   "given 2 times",
		"gs://bucket#frag":                    "fragment",
	} {
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		_, err = gcs.ParseLocation(u)
		if err == nil {
			t.Errorf("ParseLocation(%q) succeeded, want an error", loc)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, wantInErr) {
			t.Errorf("ParseLocation(%q) = %q, want it to say %q", loc, msg, wantInErr)
		}
		if strings.Contains(msg, "s3cr3t") || strings.Contains(msg, "\n") {
			t.Errorf("ParseLocation(%q) error %q repeats a secret or spans lines", loc, msg)
		}
	}
}

// TestConfigChecks: New refuses bad configs before any request.
func TestConfigChecks(t *testing.T) {
	for _, tc := range []struct {
		cfg  gcs.Config
		want string
	}{
		{gcs.Config{}, "no bucket"},
		{gcs.Config{Bucket: "UPPER"}, "not valid"},
		{gcs.Config{Bucket: "ok-bucket", ChunkSize: 1000}, "multiple of 262144"},
		{gcs.Config{Bucket: "ok-bucket", Endpoint: "127.0.0.1:4443"}, "not an http:// or https:// URL"},
		{gcs.Config{Bucket: "ok-bucket", Endpoint: "http://u:s3cr3t@127.0.0.1:4443"}, "only scheme, host, port and path"},
	} {
		_, err := gcs.New(t.Context(), tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%v) = %v, want an error saying %q", tc.cfg, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("New error %q shows the endpoint's password", err)
		}
	}
}
