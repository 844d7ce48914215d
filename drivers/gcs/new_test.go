package gcs_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/regbackup/regbackup/drivers/gcs"
)

// newFails calls New and checks that it fails within limit with one line
// naming the location and saying want.
func newFails(t *testing.T, cfg gcs.Config, limit time.Duration, want ...string) string {
	t.Helper()
	start := time.Now()
	d, err := gcs.New(t.Context(), cfg)
	took := time.Since(start)
	if err == nil {
		d.Close()
		t.Fatalf("New(%v) succeeded, want an error", cfg)
	}
	msg := err.Error()
	t.Logf("New(%v) failed after %s: %s", cfg, took.Round(time.Millisecond), msg)
	if took > limit {
		t.Errorf("New took %s to fail, want at most %s", took, limit)
	}
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("error spans several lines: %q", msg)
	}
	for _, w := range append([]string{"gcs: gs://" + cfg.Bucket}, want...) {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not say %q", msg, w)
		}
	}
	return msg
}

func TestNewMissingBucket(t *testing.T) {
	f := startFake(t)
	newFails(t, f.config("no-such-bucket", "reg"), 3*time.Second, `bucket "no-such-bucket" does not exist`, "create it")
}

func TestNewClosedPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := gcs.Config{Bucket: "bucket", Endpoint: "http://" + addr, Anonymous: true}
	newFails(t, cfg, 3*time.Second, "cannot reach http://"+addr+"/storage/v1/", "connection refused", "check the endpoint")
}

// TestNewNoAnswer: a server that accepts connections but never answers
// costs CheckTimeout, not the retry budget.
func TestNewNoAnswer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	cfg := gcs.Config{Bucket: "bucket", Endpoint: "http://" + l.Addr().String(), Anonymous: true, CheckTimeout: time.Second}
	newFails(t, cfg, 3*time.Second, "no answer from http://"+l.Addr().String()+"/storage/v1/ within 1s")
}

// TestNewHTTPErrors: what the server answers becomes one line with advice.
func TestNewHTTPErrors(t *testing.T) {
	for _, tc := range []struct {
		code int
		want []string
	}{
		{401, []string{"rejected the credentials", "HTTP 401", "GOOGLE_APPLICATION_CREDENTIALS"}},
		{403, []string{`access to bucket "bucket" denied`, "HTTP 403", "roles/storage.objectAdmin"}},
		{503, []string{`checking bucket "bucket": HTTP 503 Service Unavailable: try later`}},
	} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			calls := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls++
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.code)
				fmt.Fprintf(w, `{"error": {"code": %d, "message": "try later\nsecond line", "errors": [{"reason": "x", "message": "m"}]}}`, tc.code)
			}))
			t.Cleanup(srv.Close)
			cfg := gcs.Config{Bucket: "bucket", Endpoint: srv.URL, Anonymous: true, CheckTimeout: 2 * time.Second}
			newFails(t, cfg, 4*time.Second, tc.want...)
			if tc.code == 503 && calls < 2 {
				t.Errorf("503 was asked %d times, want a retry", calls)
			}
			if tc.code != 503 && calls != 1 {
				t.Errorf("%d was asked %d times, want once", tc.code, calls)
			}
		})
	}
}

// TestNewNoCredentials: no ADC anywhere gives advice, quickly.
func TestNewNoCredentials(t *testing.T) {
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	t.Setenv("STORAGE_EMULATOR_HOST", "")
	t.Setenv("HOME", t.TempDir())
	t.Setenv("CLOUDSDK_CONFIG", t.TempDir())
	t.Setenv("NO_GCE_CHECK", "true")
	newFails(t, gcs.Config{Bucket: "bucket"}, 5*time.Second, "no Google credentials found", "GOOGLE_APPLICATION_CREDENTIALS")
}
