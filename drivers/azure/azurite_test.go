package azure_test

import (
	"testing"

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
	t.Run("MD5", func(t *testing.T) {
		drivertest.RunMD5(t, func(t *testing.T) drivers.Driver { d, _ := newDriver(t, nil); return d })
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
