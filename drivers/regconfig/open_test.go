package regconfig_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/drivers"
	_ "github.com/regbackup/regbackup/drivers/filesystem"
	"github.com/regbackup/regbackup/drivers/regconfig"
)

// leakyDriver is a backend whose errors quote every parameter, secrets
// included: Open must still never let a secret through.
const leakyDriver = "regconfigtest-leaky"

func init() {
	drivers.RegisterParams(leakyDriver, func(_ context.Context, p map[string]any) (drivers.Driver, error) {
		return nil, fmt.Errorf("cannot connect with %v", p)
	})
}

func TestOpenFilesystem(t *testing.T) {
	root := t.TempDir()
	c := parse(t, fmt.Sprintf("version: 0.1\nstorage:\n  filesystem: {rootdirectory: %q}\n", root))
	d, err := c.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d.Name() != "filesystem" || d.String() != "file://"+root {
		t.Errorf("opened %s %s, want filesystem file://%s", d.Name(), d, root)
	}
	// The data is really there: a file put through it lands below root.
	if err := d.Put(context.Background(), "docker/registry/v2/x", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "docker/registry/v2/x")); err != nil {
		t.Errorf("file not below the configured root: %v", err)
	}

	// A missing root is an error naming it (backups never read an empty
	// folder by mistake).
	missing := filepath.Join(root, "nope")
	c = parse(t, fmt.Sprintf("version: 0.1\nstorage:\n  filesystem: {rootdirectory: %q}\n", missing))
	if _, err := c.Open(context.Background()); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Open of a missing root: %v, want an error naming %s", err, missing)
	}
	c = parse(t, "version: 0.1\nstorage:\n  filesystem: {rootdirectory: \"\"}\n")
	if _, err := c.Open(context.Background()); err == nil || !strings.Contains(err.Error(), "rootdirectory is empty") {
		t.Errorf("Open of an empty root: %v", err)
	}
}

func TestOpenUnsupported(t *testing.T) {
	for _, tc := range []struct{ name, yml, want string }{
		// This test binary links only the filesystem backend.
		{"swift", "version: 0.1\nstorage:\n  swift: {username: u, password: swiftsecretpw, authurl: https://auth, container: reg}\n",
			"storage driver swift is not built into this regbackup (it reads: filesystem, " + leakyDriver + ")"},
		{"oss", "version: 0.1\nstorage:\n  oss: {accesskeyid: id, accesskeysecret: osssecretvalue, region: r, bucket: b}\n",
			"storage driver oss is not built into this regbackup"},
		{"inmemory", "version: 0.1\nstorage: inmemory\n",
			"inmemory storage disappears when the registry stops: there is nothing on disk to back up"},
		{"unknown", "version: 0.1\nstorage:\n  ftp: {host: h, password: ftpsecretpw}\n",
			`unsupported storage driver "ftp" (regbackup reads: filesystem, ` + leakyDriver + `)`},
		// This test binary links only the filesystem backend.
		{"not-built-in", "version: 0.1\nstorage:\n  s3: {bucket: b, secretkey: s3secretvalue}\n",
			"storage driver s3 is not built into this regbackup (it reads: filesystem, " + leakyDriver + ")"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := parse(t, tc.yml)
			_, err := c.Open(context.Background())
			if err == nil {
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, regconfig.ErrUnsupported) {
				t.Errorf("error %q does not wrap ErrUnsupported", err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "registry config config.yml: ") {
				t.Errorf("error %q\nwant it to name config.yml and contain %q", err, tc.want)
			}
			for _, s := range []string{"swiftsecretpw", "osssecretvalue", "ftpsecretpw", "s3secretvalue"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains a secret", err)
				}
			}
		})
	}
}

// TestSecretsNeverShown puts secrets into every kind of parameter and
// checks errors, String and %v/%+v/%#v of the Config.
func TestSecretsNeverShown(t *testing.T) {
	secrets := []string{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "sessiontokenvalue",
		"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
		"clientsecretvalue", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"}
	yml := fmt.Sprintf(`version: 0.1
storage:
  %s:
    accesskey: %s
    secretkey: %s
    sessiontoken: %s
    accountkey: %s
    credentials:
      type: client_secret
      secret: %s
      private_key: "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----"
    bucket: registry
http:
  secret: httpsecretvalue
`, leakyDriver, secrets[0], secrets[1], secrets[2], secrets[3], secrets[4], secrets[5])
	secrets = append(secrets, "httpsecretvalue")
	check := func(what, s string) {
		t.Helper()
		for _, sec := range secrets {
			if strings.Contains(s, sec) {
				t.Errorf("%s shows a secret: %q", what, s)
			}
		}
	}

	c := parse(t, yml)
	check("String", c.String())
	check("%v", fmt.Sprintf("%v", c))
	check("%+v", fmt.Sprintf("%+v", c))
	check("%#v", fmt.Sprintf("%#v", c))
	_, err := c.Open(context.Background())
	if err == nil || !strings.Contains(err.Error(), "registry config config.yml: cannot connect") {
		t.Fatalf("Open: %v, want the backend's error", err)
	}
	check("Open error", err.Error())
	if !strings.Contains(err.Error(), "bucket:registry") {
		t.Errorf("redaction removed more than the secrets: %q", err)
	}

	// The same secrets coming from the environment.
	c = parse(t, "version: 0.1\nstorage: s3\n", "REGISTRY_STORAGE_S3_ACCESSKEY="+secrets[0], "REGISTRY_STORAGE_S3_SECRETKEY="+secrets[1])
	if c.Params["secretkey"] != secrets[1] {
		t.Errorf("secretkey from the environment not applied")
	}
	check("%v", fmt.Sprintf("%v", c))
	check("%#v", fmt.Sprintf("%#v", c))

	// Errors about a broken config that holds secrets.
	for i, bad := range []struct {
		yml string
		env []string
	}{
		{strings.Replace(yml, "storage:\n", "storage:\n  filesystem: {}\n", 1), nil}, // two drivers
		{strings.Replace(yml, "bucket: registry", "bucket: [registry", 1), nil},
		{yml, []string{"REGISTRY_STORAGE_S3_SECRETKEY=" + secrets[1]}}, // a second driver from the environment
		{yml, []string{"REGISTRY_STORAGE_SECRETKEY=" + secrets[1]}},    // not a mapping of parameters
		{yml, []string{"REGISTRY_STORAGE_" + strings.ToUpper(leakyDriver) + "_SECRETKEY={" + secrets[1]}},
		{yml, []string{"REGISTRY_STORAGE=" + secrets[1] + ": [x"}},
		{"version: 0.1\nstorage:\n  swift: {password: " + secrets[1] + "}\n", nil},
	} {
		c, err := regconfig.Parse("config.yml", []byte(bad.yml), regconfig.Options{Env: bad.env, WorkDir: "/"})
		if err == nil {
			_, err = c.Open(context.Background())
		}
		if err == nil {
			t.Errorf("case %d: no error", i)
			continue
		}
		check("error", err.Error())
	}
}

func TestRedactSecrets(t *testing.T) {
	p := map[string]any{"accesskey": "AKIAEXAMPLE", "bucket": "registry", "region": "us",
		"credentials": map[string]any{"type": "shared", "key": "inner-secret"}, "list": []any{"a"}}
	got := regconfig.RedactSecrets("AKIAEXAMPLE registry inner-secret shared us", p)
	if got != "<redacted> registry <redacted> <redacted> us" {
		t.Errorf("RedactSecrets: %q", got)
	}
	for _, name := range []string{"accesskey", "SecretKey", "accountkey", "sessiontoken", "credentials", "password", "accesskeysecret"} {
		if !regconfig.IsSecret(name) {
			t.Errorf("IsSecret(%q) = false", name)
		}
	}
	for _, name := range []string{"bucket", "region", "rootdirectory", "keyfile", "accountname", "container"} {
		if regconfig.IsSecret(name) {
			t.Errorf("IsSecret(%q) = true", name)
		}
	}
}
