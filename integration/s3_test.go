package integration

// Registries on S3 (versitygw): back up from the bucket, restore into an
// empty bucket and into a filesystem root, and check that registries on the
// copies serve the same digests; and the one-line, fast, harmless failures
// a user meets with wrong credentials, a missing bucket or a dead endpoint.

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/regbackup/regbackup/integration/sample"
	"github.com/regbackup/regbackup/integration/servers"
)

// s3Storage is a registry storage section for bucket/root on gw, as each
// version needs it: 3.x with forcepathstyle; Debian's 2.8 without it
// (regionendpoint turns path style on) and with v4auth.
func s3Storage(gw *servers.S3Server, v, bucket, root string) string {
	s := fmt.Sprintf("s3:\n  accesskey: %s\n  secretkey: %q\n  region: %s\n  regionendpoint: %q\n"+
		"  bucket: %s\n  rootdirectory: %s\n  secure: false\n  chunksize: 5242880\n",
		gw.AccessKey, gw.SecretKey, gw.Region, gw.Endpoint, bucket, root)
	if v == V3 {
		s += "  forcepathstyle: true\n"
	} else {
		s += "  v4auth: true\n"
	}
	return s + "redirect:\n  disable: true\ndelete:\n  enabled: true\n"
}

// regbackupS3 runs regbackup with gw's credentials in its environment and
// stops the test unless it exits with want.
func regbackupS3(t testing.TB, gw *servers.S3Server, want int, args ...string) (stdout, stderr string) {
	t.Helper()
	return regbackupWant(t, gw.Env(), want, args...)
}

// regbackupWant runs regbackup with env added to its environment and stops
// the test unless it exits with want.
func regbackupWant(t testing.TB, env []string, want int, args ...string) (stdout, stderr string) {
	t.Helper()
	o, e, code := RegbackupEnv(t, env, args...)
	if code != want {
		t.Fatalf("regbackup %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, o, e)
	}
	return o, e
}

// addBigImage pushes big:v1, whose 12 MiB layer the registry stores with a
// multipart upload and a restore with part-size=5MiB does too, and records
// it in f.
func addBigImage(t testing.TB, r *Registry, f *Fixture) {
	t.Helper()
	layer := makeLayer(t, t.TempDir(), "big", 12<<20)
	crane(t, "append", "-f", layer, "-t", r.Ref("big:v1"))
	f.Tags["big:v1"] = crane(t, "digest", r.Ref("big:v1"))
	f.Repos = append(f.Repos, "big")
	sort.Strings(f.Repos)
}

// registryKeys are the keys of bucket below root + "/", without the root,
// leaving out uploads in progress (the registry's _uploads folders).
func registryKeys(t testing.TB, gw *servers.S3Server, bucket, root string) []string {
	t.Helper()
	var out []string
	for _, k := range gw.Keys(t, bucket) {
		rel, ok := strings.CutPrefix(k, root+"/")
		if !ok {
			t.Errorf("bucket %s: key %q outside the root %q", bucket, k, root)
			continue
		}
		if !strings.Contains(rel, "/_uploads/") {
			out = append(out, rel)
		}
	}
	return out
}

// TestS3RoundTrip: a registry on S3 gets the fixture (and a layer big enough
// for multipart uploads) pushed with crane; regbackup backs the bucket up
// while it runs and restores the archive into an empty bucket (with
// multipart parts) and into a filesystem root. Registries of the same
// version on both copies serve every tag at the same digest, and crane
// validates every image.
func TestS3RoundTrip(t *testing.T) {
	eachVersion(t, func(t *testing.T, v string) {
		gw := servers.StartVersityGW(t)
		src := gw.NewBucket(t)
		r := StartRegistryOpts(t, RegistryOptions{Version: v, Storage: s3Storage(gw, v, src, "/reg")})
		f := PushFixture(t, r)
		addBigImage(t, r, &f)

		archive := filepath.Join(t.TempDir(), "backup.tar.zst")
		_, stderr := regbackupS3(t, gw, 0, "backup", "--from", gw.Location(src, "reg"), "-o", archive)
		if tags, _ := listArchive(t, archive); !maps.Equal(tags, f.Tags) {
			t.Errorf("archive images %v, want %v", tags, f.Tags)
		}
		for _, s := range []string{gw.SecretKey, gw.AccessKey} {
			if strings.Contains(stderr, s) {
				t.Errorf("backup output shows a credential:\n%s", stderr)
			}
		}
		r.Stop()

		// Into an empty bucket, under another root, with 5 MiB parts.
		dst := gw.NewBucket(t)
		regbackupS3(t, gw, 0, "restore", archive, "--to", gw.Location(dst, "restored")+"&part-size=5MiB")
		srcKeys, dstKeys := registryKeys(t, gw, src, "reg"), registryKeys(t, gw, dst, "restored")
		for _, k := range dstKeys {
			if strings.HasSuffix(k, "/") || !strings.HasPrefix(k, "docker/registry/v2/") {
				t.Errorf("restore wrote key %q: a folder object or outside docker/registry/v2/", k)
			}
			if !slices.Contains(srcKeys, k) {
				t.Errorf("restore wrote %q, which the source bucket does not have", k)
			}
		}
		for _, k := range srcKeys {
			if strings.HasSuffix(k, "/link") && !slices.Contains(dstKeys, k) {
				t.Errorf("source link %q was not restored", k)
			}
		}
		if u := gw.Uploads(t, dst); len(u) != 0 {
			t.Errorf("restore left multipart uploads in progress: %q", u)
		}
		CheckServes(t, StartRegistryOpts(t, RegistryOptions{Version: v, Storage: s3Storage(gw, v, dst, "/restored")}), f)

		// Into a filesystem root.
		root := filepath.Join(t.TempDir(), "registry")
		mustRegbackup(t, 0, "restore", archive, "--to", root)
		CheckServes(t, StartRegistry(t, v, root), f)
	})
}

// TestS3BadInput: wrong credentials, a missing bucket, a closed port and no
// credentials at all make backup and restore exit 1 within seconds with one
// error line that says what to fix, no stack trace, no secret, no archive
// file left and nothing written to the bucket.
func TestS3BadInput(t *testing.T) {
	t.Parallel()
	gw := servers.StartVersityGW(t)
	srcDir := filepath.Join(t.TempDir(), "src")
	genTree(t, srcDir, sample.Options{Seed: 3})
	archive := backupArchive(t, srcDir)
	bucket := gw.NewBucket(t) // stays empty
	closed := fmt.Sprintf("http://127.0.0.1:%d", servers.FreePort(t))
	good := gw.Location(bucket, "reg")
	const wrongSecret = "wrong-secret-0123456789"
	noCreds := []string{"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN=", "AWS_PROFILE=",
		"AWS_CONFIG_FILE=/nonexistent/config", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent/credentials", "AWS_EC2_METADATA_DISABLED=true"}
	for _, tc := range []struct {
		name string
		loc  string
		env  []string
		want string
	}{
		{"wrong secret", good, []string{"AWS_ACCESS_KEY_ID=" + gw.AccessKey, "AWS_SECRET_ACCESS_KEY=" + wrongSecret},
			"(SignatureDoesNotMatch): the credentials are wrong or expired: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"},
		{"unknown key", good, []string{"AWS_ACCESS_KEY_ID=nosuchkey0123", "AWS_SECRET_ACCESS_KEY=" + gw.SecretKey},
			"the credentials are wrong or expired"},
		{"no credentials", good, noCreds, "no usable AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"},
		{"missing bucket", gw.Location("no-such-bucket", "reg"), gw.Env(),
			`bucket "no-such-bucket" does not exist at ` + gw.Endpoint + ": create it first"},
		{"closed port", "s3://" + bucket + "/reg?endpoint=" + closed + "&path-style=true&region=us-east-1", gw.Env(),
			"cannot reach " + closed + ": dial tcp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			for _, args := range [][]string{
				{"backup", "--from", tc.loc, "-o", filepath.Join(out, "backup.tar.zst")},
				{"restore", archive, "--to", tc.loc},
			} {
				start := time.Now()
				stdout, stderr, code := RegbackupEnv(t, tc.env, args...)
				t.Logf("regbackup %s", args[0])
				checkLocationError(t, "s3://", tc.want, stdout, stderr, code, time.Since(start), 5*time.Second, gw.SecretKey, wrongSecret)
			}
			if left, _ := os.ReadDir(out); len(left) != 0 {
				t.Errorf("files left after the failed backup: %v", left)
			}
			if k := gw.Keys(t, bucket); len(k) != 0 {
				t.Errorf("failed restore wrote %q into the bucket", k)
			}
			if _, err := os.Stat(filepath.Join(gw.Dir, "no-such-bucket")); err == nil {
				t.Errorf("a failed restore created the missing bucket")
			}
		})
	}
}
