package integration

// A Distribution 2.8 registry on a real OpenStack Swift (the last registries
// that can be there: 3.x and GitLab's dropped the driver): copied to S3 and
// served by Distribution 3, backed up and restored into another prefix of
// the Swift and served by 2.8 again, and a lost segment of a large object
// reported as damage.

import (
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regbackup/regbackup/integration/servers"
)

// swiftStorage is the 2.8 storage section for container/prefix on srv, with
// 5 MiB segments so that every layer above that is several segments.
func swiftStorage(srv *servers.SwiftServer, container, prefix string) string {
	return fmt.Sprintf("swift:\n  authurl: %q\n  username: %q\n  password: %q\n  container: %s\n  prefix: %s\n  chunksize: 5242880\n"+
		"redirect:\n  disable: true\ndelete:\n  enabled: true\n", srv.AuthURL, srv.User, srv.Key, container, prefix)
}

// swiftLargeObjects maps each registry blob below prefix that is a DLO to
// its segment names, in order.
func swiftLargeObjects(t testing.TB, srv *servers.SwiftServer, container, prefix string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, name := range srv.Names(t, container, prefix+"/files/docker/registry/v2/blobs/") {
		_, h, err := srv.Conn().Object(t.Context(), container, name)
		if err != nil {
			t.Fatal(err)
		}
		if m := h["X-Object-Manifest"]; m != "" {
			out[name] = srv.Names(t, container, strings.TrimPrefix(m, container+"/"))
		}
	}
	return out
}

// TestSwiftRegistry: 2.8 on Swift gets the fixture and a 12 MiB layer (a
// DLO of 3 segments) pushed with crane. copy --registry-config (the
// registry's own config.yml) into a versitygw bucket, slowed and killed with
// SIGKILL after some blobs, then run again, completes; Distribution 3 on
// the bucket serves every tag at the same digest. A backup of the Swift,
// restored into another prefix of it, is served by 2.8 again (crane
// validate --remote on every tag). Then a middle segment of the big layer
// is deleted behind the registry's back: backup, check --read-data and a
// copy all exit 3 naming that blob, and neither the archive nor the copy
// holds it.
func TestSwiftRegistry(t *testing.T) {
	srv := servers.StartSwift(t)
	gw := servers.StartVersityGW(t)
	container := srv.NewContainer(t)
	r := StartRegistryOpts(t, RegistryOptions{Version: V28, Storage: swiftStorage(srv, container, "/reg")})
	f := PushFixture(t, r)
	addBigImage(t, r, &f)
	dlos := swiftLargeObjects(t, srv, container, "reg")
	var big string
	for name, segs := range dlos {
		if len(segs) >= 3 {
			big = name
		}
	}
	if big == "" {
		t.Fatalf("no blob of 3 or more segments in the registry's Swift: %v", dlos)
	}
	cfg := r.ConfigPath
	env := append(gw.Env(), srv.Env()...)

	t.Run("CopyToS3", func(t *testing.T) {
		bucket := gw.NewBucket(t)
		locks := filepath.Join(t.TempDir(), "locks")
		args := []string{"copy", "--registry-config", cfg, "--to", gw.Location(bucket, "reg"), "--lock-dir", locks}
		killed := startRegbackup(t, append(env, "REGBACKUP_TEST_IO_DELAY=150ms"), "blobs:", append(args, "--concurrency", "2")...)
		deadline := time.Now().Add(60 * time.Second)
		for n, _ := blobKeys(t, gw, bucket, "reg"); n < 3; n, _ = blobKeys(t, gw, bucket, "reg") {
			if !killed.running() || time.Now().After(deadline) {
				t.Fatalf("the slowed copy did not write 3 blobs before it ended or 60 s passed:\n%s", killed.w.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err := killed.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		killed.wait(t)
		blobs, links := blobKeys(t, gw, bucket, "reg")
		t.Logf("killed with %d blobs in the bucket", blobs)
		if links != 0 {
			t.Errorf("the killed copy left %d link files", links)
		}
		stdout, stderr := regbackupWant(t, env, 0, args...)
		if !strings.Contains(stderr, "already at the target") || !strings.Contains(stdout, "s3:") {
			t.Errorf("second copy: stdout\n%s\nstderr\n%s", stdout, stderr)
		}
		if strings.Contains(stdout+stderr, srv.Key) || strings.Contains(stdout+stderr, gw.SecretKey) {
			t.Errorf("copy output shows a credential")
		}
		CheckServes(t, StartRegistryOpts(t, RegistryOptions{Version: V3, Storage: s3Storage(gw, V3, bucket, "/reg")}), f)
	})

	t.Run("BackupRestore", func(t *testing.T) {
		archive := filepath.Join(t.TempDir(), "swift.tar.zst")
		regbackupWant(t, env, 0, "backup", "--registry-config", cfg, "-o", archive)
		if tags, _ := listArchive(t, archive); !maps.Equal(tags, f.Tags) {
			t.Errorf("archive images %v, want %v", tags, f.Tags)
		}
		_, stderr := regbackupWant(t, env, 0, "restore", archive, "--to", srv.Location(container, "reg2")+"&chunk-size=5MiB")
		if strings.Contains(stderr, srv.Key) {
			t.Errorf("restore output shows the key:\n%s", stderr)
		}
		for _, name := range srv.Names(t, container, "reg2/") {
			if !strings.HasPrefix(name, "reg2/files/docker/registry/v2/") {
				t.Errorf("restore wrote %s, outside reg2/files/docker/registry/v2/", name)
			}
		}
		CheckServes(t, StartRegistryOpts(t, RegistryOptions{Version: V28, Storage: swiftStorage(srv, container, "/reg2")}), f)
	})

	// Last: it damages the source.
	t.Run("LostSegment", func(t *testing.T) {
		segs := dlos[big]
		if err := srv.Conn().ObjectDelete(t.Context(), container, segs[1]); err != nil {
			t.Fatal(err)
		}
		hex := filepath.Base(filepath.Dir(big))
		archive := filepath.Join(t.TempDir(), "damaged.tar.zst")
		_, stderr := regbackupWant(t, env, 3, "backup", "--registry-config", cfg, "-o", archive)
		logLinesWith(t, "backup", stderr, hex)
		if !strings.Contains(stderr, hex) || !strings.Contains(stderr, "segment 2 of its large object") {
			t.Errorf("backup does not report the blob with the lost segment (%s):\n%s", hex, stderr)
		}
		_, stderr = regbackupWant(t, env, 3, "check", "--registry-config", cfg, "--read-data")
		logLinesWith(t, "check", stderr, hex)
		if !strings.Contains(stderr, hex) || !strings.Contains(stderr, "segment 2 of its large object") {
			t.Errorf("check does not report the blob with the lost segment (%s):\n%s", hex, stderr)
		}
		bucket := gw.NewBucket(t)
		_, stderr = regbackupWant(t, env, 3, "copy", "--registry-config", cfg, "--to", gw.Location(bucket, "reg"),
			"--lock-dir", filepath.Join(t.TempDir(), "locks"))
		if !strings.Contains(stderr, hex) {
			t.Errorf("copy does not report the blob with the lost segment (%s):\n%s", hex, stderr)
		}
		for _, k := range registryKeys(t, gw, bucket, "reg") {
			if strings.Contains(k, hex) {
				t.Errorf("copy stored %s for the damaged blob", k)
			}
		}
		// The archive holds no entry for it: restored elsewhere, it is absent.
		root := filepath.Join(t.TempDir(), "restored")
		_, _, _ = Regbackup(t, "restore", archive, "--to", root)
		if exists(filepath.Join(root, "docker/registry/v2/blobs/sha256", hex[:2], hex, "data")) {
			t.Errorf("the archive held the damaged blob %s", hex)
		}
	})
}

// logLinesWith logs the lines of out that contain s.
func logLinesWith(t testing.TB, what, out, s string) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			t.Logf("%s: %s", what, l)
		}
	}
}
