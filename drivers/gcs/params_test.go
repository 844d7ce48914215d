package gcs_test

import (
	"encoding/json"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/regbackup/regbackup/drivers/gcs"
)

// serviceAccountYAML is a registry config gcs section with an inline key
// (the key is made up; nothing here is a real credential).
const serviceAccountYAML = `
bucket: my-registry
rootdirectory: /registry/
chunksize: 5242880
useragent: ignored
maxconcurrency: 50
credentials:
  type: service_account
  project_id: demo-project
  private_key_id: "0123"
  private_key: "-----BEGIN PRIVATE KEY-----\nTOPSECRETKEYMATERIAL\n-----END PRIVATE KEY-----\n"
  client_email: registry@demo-project.iam.gserviceaccount.com
  client_id: "4567"
  token_uri: https://oauth2.googleapis.com/token
`

func TestParseParams(t *testing.T) {
	var params map[string]any
	if err := yaml.Unmarshal([]byte(serviceAccountYAML), &params); err != nil {
		t.Fatal(err)
	}
	cfg, err := gcs.ParseParams(params)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Bucket != "my-registry" || cfg.RootDirectory != "/registry/" || cfg.ChunkSize != 5<<20 || cfg.KeyFile != "" {
		t.Errorf("ParseParams = %#v, chunk %d", cfg, cfg.ChunkSize)
	}
	var key map[string]any
	if err := json.Unmarshal(cfg.CredentialsJSON, &key); err != nil {
		t.Fatalf("CredentialsJSON is not JSON: %v", err)
	}
	if key["type"] != "service_account" || !strings.Contains(key["private_key"].(string), "TOPSECRETKEYMATERIAL") {
		t.Errorf("CredentialsJSON lost fields: %v", key)
	}
	if got := cfg.String(); got != "gs://my-registry/registry" {
		t.Errorf("String() = %q, want gs://my-registry/registry", got)
	}

	// keyfile wins over credentials, as in the registry; strings are
	// accepted for numbers (REGISTRY_STORAGE_GCS_CHUNKSIZE).
	cfg, err = gcs.ParseParams(map[string]any{"bucket": "b-1", "keyfile": "/etc/registry/key.json",
		"credentials": map[any]any{"type": "service_account"}, "chunksize": "262144"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.KeyFile != "/etc/registry/key.json" || cfg.CredentialsJSON != nil || cfg.ChunkSize != 256<<10 {
		t.Errorf("ParseParams with keyfile = %#v, chunk %d", cfg, cfg.ChunkSize)
	}

	// Neither: Application Default Credentials.
	cfg, err = gcs.ParseParams(map[string]any{"bucket": "b-1"})
	if err != nil || cfg.KeyFile != "" || cfg.CredentialsJSON != nil || cfg.Anonymous {
		t.Errorf("ParseParams(bucket only) = %#v, %v", cfg, err)
	}
}

func TestParseParamsRejects(t *testing.T) {
	for _, tc := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{}, "bucket: missing"},
		{map[string]any{"bucket": ""}, "bucket: missing"},
		{map[string]any{"bucket": "b-1", "chunksize": 1000}, "chunksize"},
		{map[string]any{"bucket": "b-1", "chunksize": "big"}, "chunksize"},
		{map[string]any{"bucket": "b-1", "credentials": "TOPSECRET-as-a-string"}, "credentials: not a map"},
		{map[string]any{"bucket": "b-1", "credentials": map[any]any{1: "TOPSECRET"}}, "credentials: a key is not a string"},
	} {
		_, err := gcs.ParseParams(tc.params)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseParams(%d params) = %v, want an error saying %q", len(tc.params), err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "TOPSECRET") {
			t.Errorf("ParseParams error %q repeats a credential", err)
		}
	}
}
