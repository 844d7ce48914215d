package integration

// Distribution 3.x on Azure Blob Storage (Azurite): back up through
// azure://, restore into an empty container and into a folder, serve both;
// and the mistakes a user makes with an Azure location.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/klauspost/compress/zstd"

	"github.com/regbackup/regbackup/integration/sample"
	"github.com/regbackup/regbackup/integration/servers"
)

// azureStorage is a registry 3.x storage section for container/root on az.
func azureStorage(az *servers.AzureServer, cont, root string) string {
	return fmt.Sprintf(`azure:
  accountname: %s
  accountkey: %s
  container: %s
  serviceurl: %s
  rootdirectory: %s
  credentials: {type: shared_key}
delete: {enabled: true}
redirect: {disable: true}
cache: {blobdescriptor: inmemory}
`, az.Account, az.Key, cont, az.Endpoint, root)
}

// azureLocation is the azure:// location regbackup users write.
func azureLocation(az *servers.AzureServer, cont, root string) string {
	return "azure://" + cont + root + "?account=" + az.Account + "&endpoint=" + az.Endpoint
}

// blobNames lists every committed blob name in a container, sorted.
func blobNames(t testing.TB, az *servers.AzureServer, cont string) []string {
	t.Helper()
	names := slices.Collect(maps.Keys(blobTypes(t, az, cont)))
	slices.Sort(names)
	return names
}

// blobTypes maps every committed blob name in a container to its type.
func blobTypes(t testing.TB, az *servers.AzureServer, cont string) map[string]string {
	t.Helper()
	types := map[string]string{}
	pager := az.Client().ServiceClient().NewContainerClient(cont).NewListBlobsFlatPager(&container.ListBlobsFlatOptions{})
	for pager.More() {
		page, err := pager.NextPage(t.Context())
		if err != nil {
			t.Fatalf("listing container %s: %v", cont, err)
		}
		for _, it := range page.Segment.BlobItems {
			types[*it.Name] = string(*it.Properties.BlobType)
		}
	}
	return types
}

func TestAzureRoundTrip(t *testing.T) {
	t.Parallel()
	az := servers.StartAzurite(t)
	keyEnv := []string{"AZURE_STORAGE_KEY=" + az.Key, "AZURE_STORAGE_CONNECTION_STRING=", "AZURE_STORAGE_SAS_TOKEN="}

	src := az.NewContainer(t)
	r := StartRegistryOpts(t, RegistryOptions{Version: V3, Storage: azureStorage(az, src, "/reg")})
	f := PushFixture(t, r)
	// One layer of 20 MiB: above the default block size, so the restore
	// stages and commits blocks (the 3.x registry stores it as an AppendBlob).
	big := makeLayer(t, t.TempDir(), "big", 20<<20)
	crane(t, "append", "-f", big, "-t", r.Ref("big:v1"))
	f.Tags["big:v1"] = crane(t, "digest", r.Ref("big:v1"))
	f.Repos = append(f.Repos, "big")
	slices.Sort(f.Repos)
	r.Stop()
	types := map[string]int{}
	for n, typ := range blobTypes(t, az, src) {
		if !strings.HasPrefix(n, "reg/docker/registry/v2/") {
			t.Fatalf("registry 3.x wrote blob %q; this test assumes names reg/docker/registry/v2/...", n)
		}
		types[typ]++
	}
	t.Logf("registry 3.x wrote blobs of types %v", types)
	if types["AppendBlob"] == 0 {
		t.Errorf("registry 3.x wrote no AppendBlob (types %v): the backup's reading of them is not exercised", types)
	}

	a := filepath.Join(t.TempDir(), "azure.tar.zst")
	from := azureLocation(az, src, "/reg")
	if _, e, code := RegbackupEnv(t, keyEnv, "backup", "--from", from, "-o", a); code != 0 {
		t.Fatalf("backup --from %s: exit %d\n%s", from, code, e)
	}
	if tags, _ := listArchive(t, a); !maps.Equal(tags, f.Tags) {
		t.Fatalf("the archive of %s lists tags %v, want %v", from, tags, f.Tags)
	}
	checkNoKeyInArchive(t, a, az.Key, from)

	t.Run("into-empty-container", func(t *testing.T) {
		dst := az.NewContainer(t)
		to := azureLocation(az, dst, "/restored")
		if _, e, code := RegbackupEnv(t, keyEnv, "restore", a, "--to", to); code != 0 {
			t.Fatalf("restore --to %s: exit %d\n%s", to, code, e)
		}
		names := blobNames(t, az, dst)
		for _, n := range names {
			if !strings.HasPrefix(n, "restored/docker/registry/v2/") {
				t.Errorf("restored blob %q is not named restored/docker/registry/v2/... (3.x naming)", n)
			}
		}
		t.Logf("restored %d blobs into container %s", len(names), dst)
		r2 := StartRegistryOpts(t, RegistryOptions{Version: V3, Storage: azureStorage(az, dst, "/restored")})
		CheckServes(t, r2, f)
	})
	t.Run("into-folder", func(t *testing.T) {
		root := filepath.Join(t.TempDir(), "registry")
		mustRegbackup(t, 0, "restore", a, "--to", root)
		for _, v := range Versions {
			t.Run("registry-"+v, func(t *testing.T) {
				r2 := StartRegistry(t, v, root)
				CheckServes(t, r2, f)
			})
		}
	})
}

// checkNoKeyInArchive decompresses the whole archive: the catalog names the
// source location, and the account key appears nowhere.
func checkNoKeyInArchive(t testing.TB, archivePath, key, location string) {
	t.Helper()
	f, err := os.Open(archivePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := zstd.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{key, url.QueryEscape(key), key[:20]} {
		if bytes.Contains(raw, []byte(k)) {
			t.Errorf("the archive contains the account key (%q...)", k[:8])
		}
	}
	quoted, _ := json.Marshal(location) // the catalog is JSON: & is \u0026
	if !bytes.Contains(raw, quoted) {
		t.Errorf("the archive's catalog does not name the source %s", location)
	}
}

// TestAzureBadLocation: a wrong account key, a missing container and an
// unreachable endpoint, as --from and as --to: exit 1 within seconds, one
// error line naming the location, no stack trace, no secret, no archive
// left behind, nothing written.
func TestAzureBadLocation(t *testing.T) {
	t.Parallel()
	az := servers.StartAzurite(t)
	good := az.NewContainer(t)
	src := filepath.Join(t.TempDir(), "src")
	genTree(t, src, sample.Options{Seed: 11})
	archive := backupArchive(t, src)
	closed := servers.FreePort(t)
	wrongKey := "AAAA" + az.Key[4:]

	for _, tc := range []struct {
		name, key, loc, want string
	}{
		{"wrong-key", wrongKey, azureLocation(az, good, "/reg"), "account key"},
		{"missing-container", az.Key, azureLocation(az, "no-such-container", "/reg"), "does not exist"},
		{"closed-port", az.Key, "azure://" + good + "/reg?account=" + az.Account + "&endpoint=http://127.0.0.1:" + strconv.Itoa(closed) + "/" + az.Account, "cannot connect"},
	} {
		env := []string{"AZURE_STORAGE_KEY=" + tc.key, "AZURE_STORAGE_CONNECTION_STRING=", "AZURE_STORAGE_SAS_TOKEN="}
		check := func(t *testing.T, stdout, stderr string, code int, took time.Duration) {
			t.Helper()
			checkLocationError(t, "azure://", tc.want, stdout, stderr, code, took, 10*time.Second, az.Key, wrongKey)
		}
		t.Run("backup-"+tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "b.tar.zst")
			start := time.Now()
			stdout, stderr, code := RegbackupEnv(t, env, "backup", "--from", tc.loc, "-o", out)
			check(t, stdout, stderr, code, time.Since(start))
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("a failed backup left %v in the output folder", entries)
			}
		})
		t.Run("restore-"+tc.name, func(t *testing.T) {
			before := blobNames(t, az, good)
			start := time.Now()
			stdout, stderr, code := RegbackupEnv(t, env, "restore", archive, "--to", tc.loc)
			check(t, stdout, stderr, code, time.Since(start))
			if after := blobNames(t, az, good); !slices.Equal(before, after) {
				t.Errorf("a failed restore changed container %s: %d blobs before, %d after", good, len(before), len(after))
			}
		})
	}
}
