package servers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// GCSServer is a fake-gcs-server process on loopback, storing objects as
// plain files (its filesystem backend), stopped by t.Cleanup.
type GCSServer struct {
	// Endpoint is the JSON API base URL, "http://127.0.0.1:PORT/storage/v1/",
	// for option.WithEndpoint or a gs:// location's endpoint= parameter.
	Endpoint string
	// Host is "127.0.0.1:PORT", for STORAGE_EMULATOR_HOST.
	Host string
	// Root is the folder the server keeps buckets and objects in.
	Root    string
	Process *Process
}

// StartFakeGCS starts fake-gcs-server from .tools/bin (missing: skip, or
// fail under CI=true) with plain HTTP on a free loopback port and creates
// the buckets named. -public-host equals host:port, as the server needs to
// route requests for that address.
func StartFakeGCS(t testing.TB, buckets ...string) *GCSServer {
	t.Helper()
	bin := Tool(t, "fake-gcs-server")
	root := filepath.Join(t.TempDir(), "gcs")
	var s *GCSServer
	StartOnFreePort(t, "fake-gcs-server", func(port int) *Process {
		host := "127.0.0.1:" + strconv.Itoa(port)
		p := Start(t, nil, bin, "-scheme", "http", "-host", "127.0.0.1", "-port", strconv.Itoa(port),
			"-backend", "filesystem", "-filesystem-root", root, "-public-host", host,
			"-external-url", "http://"+host, "-log-level", "warn")
		s = &GCSServer{Endpoint: "http://" + host + "/storage/v1/", Host: host, Root: root, Process: p}
		return p
	}, func(int, *Process) bool { return s.waitReady(15*time.Second) == nil })
	for _, b := range buckets {
		s.CreateBucket(t, b)
	}
	return s
}

// waitReady polls the health check until it answers 200, the process
// exits, or timeout passes.
func (s *GCSServer) waitReady(timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-s.Process.Exited:
			return fmt.Errorf("exited before it served requests (log %s)", s.Process.LogFile)
		default:
		}
		resp, err := client.Get("http://" + s.Host + "/_internal/healthcheck")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no healthy answer after %s: %v", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// CreateBucket creates a bucket through the JSON API.
func (s *GCSServer) CreateBucket(t testing.TB, name string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"name": name})
	resp, err := http.Post(s.Endpoint+"b?project=test", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("fake-gcs-server: create bucket %s: %v", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("fake-gcs-server: create bucket %s: %s: %s", name, resp.Status, b)
	}
}

// Location is the gs:// location of bucket/root on this server.
func (s *GCSServer) Location(bucket, root string) string {
	loc := "gs://" + bucket
	if root != "" {
		loc += "/" + root
	}
	return loc + "?endpoint=" + s.Endpoint
}
