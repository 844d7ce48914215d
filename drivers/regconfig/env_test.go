package regconfig_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/drivers/regconfig"
)

const fsConfig = `version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete: {enabled: true}
  cache: {blobdescriptor: inmemory}
http:
  addr: ":5000"
`

func overrideNames(c *regconfig.Config) []string {
	var out []string
	for _, o := range c.Overrides {
		out = append(out, o.Name)
	}
	return out
}

func TestOverrideOneParameter(t *testing.T) {
	c := parse(t, fsConfig, "HOME=/root", "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/mnt/registry", "REGISTRY_LOG_LEVEL=debug")
	if c.Driver != "filesystem" || c.Params["rootdirectory"] != "/mnt/registry" {
		t.Errorf("got %s with %v, want filesystem rootdirectory /mnt/registry", c, c.Params)
	}
	if got := overrideNames(c); !reflect.DeepEqual(got, []string{"REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY"}) {
		t.Errorf("overrides %v, want only the storage one (REGISTRY_LOG_LEVEL does not change what regbackup reads)", got)
	}
	// A relative root from the environment is resolved like one from the file.
	c = parse(t, fsConfig, "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=data")
	if c.Params["rootdirectory"] != "/srv/registry/data" {
		t.Errorf("relative root from the environment: %v", c.Params["rootdirectory"])
	}
	// A parameter the file does not have is added.
	c = parse(t, fsConfig, "REGISTRY_STORAGE_FILESYSTEM_MAXTHREADS=50")
	if !reflect.DeepEqual(c.Params, map[string]any{"rootdirectory": "/var/lib/registry", "maxthreads": 50}) {
		t.Errorf("params %v", c.Params)
	}
}

func TestOverrideWholeStorage(t *testing.T) {
	// Given in an order where the specific variables come first: the
	// registry sorts them, so REGISTRY_STORAGE is applied before the rest.
	c := parse(t, fsConfig,
		"REGISTRY_STORAGE_S3_REGION=us-east-1",
		"REGISTRY_STORAGE_S3_BUCKET=registry",
		"REGISTRY_STORAGE_S3_SECRETKEY=envsecretvalue",
		"REGISTRY_STORAGE=s3",
	)
	want := map[string]any{"region": "us-east-1", "bucket": "registry", "secretkey": "envsecretvalue"}
	if c.Driver != "s3" || !reflect.DeepEqual(c.Params, want) {
		t.Errorf("got %s with %v, want s3 with %v", c, c.Params, want)
	}
	wantNames := []string{"REGISTRY_STORAGE", "REGISTRY_STORAGE_S3_BUCKET", "REGISTRY_STORAGE_S3_REGION", "REGISTRY_STORAGE_S3_SECRETKEY"}
	if got := overrideNames(c); !reflect.DeepEqual(got, wantNames) {
		t.Errorf("overrides %v, want %v (sorted)", got, wantNames)
	}

	// A whole driver section as a YAML mapping.
	c = parse(t, fsConfig, "REGISTRY_STORAGE={azure: {accountname: a, container: c}, delete: {enabled: true}}")
	if c.Driver != "azure" || !reflect.DeepEqual(c.Params, map[string]any{"accountname": "a", "container": "c"}) {
		t.Errorf("got %s with %v", c, c.Params)
	}
	c = parse(t, "version: 0.1\nstorage:\n  s3: {bucket: old, region: r}\n", "REGISTRY_STORAGE_S3={bucket: new}")
	if !reflect.DeepEqual(c.Params, map[string]any{"bucket": "new"}) {
		t.Errorf("REGISTRY_STORAGE_S3 must replace the s3 parameters: %v", c.Params)
	}
	// REGISTRY_STORAGE set to nothing removes the section, as in the registry.
	msg := parseErr(t, fsConfig, "REGISTRY_STORAGE=")
	if !strings.Contains(msg, "no storage section") {
		t.Errorf("error %q", msg)
	}
}

func TestOverrideYAMLTypedValues(t *testing.T) {
	c := parse(t, "version: 0.1\nstorage:\n  s3: {bucket: b}\n",
		"REGISTRY_STORAGE_S3_SECURE=false",
		"REGISTRY_STORAGE_S3_V4AUTH=yes", // YAML 1.1, as the registry's yaml v2 reads it
		"REGISTRY_STORAGE_S3_ENCRYPT=off",
		"REGISTRY_STORAGE_S3_CHUNKSIZE=10485760",
		"REGISTRY_STORAGE_S3_ROOTDIRECTORY='123'", // quoted: a string
		"REGISTRY_STORAGE_S3_KEYID=~",
		"REGISTRY_STORAGE_S3_REGION=",
		"REGISTRY_STORAGE_S3_STORAGECLASS=\"NONE\"",
		"REGISTRY_STORAGE_S3_SKIPVERIFY=True",
	)
	want := map[string]any{"bucket": "b", "secure": false, "v4auth": true, "encrypt": false, "chunksize": 10485760,
		"rootdirectory": "123", "keyid": nil, "region": nil, "storageclass": "NONE", "skipverify": true}
	if !reflect.DeepEqual(c.Params, want) {
		t.Errorf("params\n got %#v\nwant %#v", c.Params, want)
	}
}

func TestOverrideNested(t *testing.T) {
	// A mapping the file has is held by the registry as a map with
	// non-string keys: its overrides do not reach into it.
	azure := "version: 0.1\nstorage:\n  azure:\n    accountname: a\n    container: c\n    credentials: {type: shared_key}\n"
	c := parse(t, azure, "REGISTRY_STORAGE_AZURE_CREDENTIALS_TYPE=default_credentials")
	if got := c.Params["credentials"]; !reflect.DeepEqual(got, map[string]any{"type": "shared_key"}) {
		t.Errorf("credentials %v: an override below a mapping from the file must be ignored", got)
	}
	if len(c.Overrides) != 1 || c.Overrides[0].Ignored == "" {
		t.Errorf("overrides %+v: want the variable reported as ignored", c.Overrides)
	}
	// Without the mapping in the file, the override creates it.
	c = parse(t, "version: 0.1\nstorage:\n  azure: {accountname: a, container: c}\n",
		"REGISTRY_STORAGE_AZURE_CREDENTIALS_TYPE=client_secret", "REGISTRY_STORAGE_AZURE_CREDENTIALS_CLIENTID=id1")
	want := map[string]any{"type": "client_secret", "clientid": "id1"}
	if got := c.Params["credentials"]; !reflect.DeepEqual(got, want) {
		t.Errorf("credentials %v, want %v", got, want)
	}
	// Keys are matched upper-cased; the new key is lower-cased.
	c = parse(t, "version: 0.1\nstorage:\n  s3: {Bucket: old}\n", "REGISTRY_STORAGE_S3_BUCKET=new")
	if !reflect.DeepEqual(c.Params, map[string]any{"Bucket": "old", "bucket": "new"}) {
		t.Errorf("params %v", c.Params)
	}
	// Names that are not upper case match nothing, as in the registry.
	c = parse(t, fsConfig, "REGISTRY_storage_filesystem_rootdirectory=/elsewhere")
	if c.Params["rootdirectory"] != "/var/lib/registry" {
		t.Errorf("a lower-case variable changed the root: %v", c.Params)
	}
}

func TestOverrideAddsSecondDriver(t *testing.T) {
	// The classic mistake: the file has filesystem, the environment sets
	// s3 parameters without REGISTRY_STORAGE=s3.
	msg := parseErr(t, fsConfig, "REGISTRY_STORAGE_S3_BUCKET=b", "REGISTRY_STORAGE_S3_SECRETKEY=envsecretvalue")
	for _, want := range []string{"several drivers", "filesystem at line 3", "s3 from REGISTRY_STORAGE_S3_BUCKET", "REGISTRY_STORAGE=<driver>"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q\ndoes not contain %q", msg, want)
		}
	}
	if strings.Contains(msg, "envsecretvalue") {
		t.Errorf("error %q contains a secret", msg)
	}
}

func TestOverrideUnderscoreDriverNames(t *testing.T) {
	// GitLab's s3_v2: the registry splits REGISTRY_STORAGE_S3_V2_BUCKET into
	// STORAGE, S3, V2, BUCKET, i.e. storage.s3.v2.bucket: a second driver.
	msg := parseErr(t, "version: 0.1\nstorage:\n  s3_v2: {bucket: a, region: r}\n", "REGISTRY_STORAGE_S3_V2_BUCKET=b")
	for _, want := range []string{"several drivers", "s3 from REGISTRY_STORAGE_S3_V2_BUCKET", `splits variable names at every "_"`, "put that parameter in the config file"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q\ndoes not contain %q", msg, want)
		}
	}
	// REGISTRY_STORAGE=s3_v2 works: the value is not split.
	c := parse(t, fsConfig, "REGISTRY_STORAGE=s3_v2")
	if c.Driver != "s3_v2" {
		t.Errorf("driver %q", c.Driver)
	}
	// A whole section as YAML is the way to set s3_v2 parameters.
	c = parse(t, fsConfig, "REGISTRY_STORAGE={s3_v2: {bucket: b, region: r}}")
	if c.Driver != "s3_v2" || !reflect.DeepEqual(c.Params, map[string]any{"bucket": "b", "region": "r"}) {
		t.Errorf("got %s with %v", c, c.Params)
	}
}

func TestOverrideKeyFiles(t *testing.T) {
	c := parse(t, "version: 0.1\nstorage: filesystem\nauth:\n  htpasswd: {realm: r, path: /old/htpasswd}\nhttp:\n  tls: {certificate: /old.crt, key: /old.key}\n",
		"REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd",
		"REGISTRY_HTTP_TLS_CERTIFICATE=/certs/domain.crt",
		"REGISTRY_HTTP_TLS_CLIENTCAS=[/certs/ca.pem]",
		"REGISTRY_HTTP_ADDR=:443",
	)
	want := []regconfig.KeyFile{
		{Key: "http.tls.certificate", Path: "/certs/domain.crt"},
		{Key: "http.tls.key", Path: "/old.key"},
		{Key: "http.tls.clientcas[0]", Path: "/certs/ca.pem"},
		{Key: "auth.htpasswd.path", Path: "/auth/htpasswd"},
	}
	if !reflect.DeepEqual(c.KeyFiles, want) {
		t.Errorf("key files\n got %v\nwant %v", c.KeyFiles, want)
	}
	// REGISTRY_AUTH replaces the auth section; then its parameters follow.
	c = parse(t, "version: 0.1\nstorage: filesystem\nauth:\n  htpasswd: {realm: r, path: /old/htpasswd}\n",
		"REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE=/certs/bundle.pem", "REGISTRY_AUTH=token")
	want = []regconfig.KeyFile{{Key: "auth.token.rootcertbundle", Path: "/certs/bundle.pem"}}
	if !reflect.DeepEqual(c.KeyFiles, want) {
		t.Errorf("key files %v, want %v", c.KeyFiles, want)
	}
	// Single list entries of strings are not set by the registry: ignored.
	c = parse(t, "version: 0.1\nstorage: filesystem\nhttp:\n  tls: {clientcas: [/a.pem]}\n", "REGISTRY_HTTP_TLS_CLIENTCAS_0=/b.pem")
	if len(c.KeyFiles) != 1 || c.KeyFiles[0].Path != "/a.pem" {
		t.Errorf("key files %v", c.KeyFiles)
	}
	if len(c.Overrides) != 1 || !strings.Contains(c.Overrides[0].Ignored, "REGISTRY_HTTP_TLS_CLIENTCAS='[") {
		t.Errorf("overrides %+v: want REGISTRY_HTTP_TLS_CLIENTCAS_0 reported as ignored, with what to do", c.Overrides)
	}
}

func TestOverrideInvalidValue(t *testing.T) {
	msg := parseErr(t, fsConfig, "REGISTRY_STORAGE_FILESYSTEM={rootdirectory: [unclosed-secret-value")
	if !strings.Contains(msg, "environment variable REGISTRY_STORAGE_FILESYSTEM: its value is not valid YAML") {
		t.Errorf("error %q does not name the variable", msg)
	}
	if strings.Contains(msg, "unclosed-secret-value") {
		t.Errorf("error %q quotes the value", msg)
	}
	msg = parseErr(t, fsConfig, "REGISTRY_STORAGE_FILESYSTEM=just-a-string-secret")
	if !strings.Contains(msg, "REGISTRY_STORAGE_FILESYSTEM") || !strings.Contains(msg, "want a mapping of parameters") {
		t.Errorf("error %q", msg)
	}
	if strings.Contains(msg, "just-a-string-secret") {
		t.Errorf("error %q quotes the value", msg)
	}
}
