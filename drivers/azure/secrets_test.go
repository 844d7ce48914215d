package azure

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/regbackup/regbackup/drivers"
)

const (
	testKey = "U0VDUkVUS0VZU0VDUkVUS0VZU0VDUkVUS0VZ" // base64 "SECRETKEYSECRETKEYSECRETKEY"
	testSig = "SECRETSIG%2Babc%3D"
)

// secretDriver holds a key, a SAS, a connection string and a client secret.
func secretDriver(t *testing.T) *Driver {
	cfg, err := Config{Account: "acct", Container: "registry", AccountKey: testKey, SAS: "sv=2024-01-01&sig=" + testSig,
		ClientSecret: "CLIENTSECRET", ConnectionString: "AccountName=acct;AccountKey=" + testKey}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return &Driver{cfg: cfg, prefix: rootPrefix("reg", false)}
}

func checkNoSecret(t *testing.T, what, msg string) {
	t.Helper()
	for _, s := range []string{testKey, "SECRETKEY", testSig, "SECRETSIG", "CLIENTSECRET"} {
		if strings.Contains(msg, s) {
			t.Errorf("%s: %q contains a secret (%s)", what, msg, s)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("%s: several lines: %q", what, msg)
	}
}

func TestStringHasNoSecrets(t *testing.T) {
	d := secretDriver(t)
	checkNoSecret(t, "String()", d.String())
	if want := "azure://registry?account=acct"; d.String() != want {
		t.Errorf("String() = %q, want %q", d.String(), want)
	}
}

// TestErrorsHaveNoSecrets feeds opErr the errors the SDK produces, with the
// SAS signature in the request URL, and checks what users would see.
func TestErrorsHaveNoSecrets(t *testing.T) {
	d := secretDriver(t)
	ctx := context.Background()
	reqURL := "https://acct.blob.core.windows.net/registry/reg/x?sv=2024-01-01&sig=" + testSig
	req, _ := http.NewRequest(http.MethodGet, reqURL, nil)
	response := func(status int, code, body string) *http.Response {
		h := http.Header{}
		if code != "" {
			h.Set("x-ms-error-code", code)
		}
		return &http.Response{StatusCode: status, Status: http.StatusText(status), Header: h, Request: req,
			Body: io.NopCloser(strings.NewReader(body))}
	}
	for _, tc := range []struct {
		what string
		err  error
		want string
	}{
		{"403", runtime.NewResponseError(response(403, "AuthenticationFailed", "<Error><Message>Signature "+testSig+" did not match</Message></Error>")), "HTTP 403 AuthenticationFailed"},
		{"404 blob", runtime.NewResponseError(response(404, "BlobNotFound", "")), "not found"},
		{"404 container", runtime.NewResponseError(response(404, "ContainerNotFound", "")), "does not exist"},
		{"503", runtime.NewResponseError(response(503, "ServerBusy", "busy\nbusy")), "HTTP 503 ServerBusy"},
		{"connection refused", &url.Error{Op: "Get", URL: reqURL, Err: &net.OpError{Op: "dial", Net: "tcp",
			Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, Err: syscall.ECONNREFUSED}}, "cannot connect to 127.0.0.1:1"},
		{"dns", &url.Error{Op: "Get", URL: reqURL, Err: &net.DNSError{Name: "acct.blob.core.windows.net", Err: "no such host"}}, "cannot resolve"},
		{"other", errors.New("something " + testKey + " happened\nsecond line " + testSig), "something [REDACTED] happened"},
	} {
		err := d.opErr(ctx, "stat", "docker/x", tc.err)
		msg := err.Error()
		t.Logf("%s: %s", tc.what, msg)
		checkNoSecret(t, tc.what, msg)
		if !strings.Contains(msg, tc.want) || !strings.Contains(msg, "azure: stat registry/reg/docker/x") {
			t.Errorf("%s: %q; want it to name the blob and say %q", tc.what, msg, tc.want)
		}
		if tc.what == "404 blob" && !errors.Is(err, drivers.ErrNotFound) {
			t.Errorf("404 blob: %v does not wrap ErrNotFound", err)
		}
	}
}

// TestNewErrorsHaveNoSecrets: configuration errors found before any
// request never quote a credential.
func TestNewErrorsHaveNoSecrets(t *testing.T) {
	for _, cfg := range []Config{
		{Account: "acct", Container: "registry", AccountKey: "not base64 SECRETKEY!"},
		{Container: "registry", ConnectionString: "AccountKey=SECRETKEY"},
		{Container: "registry", ConnectionString: "SECRETKEY"},
		{Account: "acct", Container: "Bad_Name", AccountKey: testKey},
		{Account: "acct", Container: "registry", AccountKey: testKey, ServiceURL: "https://acct.blob.core.windows.net/?sig=" + testSig},
		{Account: "acct", Container: "registry", Credential: ClientSecret, ClientSecret: "CLIENTSECRET"},
	} {
		_, err := New(context.Background(), cfg)
		if err == nil {
			t.Errorf("%+v: New succeeded", cfg.Container)
			continue
		}
		t.Logf("New: %s", err)
		checkNoSecret(t, "New", err.Error())
		if !strings.HasPrefix(err.Error(), "azure: azure://") {
			t.Errorf("New error %q does not start with the driver and location", err)
		}
	}
}
