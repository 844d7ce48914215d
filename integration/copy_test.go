package integration

// regbackup copy: a filesystem registry with crane-pushed images copied,
// while it serves, into versitygw and Azurite; registries on the copies
// serve every tag at the same digest. A copy killed with SIGKILL half way
// is finished by running it again, and a run with nothing new copies
// nothing.

import (
	"encoding/json"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/regbackup/regbackup/integration/sample"
	"github.com/regbackup/regbackup/integration/servers"
)

// copyJSON is the part of `regbackup copy --json` the tests check.
type copyJSON struct {
	ExitCode int `json:"exit_code"`
	Report   struct {
		Blobs          int            `json:"blobs"`
		ServerSide     int            `json:"server_side_blobs"`
		Skipped        int            `json:"skipped"`
		Links          int            `json:"links"`
		Shard          string         `json:"shard"`
		OtherShards    int            `json:"other_shards"`
		LinksUnchanged int            `json:"links_unchanged"`
		Storage        map[string]any `json:"storage"`
	} `json:"report"`
}

func parseCopyJSON(t testing.TB, stdout string) copyJSON {
	t.Helper()
	var j copyJSON
	if err := json.Unmarshal([]byte(stdout), &j); err != nil {
		t.Fatalf("copy --json: %v\n%s", err, stdout)
	}
	return j
}

// blobKeys counts the blob objects under root in bucket.
func blobKeys(t testing.TB, gw *servers.S3Server, bucket, root string) (blobs, links int) {
	t.Helper()
	for _, k := range registryKeys(t, gw, bucket, root) {
		switch {
		case strings.HasSuffix(k, "/data") && strings.Contains(k, "/blobs/"):
			blobs++
		case strings.HasSuffix(k, "/link"):
			links++
		}
	}
	return blobs, links
}

// TestCopyToS3: for each registry version, a filesystem registry serving
// the fixture is copied into a versitygw bucket. The first copy, slowed
// down, is killed with SIGKILL after some blobs are in: no link file is
// there yet. The same command again completes it, says how to catch up
// and prints the storage section; a registry of the same version on the
// bucket serves every tag at the same digest (crane validate --remote on
// each). A third run copies no blob and writes no link; tags moved or
// damaged at the target are put back (checkCopyRepairsTags). With 3, the bucket
// is then copied into another bucket, server-side, and that serves too.
func TestCopyToS3(t *testing.T) {
	eachVersion(t, func(t *testing.T, v string) {
		gw := servers.StartVersityGW(t)
		root := filepath.Join(t.TempDir(), "registry")
		r := StartRegistry(t, v, root)
		f := PushFixture(t, r) // r keeps serving during the copies
		bucket := gw.NewBucket(t)
		locks := filepath.Join(t.TempDir(), "locks")
		args := []string{"copy", "--from", root, "--to", gw.Location(bucket, "reg"), "--lock-dir", locks}

		killCopyAfterBlobs(t, gw, bucket, gw.Env(), args, 30*time.Second)

		stdout, stderr := regbackupS3(t, gw, 0, args...)
		for _, want := range []string{"already at the target", "read-only for a short while", "catches up with pushes"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("copy output lacks %q:\n%s", want, stderr)
			}
		}
		if !strings.Contains(stdout, "storage:") || !strings.Contains(stdout, "s3:") || !strings.Contains(stdout, bucket) {
			t.Errorf("copy does not print the storage section for the bucket:\n%s", stdout)
		}
		if strings.Contains(stdout+stderr, gw.SecretKey) {
			t.Errorf("copy output shows the secret key:\n%s\n%s", stdout, stderr)
		}
		CheckServes(t, StartRegistryOpts(t, RegistryOptions{Version: v, Storage: s3Storage(gw, v, bucket, "/reg")}), f)

		stdout, _ = regbackupS3(t, gw, 0, append(args, "--json")...)
		j := parseCopyJSON(t, stdout)
		if j.Report.Blobs+j.Report.ServerSide != 0 || j.Report.Links != 0 || j.Report.Skipped == 0 || j.Report.LinksUnchanged == 0 {
			t.Errorf("third run: %d blobs copied, %d server-side, %d links written (%d skipped, %d unchanged); want no copy, no write",
				j.Report.Blobs, j.Report.ServerSide, j.Report.Links, j.Report.Skipped, j.Report.LinksUnchanged)
		}
		checkCopyRepairsTags(t, gw, bucket, f, args)
		if v != V3 {
			return
		}
		// Bucket to bucket on the same service: server-side, every blob.
		bucket2 := gw.NewBucket(t)
		stdout, _ = regbackupS3(t, gw, 0, "copy", "--from", gw.Location(bucket, "reg"), "--to", gw.Location(bucket2, "moved"),
			"--lock-dir", locks, "--json")
		j = parseCopyJSON(t, stdout)
		if j.Report.ServerSide == 0 || j.Report.Blobs != 0 {
			t.Errorf("bucket to bucket: %d blobs server-side, %d through regbackup; want all server-side", j.Report.ServerSide, j.Report.Blobs)
		}
		CheckServes(t, StartRegistryOpts(t, RegistryOptions{Version: v, Storage: s3Storage(gw, v, bucket2, "/moved")}), f)
	})
}

// checkCopyRepairsTags: a tag moved at the target through the S3 API (its
// ETag changes with it) is put back by a plain re-run of args, which
// compares the listing's ETags with the source's links; a tag link damaged
// behind versitygw's back (its file rewritten on disk: the ETag stays) is
// taken as is by a plain re-run and put back by --verify-existing, which
// reads every link.
func checkCopyRepairsTags(t *testing.T, gw *servers.S3Server, bucket string, f Fixture, args []string) {
	t.Helper()
	refs := slices.Sorted(maps.Keys(f.Tags))
	if len(refs) < 2 {
		t.Fatalf("the fixture has %d tags, want at least 2", len(refs))
	}
	key := func(ref string) string {
		repo, tag, _ := strings.Cut(ref, ":")
		return "reg/docker/registry/v2/repositories/" + repo + "/_manifests/tags/" + tag + "/current/link"
	}
	bogus := "sha256:" + strings.Repeat("0", 64)
	moved, damaged := refs[0], refs[1]
	if _, err := gw.Client().PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket),
		Key: aws.String(key(moved)), Body: strings.NewReader(bogus)}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(gw.Dir, bucket, filepath.FromSlash(key(damaged))), []byte(bogus), 0o644); err != nil {
		t.Fatal(err)
	}
	holds := func(ref string) string {
		out, err := gw.Client().GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key(ref))})
		if err != nil {
			t.Fatal(err)
		}
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, run := range []struct {
		flags []string
		fixed string
	}{{nil, moved}, {[]string{"--verify-existing"}, damaged}} {
		stdout, _ := regbackupS3(t, gw, 0, append(append(args, "--json"), run.flags...)...)
		if j := parseCopyJSON(t, stdout); j.Report.Links != 1 {
			t.Errorf("copy %v after %s moved and %s damaged at the target: %d links written, want 1 (%s)",
				run.flags, moved, damaged, j.Report.Links, run.fixed)
		}
		if got := holds(run.fixed); got != f.Tags[run.fixed] {
			t.Errorf("after copy %v the target's %s holds %q, want %s", run.flags, run.fixed, got, f.Tags[run.fixed])
		}
	}
}

// TestCopyToAzure: a Distribution 3 filesystem registry copied into an
// Azurite container; a 3.x registry on the container serves every tag at
// the same digest.
func TestCopyToAzure(t *testing.T) {
	t.Parallel()
	az := servers.StartAzurite(t)
	keyEnv := []string{"AZURE_STORAGE_KEY=" + az.Key, "AZURE_STORAGE_CONNECTION_STRING=", "AZURE_STORAGE_SAS_TOKEN="}
	root := filepath.Join(t.TempDir(), "registry")
	f := PushFixture(t, StartRegistry(t, V3, root))
	cont := az.NewContainer(t)
	to := azureLocation(az, cont, "/reg")
	locks := filepath.Join(t.TempDir(), "locks")
	stdout, stderr, code := RegbackupEnv(t, keyEnv, "copy", "--from", root, "--to", to, "--lock-dir", locks, "--json")
	if code != 0 {
		t.Fatalf("copy --to %s: exit %d\n%s", to, code, stderr)
	}
	j := parseCopyJSON(t, stdout)
	if j.Report.Blobs+j.Report.ServerSide == 0 || j.Report.Links == 0 {
		t.Errorf("copy into an empty container: %d blobs, %d links", j.Report.Blobs+j.Report.ServerSide, j.Report.Links)
	}
	if strings.Contains(stdout+stderr, az.Key) {
		t.Errorf("copy output shows the account key")
	}
	CheckServes(t, StartRegistryOpts(t, RegistryOptions{Version: V3, Storage: azureStorage(az, cont, "/reg")}), f)
}

// TestCopyDamagedSource: a corrupt layer in the source makes copy exit 3,
// naming the blob; the target holds neither it nor a link to it, and every
// other blob there is intact. Copying a storage onto itself is a usage
// error (exit 2) that writes nothing.
func TestCopyDamagedSource(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	src := filepath.Join(base, "src")
	victim := corruptToolsLayer(t, src)
	locks := filepath.Join(base, "locks")
	before := treeState(t, src, "")
	_, stderr := expectExit(t, 2, "copy", "--from", src, "--to", "file://"+src, "--lock-dir", locks)
	if !strings.Contains(errorLine(t, stderr), "the source and the target are the same storage") {
		t.Errorf("copy onto itself: %s", stderr)
	}
	if after := treeState(t, src, ""); !maps.Equal(before, after) {
		t.Errorf("copy onto itself changed the storage")
	}

	root := filepath.Join(base, "copy")
	_, stderr = expectExit(t, 3, "copy", "--from", src, "--to", root, "--lock-dir", locks)
	if !strings.Contains(stderr, strings.TrimPrefix(victim, "sha256:")) || !strings.Contains(stderr, "corrupt in the source") {
		t.Errorf("copy stderr does not name the corrupt blob %s:\n%s", victim, stderr)
	}
	if p := filepath.Join(root, filepath.FromSlash(sample.BlobPath(victim))); exists(p) {
		t.Errorf("copy committed the corrupt blob %s", p)
	}
	hex := strings.TrimPrefix(victim, "sha256:")
	for p, s := range linkFiles(t, root) {
		if s.content == victim || strings.Contains(p, hex) {
			t.Errorf("copy wrote link %s to the corrupt blob", p)
		}
	}
	checkBlobsIntact(t, root)
	if tmp := tempFilesUnder(t, root); len(tmp) > 0 {
		t.Errorf("copy left temp files: %v", tmp)
	}
}

// TestCopyDryRun: --dry-run into a folder that does not exist lists every
// blob and link it would write, counts them, and creates nothing; after a
// real copy, a dry run has nothing to do.
func TestCopyDryRun(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	src := filepath.Join(base, "src")
	genTree(t, src, sample.Options{Seed: 9})
	root := filepath.Join(base, "new")
	locks := filepath.Join(base, "locks")
	stdout, stderr := expectExit(t, 0, "copy", "--from", src, "--to", root, "--dry-run", "--lock-dir", locks)
	copies, writes := strings.Count(stdout, "would copy "), strings.Count(stdout, "would write ")
	if copies == 0 || writes == 0 || !strings.Contains(stderr, "nothing written") {
		t.Errorf("dry run lists %d blobs and %d links to write:\n%s\n%s", copies, writes, stdout, stderr)
	}
	if exists(root) {
		t.Errorf("dry run created %s", root)
	}
	stdout, _ = expectExit(t, 0, "copy", "--from", src, "--to", root, "--lock-dir", locks, "--json")
	if j := parseCopyJSON(t, stdout); j.Report.Blobs != copies || j.Report.Links != writes {
		t.Errorf("the copy wrote %d blobs and %d links; the dry run announced %d and %d", j.Report.Blobs, j.Report.Links, copies, writes)
	}
	stdout, _ = expectExit(t, 0, "copy", "--from", src, "--to", root, "--dry-run", "--lock-dir", locks)
	if strings.Contains(stdout, "would ") {
		t.Errorf("dry run after a full copy still has work:\n%s", stdout)
	}
}

// killCopyAfterBlobs runs the copy args slowed down (150 ms per I/O, two at
// a time), SIGKILLs it once 3 blobs are under bucket/reg, and checks that
// it left no link file there: links come only after all blobs.
func killCopyAfterBlobs(t *testing.T, gw *servers.S3Server, bucket string, env, args []string, within time.Duration) {
	t.Helper()
	slow := append(append([]string(nil), env...), "REGBACKUP_TEST_IO_DELAY=150ms")
	killed := startRegbackup(t, slow, "blobs:", append(append([]string(nil), args...), "--concurrency", "2")...)
	deadline := time.Now().Add(within)
	for n, _ := blobKeys(t, gw, bucket, "reg"); n < 3; n, _ = blobKeys(t, gw, bucket, "reg") {
		if !killed.running() || time.Now().After(deadline) {
			t.Fatalf("the slowed copy did not write 3 blobs before it ended or %s passed:\n%s", within, killed.w.String())
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
		t.Errorf("the killed copy left %d link files: links must come after all blobs", links)
	}
}
