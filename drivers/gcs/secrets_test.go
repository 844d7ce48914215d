package gcs_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/gcs"
)

// secret is in every key below; it must never show in a message.
const secret = "TOPSECRETKEYMATERIAL"

func checkNoSecret(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, secret) || strings.Contains(s, "PRIVATE KEY") {
		t.Errorf("%s shows key material: %s", what, s)
	}
	if strings.ContainsAny(s, "\r\n") {
		t.Errorf("%s spans several lines: %q", what, s)
	}
}

func TestSecretsNeverShown(t *testing.T) {
	f := startFake(t)
	bucket := f.newBucket(t)
	closed := "http://127.0.0.1:1/token"
	key := fmt.Sprintf(`{"type": "service_account", "project_id": "p", "private_key_id": "1",
		"private_key": "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n",
		"client_email": "a@p.iam.gserviceaccount.com", "token_uri": %q}`, secret, closed)

	cfg := f.config(bucket, "reg")
	cfg.CredentialsJSON = []byte(key)
	cfg.CheckTimeout = 3 * time.Second
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		checkNoSecret(t, "Config printed with "+verb, fmt.Sprintf(verb, cfg))
	}

	// Inline key that cannot sign: the error says so without the key.
	if _, err := gcs.New(t.Context(), cfg); err == nil {
		t.Error("New with an unusable key succeeded")
	} else {
		t.Logf("inline key: %v", err)
		checkNoSecret(t, "New error (inline key)", err.Error())
		if !strings.Contains(err.Error(), "could not get an access token with the credentials given") {
			t.Errorf("New error with an unusable key does not say so: %v", err)
		}
	}

	// A real RSA key whose token endpoint is unreachable: the key parses,
	// the token request fails; no part of the key shows.
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	realKey, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": "p", "private_key_id": "1",
		"private_key": pemKey, "client_email": "a@p.iam.gserviceaccount.com", "token_uri": closed})
	cfg.CredentialsJSON = realKey
	if _, err := gcs.New(t.Context(), cfg); err == nil {
		t.Error("New with an unreachable token endpoint succeeded")
	} else {
		t.Logf("real key, token endpoint closed: %v", err)
		checkNoSecret(t, "New error (real key)", err.Error())
		body := base64.StdEncoding.EncodeToString(der)
		for i := 0; i+24 <= len(body); i += 24 {
			if strings.Contains(err.Error(), body[i:i+24]) {
				t.Fatalf("New error shows part of the private key: %v", err)
			}
		}
		if !strings.Contains(err.Error(), "could not get an access token") {
			t.Errorf("New error with an unreachable token endpoint does not say it is about credentials: %v", err)
		}
	}

	// The same key in a file, and a damaged key file.
	dir := t.TempDir()
	for name, content := range map[string]string{
		"key.json":     key,
		"damaged.json": `{"type": "service_account", "private_key": "` + secret,
		"notype.json":  `{"private_key": "` + secret + `"}`,
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := f.config(bucket, "reg")
		cfg.KeyFile = p
		cfg.CheckTimeout = 3 * time.Second
		checkNoSecret(t, "Config with a key file", fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg))
		_, err := gcs.New(t.Context(), cfg)
		if err == nil {
			t.Errorf("New with key file %s succeeded", name)
			continue
		}
		t.Logf("key file %s: %v", name, err)
		checkNoSecret(t, "New error (key file "+name+")", err.Error())
	}

	// A registry config with the key inline, through drivers.OpenParams.
	var params map[string]any
	if err := yaml.Unmarshal([]byte(serviceAccountYAML), &params); err != nil {
		t.Fatal(err)
	}
	params["credentials"].(map[string]any)["token_uri"] = closed
	_, ok, err := drivers.OpenParams(t.Context(), "gcs", params)
	if !ok || err == nil {
		t.Fatalf("OpenParams(gcs) = ok %v, err %v; want a registered driver failing", ok, err)
	}
	t.Logf("registry params: %v", err)
	checkNoSecret(t, "OpenParams error", err.Error())

	// A working driver's String.
	d := f.open(t, bucket, "reg")
	checkNoSecret(t, "Driver.String", d.String())
}
