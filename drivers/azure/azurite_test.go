package azure_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/azure"
	"github.com/regbackup/regbackup/drivers/drivertest"
	"github.com/regbackup/regbackup/integration/servers"
)

// testBlockSize makes the conformance suite's 17 MiB round trip (and its
// 3-4 MiB failure cases) multi-block.
const testBlockSize = 1 << 20

// TestAzurite runs everything that needs a real Azure Blob service against
// one Azurite, with a fresh container per subtest.
func TestAzurite(t *testing.T) {
	az := servers.StartAzurite(t)
	newDriver := func(t *testing.T, mod func(*azure.Config)) (*azure.Driver, string) {
		t.Helper()
		name := az.NewContainer(t)
		cfg := azure.Config{Account: az.Account, AccountKey: az.Key, ServiceURL: az.Endpoint, Container: name,
			RootDirectory: "/reg/", BlockSize: testBlockSize, BufferMemory: 8 * testBlockSize}
		if mod != nil {
			mod(&cfg)
		}
		d, err := azure.New(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return d, name
	}
	t.Run("Conformance", func(t *testing.T) {
		drivertest.Run(t, func(t *testing.T) drivers.Driver { d, _ := newDriver(t, nil); return d })
	})
	t.Run("ConformanceLegacyNoRoot", func(t *testing.T) {
		drivertest.Run(t, func(t *testing.T) drivers.Driver {
			d, _ := newDriver(t, func(c *azure.Config) { c.RootDirectory, c.LegacyRootPrefix = "", true })
			return d
		})
	})
	t.Run("BlobNames", func(t *testing.T) { testBlobNames(t, az, newDriver) })
	t.Run("WalkPages", func(t *testing.T) { testWalkPages(t, newDriver) })
	t.Run("OtherNamingHint", func(t *testing.T) { testOtherNamingHint(t, az, newDriver) })
	t.Run("AppendBlobs", func(t *testing.T) { testAppendBlobs(t, az, newDriver) })
	t.Run("FolderPlaceholders", func(t *testing.T) { testFolderPlaceholders(t, az, newDriver) })
	t.Run("FailedPutLeavesNothing", func(t *testing.T) { testFailedPutLeavesNothing(t, az, newDriver) })
	t.Run("MemoryBound", func(t *testing.T) { testMemoryBound(t, newDriver) })
	t.Run("SeekableReaders", func(t *testing.T) { testSeekableReaders(t, newDriver) })
	t.Run("ReaderResumes", func(t *testing.T) { testReaderResumes(t, az, newDriver) })
	t.Run("RetriesThrottling", func(t *testing.T) { testRetriesThrottling(t, az, newDriver) })
	t.Run("NewFailsFast", func(t *testing.T) { testNewFailsFast(t, az) })
	t.Run("Locations", func(t *testing.T) { testLocations(t, az) })
}

type driverFactory func(t *testing.T, mod func(*azure.Config)) (*azure.Driver, string)

// containerNames lists every blob in the container, uncommitted ones too.
func containerNames(t *testing.T, az *servers.AzureServer, name string) (committed, all []string) {
	t.Helper()
	cc := az.Client().ServiceClient().NewContainerClient(name)
	for _, uncommitted := range []bool{false, true} {
		pager := cc.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Include: container.ListBlobsInclude{UncommittedBlobs: uncommitted}})
		for pager.More() {
			page, err := pager.NextPage(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Segment.BlobItems {
				if uncommitted {
					all = append(all, *it.Name)
				} else {
					committed = append(committed, *it.Name)
				}
			}
		}
	}
	return committed, all
}

// testBlobNames checks the exact blob names and Content-Type: 3.x/GitLab
// naming strips the leading slash, legacy naming keeps it.
func testBlobNames(t *testing.T, az *servers.AzureServer, newDriver driverFactory) {
	const p = "docker/registry/v2/repositories/a/_layers/sha256/00/link"
	for _, tc := range []struct {
		root   string
		legacy bool
		want   string
	}{
		{"", false, p},
		{"/reg/", false, "reg/" + p},
		{"a/b", false, "a/b/" + p},
		{"", true, "/" + p},
		{"/reg", true, "/reg/" + p},
	} {
		d, name := newDriver(t, func(c *azure.Config) { c.RootDirectory, c.LegacyRootPrefix = tc.root, tc.legacy })
		for _, size := range []int{71, 3*testBlockSize + 5} {
			data := bytes.Repeat([]byte{'x'}, size)
			if err := d.Put(t.Context(), p, bytes.NewReader(data), int64(size)); err != nil {
				t.Fatal(err)
			}
			got, _ := containerNames(t, az, name)
			if !slices.Equal(got, []string{tc.want}) {
				t.Fatalf("root %q legacy %v: blobs = %q, want [%q]", tc.root, tc.legacy, got, tc.want)
			}
			props, err := az.Client().ServiceClient().NewContainerClient(name).NewBlobClient(tc.want).GetProperties(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if ct := props.ContentType; ct == nil || *ct != "application/octet-stream" {
				t.Errorf("%s: Content-Type %v, want application/octet-stream", tc.want, ct)
			}
			if *props.BlobType != blob.BlobTypeBlockBlob || *props.ContentLength != int64(size) {
				t.Errorf("%s: %s of %d bytes, want a BlockBlob of %d", tc.want, *props.BlobType, *props.ContentLength, size)
			}
		}
	}
}

// testOtherNamingHint: a Walk that finds nothing, where the registry sits
// under the other naming, fails and says which option to flip.
func testOtherNamingHint(t *testing.T, az *servers.AzureServer, newDriver driverFactory) {
	legacy, name := newDriver(t, func(c *azure.Config) { c.RootDirectory, c.LegacyRootPrefix = "", true })
	const p = "docker/registry/v2/repositories/a/_layers/sha256/00/link"
	if err := legacy.Put(t.Context(), p, strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	modern, err := azure.New(t.Context(), azure.Config{Account: az.Account, AccountKey: az.Key, ServiceURL: az.Endpoint, Container: name})
	if err != nil {
		t.Fatal(err)
	}
	err = modern.Walk(t.Context(), "docker/registry/v2/repositories", func(drivers.FileInfo) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "legacy-root-prefix=true") {
		t.Fatalf("Walk of a 3.x-named driver over a 2.x-named registry = %v, want an error saying to add legacy-root-prefix=true", err)
	}
	if err := modern.Walk(t.Context(), "elsewhere", func(drivers.FileInfo) error { return nil }); err != nil {
		t.Fatalf("Walk of a prefix empty under both namings = %v, want nil", err)
	}
	if err := modern.Put(t.Context(), p, strings.NewReader("y"), 1); err != nil {
		t.Fatal(err)
	}
	if err := legacy.Walk(t.Context(), "docker/registry/v2/repositories", func(drivers.FileInfo) error { return nil }); err != nil {
		t.Fatalf("Walk with files under its own naming = %v", err)
	}
}

// testAppendBlobs: the registry's AppendBlobs are read, listed and stated
// like any blob, and Put replaces them (small and multi-block).
func testAppendBlobs(t *testing.T, az *servers.AzureServer, newDriver driverFactory) {
	d, name := newDriver(t, nil)
	cc := az.Client().ServiceClient().NewContainerClient(name)
	want := bytes.Repeat([]byte("append-blob "), 100000)
	for _, p := range []string{"small", "big"} {
		ab := cc.NewAppendBlobClient("reg/" + p)
		if _, err := ab.Create(t.Context(), nil); err != nil {
			t.Fatal(err)
		}
		for off := 0; off < len(want); off += 512 << 10 {
			chunk := want[off:min(off+512<<10, len(want))]
			if _, err := ab.AppendBlock(t.Context(), nopSeekCloser{bytes.NewReader(chunk)}, nil); err != nil {
				t.Fatal(err)
			}
		}
		rc, err := d.Reader(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("reading an AppendBlob: %d bytes, %v; want %d bytes", len(got), err, len(want))
		}
		if fi, err := d.Stat(t.Context(), p); err != nil || fi.Size != int64(len(want)) {
			t.Fatalf("Stat of an AppendBlob = %+v, %v", fi, err)
		}
	}
	small, big := []byte("replaced"), bytes.Repeat([]byte{7}, 2*testBlockSize+3)
	for p, data := range map[string][]byte{"small": small, "big": big} {
		var r io.Reader = bytes.NewReader(data)
		if p == "big" {
			r = struct{ io.Reader }{r} // streamed into blocks, not sent from sections
		}
		if err := d.Put(t.Context(), p, r, int64(len(data))); err != nil {
			t.Fatalf("Put over an AppendBlob: %v", err)
		}
		rc, err := d.Reader(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, data) {
			t.Fatalf("%s after Put over an AppendBlob: %d bytes, want %d", p, len(got), len(data))
		}
	}
}

type nopSeekCloser struct{ *bytes.Reader }

func (nopSeekCloser) Close() error { return nil }

// testFolderPlaceholders: "folder" blobs (trailing "/", hdi_isfolder) are
// neither walked nor stat'ed as files.
func testFolderPlaceholders(t *testing.T, az *servers.AzureServer, newDriver driverFactory) {
	d, name := newDriver(t, nil)
	cc := az.Client().ServiceClient().NewContainerClient(name)
	upload := func(n string, meta map[string]*string) {
		t.Helper()
		if _, err := cc.NewBlockBlobClient(n).UploadBuffer(t.Context(), nil, &blockblob.UploadBufferOptions{Metadata: meta}); err != nil {
			t.Fatal(err)
		}
	}
	upload("reg/docker/", nil)
	upload("reg/docker/registry", map[string]*string{"hdi_isfolder": to.Ptr("true")})
	const real = "docker/registry/v2/blobs/sha256/aa/aa/data"
	if err := d.Put(t.Context(), real, strings.NewReader("data"), 4); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := d.Walk(t.Context(), "", func(fi drivers.FileInfo) error { got = append(got, fi.Path); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{real}) {
		t.Fatalf("Walk with folder placeholders = %q, want only %q", got, real)
	}
	if _, err := d.Stat(t.Context(), "docker/registry"); !errors.Is(err, drivers.ErrNotFound) {
		t.Fatalf("Stat of an hdi_isfolder placeholder = %v, want ErrNotFound", err)
	}
}

// testFailedPutLeavesNothing: after failed multi-block Puts nothing is
// listed, even with uncommitted blobs included, except what was there.
func testFailedPutLeavesNothing(t *testing.T, az *servers.AzureServer, newDriver driverFactory) {
	d, name := newDriver(t, nil)
	boom := errors.New("boom")
	const p = "docker/registry/v2/blobs/sha256/ab/ab/data"
	err := d.Put(t.Context(), p, io.MultiReader(bytes.NewReader(make([]byte, 3*testBlockSize)), errReader{boom}), 5*testBlockSize)
	if !errors.Is(err, boom) {
		t.Fatalf("Put with a failing reader = %v, want %v", err, boom)
	}
	committed, _ := containerNames(t, az, name)
	if len(committed) != 0 {
		t.Fatalf("after a failed Put the container lists %q", committed)
	}
	if _, err := d.Stat(t.Context(), p); !errors.Is(err, drivers.ErrNotFound) {
		t.Fatalf("Stat after a failed Put = %v, want ErrNotFound", err)
	}
	// A later Put of the same path commits only its own blocks.
	data := bytes.Repeat([]byte{1}, 2*testBlockSize+1)
	if err := d.Put(t.Context(), p, bytes.NewReader(data), -1); err != nil {
		t.Fatal(err)
	}
	rc, err := d.Reader(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, data) {
		t.Fatalf("after a failed then a good Put: %d bytes, want %d", len(got), len(data))
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// testMemoryBound runs 16 multi-block Puts at once on a driver whose
// buffer budget is 4 blocks: they all complete, whole, and the most buffer
// memory held at any moment stayed within the budget, and was used.
func testMemoryBound(t *testing.T, newDriver driverFactory) {
	d, _ := newDriver(t, func(c *azure.Config) { c.BufferMemory = 4 * testBlockSize })
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	start := time.Now()
	for i := range 16 {
		wg.Go(func() {
			data := bytes.Repeat([]byte{byte(i)}, 3*testBlockSize+i)
			p := "docker/registry/v2/blobs/sha256/cc/" + strings.Repeat(string(rune('a'+i)), 4) + "/data"
			r := struct{ io.Reader }{bytes.NewReader(data)} // not seekable: Put buffers it
			if err := d.Put(t.Context(), p, r, int64(len(data))); err != nil {
				errs <- err
				return
			}
			fi, err := d.Stat(t.Context(), p)
			if err != nil || fi.Size != int64(len(data)) {
				errs <- errors.Join(err, errors.New("wrong size after Put"))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	peak := azure.PeakBufferBytes(d)
	if peak > 4*testBlockSize || peak < testBlockSize {
		t.Errorf("peak buffer memory %d bytes, want between one block and the 4-block budget (%d)", peak, 4*testBlockSize)
	}
	t.Logf("16 Puts of 3 MiB through a 4 MiB buffer budget in %s, peak %d bytes buffered", time.Since(start).Round(time.Millisecond), peak)
}

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

// testWalkPages walks 40 files 3 names per list request: every file once,
// in lexical order, none of the sibling prefix.
func testWalkPages(t *testing.T, newDriver driverFactory) {
	d, _ := newDriver(t, nil)
	azure.SetListPageSize(d, 3)
	var want []string
	for i := range 40 {
		p := fmt.Sprintf("docker/registry/v2/repositories/r%d/_layers/sha256/%02x/link", i%7, i)
		if err := d.Put(t.Context(), p, strings.NewReader("x"), 1); err != nil {
			t.Fatal(err)
		}
		want = append(want, p)
	}
	if err := d.Put(t.Context(), "docker/registry/v2/repositoriesX/other", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	var got []string
	err := d.Walk(t.Context(), "docker/registry/v2/repositories", func(fi drivers.FileInfo) error {
		got = append(got, fi.Path)
		return nil
	})
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("paged Walk = %v,\n got  %q\n want %q", err, got, want)
	}
}

// testSeekableReaders: a reader that is an io.ReaderAt and io.Seeker is sent
// from its current position without buffering; a length other than size
// stores nothing and keeps the earlier file.
func testSeekableReaders(t *testing.T, newDriver driverFactory) {
	d, _ := newDriver(t, nil)
	const p = "docker/registry/v2/blobs/sha256/ff/ff/data"
	read := func() []byte {
		t.Helper()
		rc, err := d.Reader(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, n := range []int{100, 3*testBlockSize + 5} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i * 7)
		}
		r := bytes.NewReader(data)
		io.CopyN(io.Discard, r, 10) // Put starts where the reader is
		if err := d.Put(t.Context(), p, r, int64(n-10)); err != nil {
			t.Fatal(err)
		}
		if got := read(); !bytes.Equal(got, data[10:]) {
			t.Fatalf("%d bytes from offset 10: read back %d bytes, want %d", n, len(got), n-10)
		}
		for _, size := range []int64{int64(n - 11), int64(n - 9)} {
			if err := d.Put(t.Context(), p, bytes.NewReader(make([]byte, n-10)), size); err == nil {
				t.Fatalf("Put of a %d-byte ReaderAt with size %d succeeded", n-10, size)
			}
			if got := read(); !bytes.Equal(got, data[10:]) {
				t.Fatalf("a failed Put (size %d) changed the file", size)
			}
		}
	}
	if peak := azure.PeakBufferBytes(d); peak != 0 {
		t.Errorf("Puts of seekable readers buffered %d bytes, want none", peak)
	}
}
