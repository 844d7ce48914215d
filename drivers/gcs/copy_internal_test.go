package gcs

import "testing"

// TestSameService: a rewrite is tried only with the same endpoint and the
// very same credentials.
func TestSameService(t *testing.T) {
	base := Config{Bucket: "a", Endpoint: "http://127.0.0.1:4443/storage/v1/", Anonymous: true}
	for _, tc := range []struct {
		name   string
		adjust func(*Config)
		want   string
	}{
		{"other bucket and root", func(c *Config) { c.Bucket, c.RootDirectory = "b", "r" }, ""},
		{"other endpoint", func(c *Config) { c.Endpoint = "http://127.0.0.1:4444/storage/v1/" }, "it is on another endpoint"},
		{"a key file", func(c *Config) { c.KeyFile, c.Anonymous = "/k.json", false }, "it is reached with other credentials"},
		{"inline key", func(c *Config) { c.CredentialsJSON = []byte(`{}`) }, "it is reached with other credentials"},
		{"ADC", func(c *Config) { c.Anonymous = false }, "it is reached with other credentials"},
	} {
		other := base
		tc.adjust(&other)
		if got := (&Driver{cfg: base}).sameService(&Driver{cfg: other}); got != tc.want {
			t.Errorf("%s: sameService = %q, want %q", tc.name, got, tc.want)
		}
	}
}
