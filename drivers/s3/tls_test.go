package s3

import (
	"encoding/pem"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// TestTLSEndpoint: an https endpoint with a private CA works when
// AWS_CA_BUNDLE names the CA (the SDK adds it to our transport), fails with
// a one-line certificate error without it, and works with SkipVerify.
func TestTLSEndpoint(t *testing.T) {
	backend := s3mem.New()
	if err := backend.CreateBucket("tls"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(gofakes3.New(backend).Server())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // rejected handshakes are the point
	srv.StartTLS()
	defer srv.Close()
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(bundle, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	c := Config{Bucket: "tls", Endpoint: srv.URL, PathStyle: true, Region: "us-east-1",
		AccessKey: "tlskey", SecretKey: "tls-secret-123"}

	t.Setenv("AWS_CA_BUNDLE", bundle)
	if _, err := New(t.Context(), c); err != nil {
		t.Errorf("with AWS_CA_BUNDLE naming the server's CA: %v", err)
	}

	t.Setenv("AWS_CA_BUNDLE", "")
	msg := newErr(t, c, 3e9)
	if !strings.Contains(msg, "TLS certificate of "+srv.URL+" is not trusted") || !strings.Contains(msg, "AWS_CA_BUNDLE") {
		t.Errorf("without the CA: error %q should be about the certificate", msg)
	}

	c.SkipVerify = true
	if _, err := New(t.Context(), c); err != nil {
		t.Errorf("with SkipVerify: %v", err)
	}
}
