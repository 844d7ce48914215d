package azure_test

// Faults injected by a proxy in front of Azurite: broken downloads, throttling.

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regbackup/regbackup/drivers/azure"
	"github.com/regbackup/regbackup/integration/servers"
)

// testReaderResumes reads through a proxy that breaks the first download
// half-way: the Reader resumes with a range request and returns every byte.
func testReaderResumes(t *testing.T, az *servers.AzureServer, newDriver driverFactory) {
	d, name := newDriver(t, nil)
	data := bytes.Repeat([]byte("0123456789abcdef"), 256<<10) // 4 MiB
	const p = "docker/registry/v2/blobs/sha256/dd/dd/data"
	if err := d.Put(t.Context(), p, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	var broken, ranged atomic.Int32
	proxy := newProxy(t, az, func(w http.ResponseWriter, r *http.Request, resp *http.Response) bool {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/data") {
			return false
		}
		if r.Header.Get("x-ms-range") != "" || r.Header.Get("Range") != "" {
			ranged.Add(1)
		} else if broken.Add(1) == 1 {
			w.WriteHeader(resp.StatusCode)
			io.CopyN(w, resp.Body, int64(len(data)/2))
			panic(http.ErrAbortHandler) // cut the connection mid-body
		}
		return false
	})
	via, err := azure.New(t.Context(), azure.Config{Account: az.Account, AccountKey: az.Key, Container: name,
		ServiceURL: proxy, RootDirectory: "reg"})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := via.Reader(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read through a broken download: %d bytes, %v; want %d bytes", len(got), err, len(data))
	}
	if broken.Load() != 1 || ranged.Load() < 1 {
		t.Fatalf("the proxy broke %d downloads and saw %d range requests; want 1 and at least 1", broken.Load(), ranged.Load())
	}
}

// newProxy serves az's blob service through a loopback proxy and returns
// the proxy's endpoint. meddle sees each request with the service's
// response; when it returns true it has answered the request itself.
func newProxy(t *testing.T, az *servers.AzureServer, meddle func(http.ResponseWriter, *http.Request, *http.Response) bool) string {
	target, _ := url.Parse(az.Endpoint)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := r.Clone(r.Context())
		out.URL.Scheme, out.URL.Host, out.RequestURI = target.Scheme, target.Host, ""
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		if meddle(w, r, resp) {
			return
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(proxy.Close)
	return proxy.URL + target.Path
}

// testRetriesThrottling answers the first block uploads with 503 and 429,
// as a busy account does: Put backs off, retries and stores the whole file.
func testRetriesThrottling(t *testing.T, az *servers.AzureServer, newDriver driverFactory) {
	_, name := newDriver(t, nil)
	var puts, refused atomic.Int32
	proxy := newProxy(t, az, func(w http.ResponseWriter, r *http.Request, resp *http.Response) bool {
		if r.Method != http.MethodPut || !strings.Contains(r.URL.RawQuery, "comp=block") {
			return false
		}
		switch puts.Add(1) {
		case 1, 3:
			refused.Add(1)
			w.Header().Set("x-ms-error-code", "ServerBusy")
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		case 2:
			refused.Add(1)
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	})
	d, err := azure.New(t.Context(), azure.Config{Account: az.Account, AccountKey: az.Key, Container: name,
		ServiceURL: proxy, RootDirectory: "reg", BlockSize: testBlockSize})
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("retry"), 3*testBlockSize/5+1)
	const p = "docker/registry/v2/blobs/sha256/ee/ee/data"
	start := time.Now()
	if err := d.Put(t.Context(), p, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Put through 503/429 answers: %v", err)
	}
	t.Logf("Put of %d bytes through %d refused block uploads in %s", len(data), refused.Load(), time.Since(start).Round(time.Millisecond))
	rc, err := d.Reader(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, data) || refused.Load() != 3 {
		t.Fatalf("after retries: %d bytes (want %d), %d refusals (want 3)", len(got), len(data), refused.Load())
	}
}
