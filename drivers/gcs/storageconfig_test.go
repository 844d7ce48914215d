package gcs

import (
	"reflect"
	"testing"
)

// TestStorageConfigRoundTrip: the section StorageConfig gives reads back,
// through the registry-params reader, as the same location (credentials
// other than a key file's path aside).
func TestStorageConfigRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want map[string]any
	}{
		{Config{Bucket: "registry", RootDirectory: "/reg/"}, map[string]any{"bucket": "registry", "rootdirectory": "/reg"}},
		{Config{Bucket: "b", KeyFile: "/etc/k.json"}, map[string]any{"bucket": "b", "keyfile": "/etc/k.json"}},
		{Config{Bucket: "b", RootDirectory: "a/b", CredentialsJSON: []byte(`{"private_key":"secret"}`)},
			map[string]any{"bucket": "b", "rootdirectory": "/a/b"}},
	} {
		name, params := (&Driver{cfg: tc.cfg}).StorageConfig()
		if name != "gcs" || !reflect.DeepEqual(params, tc.want) {
			t.Errorf("StorageConfig() = %q, %v; want gcs, %v", name, params, tc.want)
		}
		got, err := ParseParams(params)
		if err != nil {
			t.Fatal(err)
		}
		if got.Bucket != tc.cfg.Bucket || got.root() != tc.cfg.root() || got.KeyFile != tc.cfg.KeyFile {
			t.Errorf("%v reads back as %s (key file %q), want %s (%q)", params, got, got.KeyFile, tc.cfg, tc.cfg.KeyFile)
		}
	}
}
