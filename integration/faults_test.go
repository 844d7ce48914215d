package integration

// Object stores that fail often: regbackup talks to versitygw, Azurite and
// fake-gcs-server through servers.FaultProxy, which answers about one
// request in six with 503 or 500, closes the connection before answering,
// or cuts the body (listings included) off at half. restore into, backup
// from and copy to each store still complete at the first run, and what
// they wrote serves every tag at the same digest.

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/integration/servers"
)

// faultRate is the share of requests the proxy faults.
const faultRate = 0.16

// faultyStore is one object store behind a FaultProxy.
type faultyStore struct {
	proxy *servers.FaultProxy
	env   []string
	// loc is the regbackup location of root in the store, through the proxy.
	loc func(root string) string
	// serves checks that what lies under root in the store (read directly,
	// not through the proxy) is the registry f describes, file for file as
	// ref (a restore of the same content into a folder) holds it.
	serves func(t *testing.T, root, ref string, f Fixture)
}

// run runs regbackup once and fails the test unless it exits 0: a fault
// the drivers do not ride out shows as a failed first run.
func (s faultyStore) run(t *testing.T, args ...string) string {
	t.Helper()
	before := s.proxy.Faulted()
	o, e, code := RegbackupEnv(t, s.env, args...)
	t.Logf("regbackup %s: %d faults injected during the run", args[0], s.proxy.Faulted()-before)
	if code != 0 {
		t.Fatalf("regbackup %s: exit %d at the first run, with %s\nstdout:\n%s\nstderr:\n%s",
			strings.Join(args, " "), code, s.proxy.Summary(), o, e)
	}
	return o
}

func faultyS3(t *testing.T, seed uint64) faultyStore {
	gw := servers.StartVersityGW(t)
	bucket := gw.NewBucket(t)
	p := servers.StartFaultProxy(t, gw.Endpoint, servers.FaultOptions{Rate: faultRate, Seed: seed, Dialect: servers.DialectS3})
	return faultyStore{
		proxy: p,
		env:   gw.Env(),
		loc: func(root string) string {
			return "s3://" + bucket + "/" + root + "?endpoint=" + p.URL + "&path-style=true&region=" + gw.Region
		},
		serves: func(t *testing.T, root, _ string, f Fixture) {
			CheckServes(t, StartRegistryOpts(t, RegistryOptions{Version: V3, Storage: s3Storage(gw, V3, bucket, "/"+root)}), f)
		},
	}
}

func faultyAzure(t *testing.T, seed uint64) faultyStore {
	az := servers.StartAzurite(t)
	cont := az.NewContainer(t)
	p := servers.StartFaultProxy(t, az.Endpoint, servers.FaultOptions{Rate: faultRate, Seed: seed, Dialect: servers.DialectAzure})
	return faultyStore{
		proxy: p,
		env:   []string{"AZURE_STORAGE_KEY=" + az.Key, "AZURE_STORAGE_CONNECTION_STRING=", "AZURE_STORAGE_SAS_TOKEN="},
		loc: func(root string) string {
			return "azure://" + cont + "/" + root + "?account=" + az.Account + "&endpoint=" + p.URL + "/" + az.Account
		},
		serves: func(t *testing.T, root, _ string, f Fixture) {
			CheckServes(t, StartRegistryOpts(t, RegistryOptions{Version: V3, Storage: azureStorage(az, cont, "/"+root)}), f)
		},
	}
}

// faultyGCS: no registry runs on fake-gcs-server (see docs), so what a run
// wrote is compared object for file with a restore into a folder, which a
// registry then serves.
func faultyGCS(t *testing.T, seed uint64) faultyStore {
	gcs := servers.StartFakeGCS(t, "registry")
	client := gcsClient(t, gcs)
	p := servers.StartFaultProxy(t, "http://"+gcs.Host, servers.FaultOptions{Rate: faultRate, Seed: seed, Dialect: servers.DialectGCS})
	return faultyStore{
		proxy: p,
		loc: func(root string) string {
			return "gs://registry/" + root + "?endpoint=" + p.URL + "/storage/v1/"
		},
		serves: func(t *testing.T, root, ref string, f Fixture) {
			objs := gcsObjects(t, client, "registry")
			n := 0
			for name, o := range objs {
				rel, ok := strings.CutPrefix(name, root+"/")
				if !ok || strings.Contains(rel, "regbackup") || strings.HasSuffix(rel, ".lock") {
					continue
				}
				want, err := os.ReadFile(filepath.Join(ref, filepath.FromSlash(rel)))
				if err != nil {
					t.Errorf("object %s: no such file in the folder restore: %v", name, err)
					continue
				}
				if !bytes.Equal(o.data, want) {
					t.Errorf("object %s: %d bytes that differ from the folder restore's %d", name, len(o.data), len(want))
				}
				n++
			}
			if files := regularFiles(t, ref); n != len(files) {
				t.Errorf("%d objects under %s, the folder restore has %d files", n, root, len(files))
			}
			CheckServes(t, StartRegistry(t, V3, ref), f)
		},
	}
}

// TestFaultyObjectStores: for each store, a restore of the fixture's archive
// into it, a backup of that back out of it, and a copy of the registry
// folder into it, all through the fault proxy: each completes at its first
// run, the store's copies serve the fixture, and the archive read from the
// store lists every tag at the fixture's digest and restores into a folder
// that serves it.
func TestFaultyObjectStores(t *testing.T) {
	t.Parallel()
	r, root, f := seedRegistry(t, V3)
	r.Stop()
	a := backupArchive(t, root)
	ref := filepath.Join(t.TempDir(), "ref")
	mustRegbackup(t, 0, "restore", a, "--to", ref, "-q")

	for i, tc := range []struct {
		name  string
		start func(*testing.T, uint64) faultyStore
	}{
		{"s3", faultyS3},
		{"azure", faultyAzure},
		{"gcs", faultyGCS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := tc.start(t, uint64(i+1))

			s.run(t, "restore", a, "--to", s.loc("restored"), "-q")
			s.serves(t, "restored", ref, f)

			b := filepath.Join(t.TempDir(), "from-store.tar.zst")
			s.run(t, "backup", "--from", s.loc("restored"), "-o", b, "-q")
			if tags, _ := listArchive(t, b); !maps.Equal(tags, f.Tags) {
				t.Errorf("the backup read through the faults lists %v, want %v", tags, f.Tags)
			}
			mustRegbackup(t, 0, "verify", b)
			back := filepath.Join(t.TempDir(), "back")
			mustRegbackup(t, 0, "restore", b, "--to", back, "-q")
			CheckServes(t, StartRegistry(t, V3, back), f)

			s.run(t, "copy", "--from", root, "--to", s.loc("copied"), "-q")
			s.serves(t, "copied", ref, f)
			t.Logf("%s: %s", tc.name, s.proxy.Summary())

			// Every listing page cut off at half, once: the retried page
			// must give the same objects, none twice, none missing.
			s.proxy.Reset()
			s.proxy.Configure(servers.FaultOptions{Rate: 1, Kinds: []servers.FaultKind{servers.FaultCut}, OnlyFirst: true,
				Only: func(method, path, query string) bool { return servers.PathClass(path, query) == "list" }})
			c := filepath.Join(t.TempDir(), "cut.tar.zst")
			s.run(t, "backup", "--from", s.loc("copied"), "-o", c, "-q")
			t.Logf("%s, every listing page cut once: %s", tc.name, s.proxy.Summary())
			if s.proxy.Faults()[servers.FaultCut] == 0 {
				t.Errorf("no listing page was cut: %v", s.proxy.Counts())
			}
			if tags, _ := listArchive(t, c); !maps.Equal(tags, f.Tags) {
				t.Errorf("the backup read through cut listings lists %v, want %v", tags, f.Tags)
			}
			mustRegbackup(t, 0, "verify", c)
		})
	}
}
