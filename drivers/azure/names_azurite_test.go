package azure_test

// Blob names, naming hints, folder placeholders and listing pages, on Azurite.

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/azure"
	"github.com/regbackup/regbackup/integration/servers"
)

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
