package regconfig_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/drivers/regconfig"
)

// parse parses a config given inline, with no environment, relative paths
// against /srv/registry.
func parse(t *testing.T, yml string, env ...string) *regconfig.Config {
	t.Helper()
	c, err := regconfig.Parse("config.yml", []byte(yml), regconfig.Options{Env: env, WorkDir: "/srv/registry"})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// parseErr parses a config that must fail and returns the error text.
func parseErr(t *testing.T, yml string, env ...string) string {
	t.Helper()
	c, err := regconfig.Parse("config.yml", []byte(yml), regconfig.Options{Env: env, WorkDir: "/srv/registry"})
	if err == nil {
		t.Fatalf("Parse succeeded (%s), want an error", c)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
	return err.Error()
}

func TestDriverConfigs(t *testing.T) {
	for _, tc := range []struct {
		name, yml string
		driver    string
		params    map[string]any
	}{
		{
			name: "filesystem",
			yml: `version: 0.1
log: {level: info}
storage:
  filesystem:
    rootdirectory: /var/lib/registry
    maxthreads: 100
  delete: {enabled: true}
  cache: {blobdescriptor: inmemory}
  maintenance:
    uploadpurging: {enabled: false}
    readonly: {enabled: true}
  redirect: {disable: true}
  tag: {concurrencylimit: 8}
http: {addr: ":5000", secret: not-a-storage-param}
`,
			driver: "filesystem",
			params: map[string]any{"rootdirectory": "/var/lib/registry", "maxthreads": 100},
		},
		{
			name:   "filesystem-bare-name",
			yml:    "version: 0.1\nstorage: filesystem\n",
			driver: "filesystem",
			params: map[string]any{},
		},
		{
			name:   "filesystem-null-params",
			yml:    "version: 0.1\nstorage:\n  filesystem:\n  delete: {enabled: true}\n",
			driver: "filesystem",
			params: map[string]any{},
		},
		{
			name:   "filesystem-relative-root",
			yml:    "version: 0.1\nstorage:\n  filesystem: {rootdirectory: data/registry}\n",
			driver: "filesystem",
			params: map[string]any{"rootdirectory": "/srv/registry/data/registry"},
		},
		{
			name: "s3",
			yml: `version: 0.1
storage:
  s3:
    accesskey: AKIAEXAMPLE
    secretkey: s3cr3t/Example+Key
    region: us-east-1
    regionendpoint: "http://127.0.0.1:7070"
    forcepathstyle: true
    bucket: registry
    rootdirectory: /reg
    secure: no
    v4auth: yes
    chunksize: 5242880
    encrypt: false
  redirect:
    disable: true
`,
			driver: "s3",
			params: map[string]any{"accesskey": "AKIAEXAMPLE", "secretkey": "s3cr3t/Example+Key", "region": "us-east-1",
				"regionendpoint": "http://127.0.0.1:7070", "forcepathstyle": true, "bucket": "registry",
				"rootdirectory": "/reg", "secure": false, "v4auth": true, "chunksize": 5242880, "encrypt": false},
		},
		{
			name: "s3aws",
			yml: `version: 0.1
storage:
  s3aws: {region: eu-west-1, bucket: old-registry, v4auth: true, rootdirectory: /}
`,
			driver: "s3aws",
			params: map[string]any{"region": "eu-west-1", "bucket": "old-registry", "v4auth": true, "rootdirectory": "/"},
		},
		{
			name: "s3_v2",
			yml: `version: 0.1
storage:
  s3_v2:
    bucket: gitlab-registry
    region: eu-central-1
    pathstyle: true
    sessiontoken: FwoGZXIvYXdzEXAMPLE
    checksum_disabled: true
`,
			driver: "s3_v2",
			params: map[string]any{"bucket": "gitlab-registry", "region": "eu-central-1", "pathstyle": true,
				"sessiontoken": "FwoGZXIvYXdzEXAMPLE", "checksum_disabled": true},
		},
		{
			name: "gcs",
			yml: `version: 0.1
storage:
  gcs:
    bucket: my-registry
    keyfile: secrets/gcs.json
    rootdirectory: /registry
    chunksize: 5242880
`,
			driver: "gcs",
			params: map[string]any{"bucket": "my-registry", "keyfile": "/srv/registry/secrets/gcs.json",
				"rootdirectory": "/registry", "chunksize": 5242880},
		},
		{
			name: "gcs-inline-credentials",
			yml: `version: 0.1
storage:
  gcs:
    bucket: my-registry
    credentials:
      type: service_account
      project_id: proj
      private_key: "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADAN\n-----END PRIVATE KEY-----\n"
      client_email: registry@proj.iam.gserviceaccount.com
`,
			driver: "gcs",
			params: map[string]any{"bucket": "my-registry", "credentials": map[string]any{
				"type": "service_account", "project_id": "proj",
				"private_key":  "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADAN\n-----END PRIVATE KEY-----\n",
				"client_email": "registry@proj.iam.gserviceaccount.com"}},
		},
		{
			name: "azure",
			yml: `version: 0.1
storage:
  azure:
    accountname: devstoreaccount1
    accountkey: Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==
    container: registry
    serviceurl: http://127.0.0.1:10000/devstoreaccount1
    rootdirectory: /reg
    credentials: {type: shared_key}
`,
			driver: "azure",
			params: map[string]any{"accountname": "devstoreaccount1",
				"accountkey": "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
				"container":  "registry", "serviceurl": "http://127.0.0.1:10000/devstoreaccount1", "rootdirectory": "/reg",
				"credentials": map[string]any{"type": "shared_key"}},
		},
		{
			name: "azure_v2",
			yml: `version: 0.1
storage:
  azure_v2:
    credentials_type: client_secret
    tenant_id: 00000000-0000-0000-0000-000000000000
    client_id: 11111111-1111-1111-1111-111111111111
    secret: azure-client-secret-value
    accountname: gitlabregistry
    container: registry
    legacyrootprefix: false
`,
			driver: "azure_v2",
			params: map[string]any{"credentials_type": "client_secret", "tenant_id": "00000000-0000-0000-0000-000000000000",
				"client_id": "11111111-1111-1111-1111-111111111111", "secret": "azure-client-secret-value",
				"accountname": "gitlabregistry", "container": "registry", "legacyrootprefix": false},
		},
		{
			name: "anchors-and-merge-keys",
			yml: `version: 0.1
common: &common {region: us-east-1, secure: true}
storage:
  s3:
    <<: *common
    bucket: registry
    secure: false
`,
			driver: "s3",
			params: map[string]any{"region": "us-east-1", "secure": false, "bucket": "registry"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := parse(t, tc.yml)
			if c.Driver != tc.driver {
				t.Errorf("driver %q, want %q", c.Driver, tc.driver)
			}
			if !reflect.DeepEqual(c.Params, tc.params) {
				t.Errorf("params\n got %#v\nwant %#v", c.Params, tc.params)
			}
			if len(c.KeyFiles) != 0 {
				t.Errorf("key files %v, want none", c.KeyFiles)
			}
		})
	}
}

func TestKeyFiles(t *testing.T) {
	c := parse(t, `version: 0.1
storage:
  filesystem: {rootdirectory: /var/lib/registry}
auth:
  token:
    realm: https://gitlab.example.com/jwt/auth
    service: container_registry
    issuer: gitlab-issuer
    rootcertbundle: /certs/registry.crt
http:
  addr: ":5000"
  secret: http-secret-value
  tls:
    certificate: certs/domain.crt
    key: /certs/domain.key
    clientcas:
      - /certs/ca1.pem
      - ca2.pem
`)
	want := []regconfig.KeyFile{
		{Key: "http.tls.certificate", Path: "/srv/registry/certs/domain.crt"},
		{Key: "http.tls.key", Path: "/certs/domain.key"},
		{Key: "http.tls.clientcas[0]", Path: "/certs/ca1.pem"},
		{Key: "http.tls.clientcas[1]", Path: "/srv/registry/ca2.pem"},
		{Key: "auth.token.rootcertbundle", Path: "/certs/registry.crt"},
	}
	if !reflect.DeepEqual(c.KeyFiles, want) {
		t.Errorf("key files\n got %v\nwant %v", c.KeyFiles, want)
	}

	c = parse(t, "version: 0.1\nstorage: filesystem\nauth:\n  htpasswd: {realm: basic, path: auth/htpasswd}\n")
	want = []regconfig.KeyFile{{Key: "auth.htpasswd.path", Path: "/srv/registry/auth/htpasswd"}}
	if !reflect.DeepEqual(c.KeyFiles, want) {
		t.Errorf("htpasswd key files %v, want %v", c.KeyFiles, want)
	}

	c = parse(t, "version: 0.1\nstorage: filesystem\nauth:\n  token: {realm: r, service: s, issuer: i, jwks: /etc/registry/jwks.json}\n")
	want = []regconfig.KeyFile{{Key: "auth.token.jwks", Path: "/etc/registry/jwks.json"}}
	if !reflect.DeepEqual(c.KeyFiles, want) {
		t.Errorf("jwks key files %v, want %v", c.KeyFiles, want)
	}

	msg := parseErr(t, "version: 0.1\nstorage: filesystem\nauth:\n  htpasswd: {realm: basic, path: [a, b]}\n")
	if !strings.Contains(msg, "auth.htpasswd.path: want a file name, got a list") {
		t.Errorf("error %q does not name auth.htpasswd.path and what is wrong", msg)
	}
	msg = parseErr(t, "version: 0.1\nstorage: filesystem\nhttp:\n  tls:\n    certificate: {a: b}\n")
	if !strings.Contains(msg, "line 5: http.tls.certificate: want a file name") {
		t.Errorf("error %q does not name the line and http.tls.certificate", msg)
	}
}

func TestKeyFileCheck(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(f, []byte("u:$2y$05$x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := (regconfig.KeyFile{Key: "auth.htpasswd.path", Path: f}).Check(); err != nil {
		t.Errorf("Check of an existing file: %v", err)
	}
	err := regconfig.KeyFile{Key: "auth.htpasswd.path", Path: filepath.Join(dir, "missing")}.Check()
	if err == nil || !strings.Contains(err.Error(), "auth.htpasswd.path names "+filepath.Join(dir, "missing")+", which does not exist") {
		t.Errorf("Check of a missing file: %v, want it to name the key and the path", err)
	}
	err = regconfig.KeyFile{Key: "http.tls.key", Path: dir}.Check()
	if err == nil || !strings.Contains(err.Error(), "http.tls.key") {
		t.Errorf("Check of a folder: %v, want an error naming http.tls.key", err)
	}
}

func TestStorageDriverCount(t *testing.T) {
	for _, tc := range []struct{ name, yml, want string }{
		{"no-storage", "version: 0.1\nhttp: {addr: \":5000\"}\n", "config.yml: no storage section"},
		{"only-settings", "version: 0.1\nstorage:\n  delete: {enabled: true}\n  cache: {blobdescriptor: inmemory}\n",
			"config.yml: storage names no driver (only cache, delete)"},
		{"two-drivers", "version: 0.1\nstorage:\n  filesystem: {rootdirectory: /a}\n  s3: {bucket: b, secretkey: topsecretvalue}\n",
			"storage names several drivers (filesystem at line 3, s3 at line 4)"},
		{"empty-file", "", "no storage section"},
		{"comment-only", "# nothing\n", "no storage section"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := parseErr(t, tc.yml)
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q\ndoes not contain %q", msg, tc.want)
			}
			if strings.Contains(msg, "topsecretvalue") {
				t.Errorf("error %q contains a secret", msg)
			}
		})
	}
}

func TestMalformedYAML(t *testing.T) {
	for _, tc := range []struct{ name, yml, want string }{
		{"unclosed-flow", "version: 0.1\nstorage:\n  s3:\n    bucket: [registry\n    region: x\n", "config.yml: line "},
		{"bad-indent", "version: 0.1\nstorage:\n  s3:\n    bucket: b\n   region: r\n", "config.yml: line 2: did not find expected key"},
		{"tab", "version: 0.1\nstorage:\n\ts3: {}\n", "config.yml: line 3"},
		{"top-is-list", "- storage\n- http\n", "config.yml: line 1: want a mapping of sections"},
		{"storage-is-list", "version: 0.1\nstorage:\n  - filesystem\n", "config.yml: line 3: storage: want a name or a mapping, got a list"},
		{"params-not-mapping", "version: 0.1\nstorage:\n  filesystem: /var/lib/registry\n", "config.yml: line 3: storage.filesystem: want a mapping of parameters"},
		{"clientcas-not-list", "version: 0.1\nstorage: filesystem\nhttp:\n  tls:\n    clientcas: /ca.pem\n", "config.yml: line 5: http.tls.clientcas: want a list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := parseErr(t, tc.yml)
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q\ndoes not contain %q", msg, tc.want)
			}
			if !strings.HasPrefix(msg, "registry config config.yml: ") {
				t.Errorf("error %q does not start by naming the file", msg)
			}
		})
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfg, []byte("version: 0.1\nstorage:\n  filesystem: {rootdirectory: /data}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := regconfig.Load(cfg, regconfig.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.File != cfg || c.Driver != "filesystem" || c.Params["rootdirectory"] != "/data" {
		t.Errorf("Load gave %s with %v", c, c.Params)
	}

	_, err = regconfig.Load(filepath.Join(dir, "nope.yml"), regconfig.Options{})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "nope.yml")+" does not exist") {
		t.Errorf("Load of a missing file: %v, want it to name the file", err)
	}

	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("version: 0.1\nstorage:\n  s3: {bucket: \"unterminated}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = regconfig.Load(bad, regconfig.Options{})
	if err == nil || !strings.Contains(err.Error(), bad+": line 3") {
		t.Errorf("Load of invalid YAML: %v, want it to name the file and line 3", err)
	}

	if os.Geteuid() != 0 {
		unreadable := filepath.Join(dir, "unreadable.yml")
		if err := os.WriteFile(unreadable, []byte("storage: filesystem\n"), 0o000); err != nil {
			t.Fatal(err)
		}
		_, err = regconfig.Load(unreadable, regconfig.Options{})
		if err == nil || !strings.Contains(err.Error(), unreadable) || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("Load of an unreadable file: %v, want it to name the file and say why", err)
		}
	}
}
