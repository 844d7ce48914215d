package azure_test

// New and locations on Azurite: failing fast, azure:// URLs, registry params.

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/azure"
	"github.com/regbackup/regbackup/integration/servers"
)

// testNewFailsFast: a wrong key, a missing container and a closed port
// fail in New within seconds, in one line that names the location and
// holds no secret.
func testNewFailsFast(t *testing.T, az *servers.AzureServer) {
	name := az.NewContainer(t)
	wrongKey := "AAAA" + az.Key[4:]
	closed := servers.FreePort(t)
	for _, tc := range []struct {
		what string
		cfg  azure.Config
		want string
	}{
		{"wrong key", azure.Config{Account: az.Account, AccountKey: wrongKey, ServiceURL: az.Endpoint, Container: name}, "AZURE_STORAGE_KEY"},
		{"missing container", azure.Config{Account: az.Account, AccountKey: az.Key, ServiceURL: az.Endpoint, Container: "no-such-container"}, "does not exist"},
		{"closed port", azure.Config{Account: az.Account, AccountKey: az.Key, ServiceURL: "http://127.0.0.1:" + strconv.Itoa(closed) + "/" + az.Account, Container: name}, "cannot connect"},
		{"closed port, SAS", azure.Config{Account: az.Account, SAS: "sv=2024-01-01&sig=SECRETSIGNATURE%2Bxyz", ServiceURL: "http://127.0.0.1:" + strconv.Itoa(closed) + "/" + az.Account, Container: name}, "cannot connect"},
	} {
		start := time.Now()
		_, err := azure.New(context.Background(), tc.cfg)
		took := time.Since(start)
		if err == nil {
			t.Errorf("%s: New succeeded", tc.what)
			continue
		}
		msg := err.Error()
		t.Logf("%s: %s (in %s)", tc.what, msg, took.Round(time.Millisecond))
		switch {
		case took > 5*time.Second:
			t.Errorf("%s: New took %s, want a few seconds at most", tc.what, took)
		case strings.Contains(msg, "\n"):
			t.Errorf("%s: error has several lines:\n%s", tc.what, msg)
		case !strings.Contains(msg, "azure://"+tc.cfg.Container):
			t.Errorf("%s: error %q does not name the location", tc.what, msg)
		case !strings.Contains(msg, tc.want):
			t.Errorf("%s: error %q does not say %q", tc.what, msg, tc.want)
		case strings.Contains(msg, wrongKey) || strings.Contains(msg, az.Key) || strings.Contains(msg, "SECRETSIGNATURE"):
			t.Errorf("%s: error %q contains a secret", tc.what, msg)
		}
	}
}

// testLocations opens azure:// URLs through drivers.Open, with the key in
// the environment, and a registry config storage section through
// drivers.OpenParams; both reach the same blobs.
func testLocations(t *testing.T, az *servers.AzureServer) {
	name := az.NewContainer(t)
	t.Setenv(azure.EnvKey, az.Key)
	t.Setenv(azure.EnvConnectionString, "")
	t.Setenv(azure.EnvSAS, "")
	loc := "azure://" + name + "/reg?account=" + az.Account + "&endpoint=" + az.Endpoint
	d, err := drivers.Open(t.Context(), loc)
	if err != nil {
		t.Fatal(err)
	}
	if d.String() != loc {
		t.Errorf("String() = %q, want %q", d.String(), loc)
	}
	if n := drivers.DefaultConcurrency(d, 4); n != 16 {
		t.Errorf("DefaultConcurrency = %d, want 16", n)
	}
	const p = "docker/registry/v2/repositories/a/_layers/sha256/00/link"
	if err := d.Put(t.Context(), p, strings.NewReader("via url"), 7); err != nil {
		t.Fatal(err)
	}
	pd, ok, err := drivers.OpenParams(t.Context(), "azure", map[string]any{
		"accountname": az.Account, "accountkey": az.Key, "container": name, "serviceurl": az.Endpoint,
		"rootdirectory": "/reg", "credentials": map[string]any{"type": "shared_key"},
	})
	if !ok || err != nil {
		t.Fatalf("OpenParams(azure) = %v, %v", ok, err)
	}
	if fi, err := pd.Stat(t.Context(), p); err != nil || fi.Size != 7 {
		t.Fatalf("the registry-config driver does not see the URL driver's file: %+v, %v", fi, err)
	}
	// Azurite as the endpoint host gives the account from the path.
	t.Setenv(azure.EnvAccount, "")
	if d2, err := drivers.Open(t.Context(), "azure://"+name+"/reg?endpoint="+az.Endpoint); err != nil {
		t.Errorf("Open without account= (account from the endpoint path): %v", err)
	} else if _, err := d2.Stat(t.Context(), p); err != nil {
		t.Error(err)
	}
}
