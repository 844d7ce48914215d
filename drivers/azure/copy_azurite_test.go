package azure_test

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/azure"
	"github.com/regbackup/regbackup/drivers/drivertest"
	"github.com/regbackup/regbackup/integration/servers"
)

// TestCopyAzurite copies between two containers of one Azurite, between
// 2.8's leading-slash names and 3.x names both ways. Azurite answers Put
// Blob From URL and Put Block From URL with 501, so the copies here are
// Copy Blob From URL (sync); the staged-block form must give
// ErrNoServerCopy and leave the target alone.
func TestCopyAzurite(t *testing.T) {
	az := servers.StartAzurite(t)
	azure.SetCopyLimits(t, 4<<20, 1<<20)
	open := func(t *testing.T, root string, legacy bool) (*azure.Driver, string) {
		t.Helper()
		name := az.NewContainer(t)
		d, err := azure.New(t.Context(), azure.Config{Account: az.Account, AccountKey: az.Key, ServiceURL: az.Endpoint,
			Container: name, RootDirectory: root, LegacyRootPrefix: legacy})
		if err != nil {
			t.Fatal(err)
		}
		return d, name
	}
	t.Run("LegacyToCurrent", func(t *testing.T) {
		drivertest.RunCopier(t, func(t *testing.T) (drivers.Driver, drivers.Driver) {
			src, _ := open(t, "", true)
			dst, _ := open(t, "/reg/", false)
			return src, dst
		}, drivertest.CopierOptions{LargeSize: 3<<20 + 5})
	})
	t.Run("CurrentToLegacy", func(t *testing.T) {
		drivertest.RunCopier(t, func(t *testing.T) (drivers.Driver, drivers.Driver) {
			src, _ := open(t, "src", false)
			dst, _ := open(t, "reg", true)
			return src, dst
		}, drivertest.CopierOptions{LargeSize: 3<<20 + 5})
	})
	t.Run("StagedBlocksRefused", func(t *testing.T) {
		azure.SetCopyLimits(t, 1<<20, 1<<20)
		src, _ := open(t, "", true)
		dst, name := open(t, "reg", false)
		data := bytes.Repeat([]byte{'z'}, 2<<20)
		if err := src.Put(t.Context(), "big", bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
		if err := dst.Put(t.Context(), "big", bytes.NewReader([]byte("old")), 3); err != nil {
			t.Fatal(err)
		}
		err := dst.CopyFrom(t.Context(), "big", src, "big")
		if !errors.Is(err, drivers.ErrNoServerCopy) {
			t.Fatalf("CopyFrom of 2 MiB as blocks = %v, want ErrNoServerCopy (Azurite has no Put Block From URL)", err)
		}
		t.Logf("Azurite: %v", err)
		committed, _ := containerNames(t, az, name)
		if !slices.Equal(committed, []string{"reg/big"}) {
			t.Errorf("blobs after a refused copy: %q", committed)
		}
		rc, err := dst.Reader(t.Context(), "big")
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		if b, _ := io.ReadAll(rc); string(b) != "old" {
			t.Errorf("target holds %d bytes, want the old 3", len(b))
		}
	})
	// An AppendBlob source (2.8 wrote layers so) is either copied whole or
	// refused with ErrNoServerCopy, never half-copied.
	t.Run("AppendBlobSource", func(t *testing.T) {
		src, srcName := open(t, "", false)
		dst, _ := open(t, "", false)
		ab := az.Client().ServiceClient().NewContainerClient(srcName).NewAppendBlobClient("layer")
		if _, err := ab.Create(t.Context(), nil); err != nil {
			t.Fatal(err)
		}
		data := bytes.Repeat([]byte("ab"), 5000)
		if _, err := ab.AppendBlock(t.Context(), streaming.NopCloser(bytes.NewReader(data)), nil); err != nil {
			t.Fatal(err)
		}
		err := dst.CopyFrom(t.Context(), "layer", src, "layer")
		switch {
		case errors.Is(err, drivers.ErrNoServerCopy):
			t.Logf("Azurite refuses an AppendBlob source: %v", err)
			if _, serr := dst.Stat(t.Context(), "layer"); !errors.Is(serr, drivers.ErrNotFound) {
				t.Errorf("target after a refused copy: %v", serr)
			}
		case err != nil:
			t.Fatalf("CopyFrom of an AppendBlob = %v, want success or ErrNoServerCopy", err)
		default:
			rc, err := dst.Reader(t.Context(), "layer")
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			if b, _ := io.ReadAll(rc); !bytes.Equal(b, data) {
				t.Errorf("copied AppendBlob: %d bytes, want %d", len(b), len(data))
			}
		}
	})
	// The target is a BlockBlob under the expected name with the registry's
	// Content-Type, whichever copy form made it.
	t.Run("BlobNames", func(t *testing.T) {
		const p = "docker/registry/v2/blobs/sha256/aa/aa/data"
		for _, size := range []int{100, 2<<20 + 1} {
			src, _ := open(t, "", true)
			dst, name := open(t, "", true)
			data := bytes.Repeat([]byte{'y'}, size)
			if err := src.Put(t.Context(), p, bytes.NewReader(data), int64(size)); err != nil {
				t.Fatal(err)
			}
			if err := dst.CopyFrom(t.Context(), p, src, p); err != nil {
				t.Fatal(err)
			}
			committed, all := containerNames(t, az, name)
			if !slices.Equal(committed, []string{"/" + p}) || !slices.Equal(all, committed) {
				t.Fatalf("%d bytes: blobs %q (with uncommitted %q), want [/%s]", size, committed, all, p)
			}
			props, err := az.Client().ServiceClient().NewContainerClient(name).NewBlobClient("/"+p).GetProperties(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if *props.ContentType != "application/octet-stream" || *props.BlobType != blob.BlobTypeBlockBlob || *props.ContentLength != int64(size) {
				t.Errorf("%d bytes: target is %s, %s, %d bytes", size, *props.ContentType, *props.BlobType, *props.ContentLength)
			}
		}
	})
}
