package integration

// GitLab's registry with its metadata database, moved: restored onto S3
// storage, three nights of incrementals, copied to a bucket, and a restore
// killed while pg_restore loads the dump (issue 12).

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/regbackup/regbackup/integration/servers"
)

// gitlabOn starts a second GitLab registry on storage with g's PostgreSQL
// and a fresh database of its own (migrated, no repositories), stopped:
// what a new install on other storage has before a restore.
func (g *gitlabRegistry) freshInstallOn(t testing.TB, storage string) *gitlabRegistry {
	t.Helper()
	db := g.pg.NewDatabase(t, servers.MigratedTemplate(t, g.pg))
	r := StartRegistryOpts(t, RegistryOptions{Version: VGitLab, Storage: storage, Database: databaseSection(g.pg, db, g.pg.Port)})
	r.Stop()
	return &gitlabRegistry{Registry: r, pg: g.pg, db: db}
}

// TestGitLabRestoreOntoS3: an archive of a GitLab registry on a folder,
// restored into a fresh install whose storage is a bucket on versitygw,
// serves every tag with the same digest.
func TestGitLabRestoreOntoS3(t *testing.T) {
	root := filepath.Join(t.TempDir(), "registry")
	g := startGitLab(t, root, "")
	f := PushFixture(t, g.Registry)
	archive := filepath.Join(t.TempDir(), "reg.tar.zst")
	Regbackup(t, "backup", "--registry-config", g.ConfigPath, "-o", archive)
	g.Stop()

	gw := servers.StartVersityGW(t)
	bucket := gw.NewBucket(t)
	n := g.freshInstallOn(t, gitlabS3(gw, bucket, "/reg"))
	regbackupS3(t, gw, 0, "restore", archive, "--to-registry-config", n.ConfigPath)
	if keys := keysUnder(gw.Keys(t, bucket), "reg/docker/registry/v2/repositories/"); len(keys) > 0 {
		t.Errorf("the restore wrote %d link files into the bucket: a registry on a database needs none", len(keys))
	}
	n.migrate(t)
	n.Restart(t)
	CheckServes(t, n.Registry, f)
}

// TestGitLabIncrementalNights: three nightly incrementals with pushes and
// deletes between them; the newest restores into a fresh install and
// serves what the registry served that night.
func TestGitLabIncrementalNights(t *testing.T) {
	root := filepath.Join(t.TempDir(), "registry")
	g := startGitLab(t, root, "")
	PushFixture(t, g.Registry)
	dir := t.TempDir()
	type report struct {
		Report struct {
			Parents        []string `json:"parents"`
			InheritedBlobs int      `json:"inherited_blobs"`
		} `json:"report"`
	}
	night := func(n int) report {
		t.Helper()
		if n > 1 {
			time.Sleep(1100 * time.Millisecond) // another {time}
		}
		out, errOut, code := Regbackup(t, "backup", "--registry-config", g.ConfigPath,
			"-o", filepath.Join(dir, "night-{date}-{time}.tar.zst"), "--incremental", "--json")
		if code != 0 {
			t.Fatalf("night %d: exit %d\n%s", n, code, errOut)
		}
		var j report
		if err := json.Unmarshal([]byte(out), &j); err != nil {
			t.Fatalf("night %d: --json: %v\n%s", n, err, out)
		}
		return j
	}
	night(1)
	layers := t.TempDir()
	crane(t, "append", "-f", makeLayer(t, layers, "n2", 200<<10), "-t", g.Ref("nightly/a:1"))
	crane(t, "append", "-f", makeLayer(t, layers, "n2b", 150<<10), "-t", g.Ref("nightly/b:1"))
	j2 := night(2)
	if len(j2.Report.Parents) != 1 || j2.Report.InheritedBlobs == 0 {
		t.Errorf("night 2: parents %v, %d inherited blobs; want an incremental on night 1", j2.Report.Parents, j2.Report.InheritedBlobs)
	}
	deleted := crane(t, "digest", g.Ref("nightly/a:1"))
	crane(t, "delete", g.Ref("nightly/a@"+deleted))
	crane(t, "append", "-b", g.Ref("nightly/b:1"), "-f", makeLayer(t, layers, "n3", 100<<10), "-t", g.Ref("nightly/b:2"))
	crane(t, "tag", g.Ref("nightly/b:2"), "latest")
	j3 := night(3)
	if len(j3.Report.Parents) == 0 {
		t.Errorf("night 3 is not an incremental: parents %v", j3.Report.Parents)
	}
	want := Fixture{Tags: servedTags(t, g.Registry), Repos: catalog(t, g.Registry), Deleted: deleted, DeletedRepo: "nightly/a"}

	g.freshDatabase(t)
	emptyDir(t, root)
	archives, _ := filepath.Glob(filepath.Join(dir, "night-*.tar.zst"))
	if len(archives) != 3 {
		t.Fatalf("archives after three nights: %v", archives)
	}
	slices.Sort(archives)
	if out, errOut, code := Regbackup(t, "restore", archives[2], "--to-registry-config", g.ConfigPath); code != 0 {
		t.Fatalf("restore of night 3: exit %d\n%s\n%s", code, out, errOut)
	}
	g.migrate(t)
	g.Restart(t)
	CheckServes(t, g.Registry, want)
}

// TestGitLabCopyToS3: copy through the config to a bucket, first in two
// shards (checkGitLabShards), then a plain copy, which copies no blob; a
// GitLab registry on the bucket with the same database serves every tag;
// a second copy copies nothing.
func TestGitLabCopyToS3(t *testing.T) {
	root := filepath.Join(t.TempDir(), "registry")
	g := startGitLab(t, root, "")
	f := PushFixture(t, g.Registry)
	gw := servers.StartVersityGW(t)
	bucket := gw.NewBucket(t)
	args := []string{"copy", "--registry-config", g.ConfigPath, "--to", gw.Location(bucket, "reg")}
	checkGitLabShards(t, gw, bucket, args)
	stdout, stderr := regbackupS3(t, gw, 0, args...)
	if !strings.Contains(stderr, "blobs: 0 copied") {
		t.Errorf("the plain copy after the shards copied blobs:\n%s", stderr)
	}
	if !strings.Contains(stdout, "s3:") || !strings.Contains(stdout, bucket) {
		t.Errorf("copy does not print the storage section for the bucket:\n%s", stdout)
	}
	if strings.Contains(stdout+stderr, g.pg.Password) || strings.Contains(stdout+stderr, gw.SecretKey) {
		t.Errorf("copy printed a secret:\n%s\n%s", stdout, stderr)
	}
	if keys := gw.Keys(t, bucket); !slices.Contains(keys, "reg/docker/registry/lockfiles/database-in-use") {
		t.Errorf("lockfiles in the bucket: %v, want database-in-use", keysUnder(keys, "reg/docker/registry/lockfiles/"))
	}
	g.Stop()
	moved := StartRegistryOpts(t, RegistryOptions{Version: VGitLab, Storage: gitlabS3(gw, bucket, "/reg"),
		Database: databaseSection(g.pg, g.db, g.pg.Port)})
	CheckServes(t, moved, f)
	moved.Stop()

	stdout, _ = regbackupS3(t, gw, 0, append(args, "--json")...)
	j := parseCopyJSON(t, stdout)
	if j.Report.Blobs+j.Report.ServerSide != 0 || j.Report.Skipped == 0 {
		t.Errorf("second copy: %d blobs copied, %d server-side, %d skipped; want none copied", j.Report.Blobs, j.Report.ServerSide, j.Report.Skipped)
	}
}

// TestGitLabRestoreKilledInDatabase: restore SIGKILLed while pg_restore
// loads the dump (pg_restore dies with it, its transaction rolled back);
// the same command again completes and the registry serves every tag.
func TestGitLabRestoreKilledInDatabase(t *testing.T) {
	root := filepath.Join(t.TempDir(), "registry")
	g := startGitLab(t, root, "")
	f := PushFixture(t, g.Registry)
	archive := filepath.Join(t.TempDir(), "reg.tar.zst")
	Regbackup(t, "backup", "--registry-config", g.ConfigPath, "-o", archive)
	pgBin, started := markingPGBin(t)

	for round := 0; round < 3; round++ {
		g.freshDatabase(t)
		emptyDir(t, root)
		os.Remove(started)
		cmd := exec.Command(regbackupBinary(t), "restore", archive, "--to-registry-config", g.ConfigPath, "--pg-bin", pgBin)
		cmd.Env = append(os.Environ(), "REGBACKUP_NO_COLOR=1")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		deadline := time.After(2 * time.Minute)
	wait:
		for {
			select {
			case err := <-done:
				t.Fatalf("round %d: restore ended before pg_restore started: %v", round, err)
			case <-deadline:
				cmd.Process.Kill()
				t.Fatalf("round %d: pg_restore did not start in 2 minutes", round)
			case <-time.After(20 * time.Millisecond):
				if _, err := os.Stat(started); err == nil {
					break wait
				}
			}
		}
		delay := time.Duration(rand.IntN(800)) * time.Millisecond
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
		t.Logf("round %d: SIGKILLed %v after pg_restore started", round, delay)
		if out, errOut, code := Regbackup(t, "restore", archive, "--to-registry-config", g.ConfigPath, "--pg-bin", pgBin); code != 0 {
			t.Fatalf("round %d: the restore run again: exit %d\n%s\n%s", round, code, out, errOut)
		}
	}
	g.migrate(t)
	g.Restart(t)
	CheckServes(t, g.Registry, f)
}

// markingPGBin is a --pg-bin folder whose pg_restore creates the file
// started, then runs the real pg_restore (pg_dump and psql are the real
// ones): how a test knows the database load has begun.
func markingPGBin(t testing.TB) (dir, started string) {
	t.Helper()
	real := servers.PostgresBinDir
	dir = t.TempDir()
	started = filepath.Join(dir, "started")
	for _, name := range []string{"pg_dump", "psql"} {
		if err := os.Symlink(filepath.Join(real, name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	script := fmt.Sprintf("#!/bin/sh\ncase \"$1\" in --version|-V) ;; *) : > %q ;; esac\nexec %q \"$@\"\n",
		started, filepath.Join(real, "pg_restore"))
	if err := os.WriteFile(filepath.Join(dir, "pg_restore"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, started
}

// keysUnder is those of keys that start with prefix.
func keysUnder(keys []string, prefix string) []string {
	var out []string
	for _, k := range keys {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}

// gitlabS3 is the storage section for GitLab's registry on bucket/root of
// gw: blobs served through the registry (no redirect to versitygw, which
// crane refuses to follow to a loopback address) and deletes allowed.
func gitlabS3(gw *servers.S3Server, bucket, root string) string {
	return gw.S3Storage(bucket, root) + "\nredirect: {disable: true}\ndelete: {enabled: true}"
}

// checkGitLabShards: in database mode, the shards 0/2 and 1/2 of the copy
// args make copy the database's blobs between them and write nothing else
// (no lockfile: the final copy writes it). A shard refuses, before copying
// a blob, a target holding filesystem-in-use, where the registry on the
// database would not start.
func checkGitLabShards(t *testing.T, gw *servers.S3Server, bucket string, args []string) {
	t.Helper()
	copied := 0
	for _, sh := range []string{"0/2", "1/2"} {
		stdout, _ := regbackupS3(t, gw, 0, append(args, "--shard", sh, "--json")...)
		j := parseCopyJSON(t, stdout)
		if j.Report.Shard != sh || j.Report.Links != 0 {
			t.Errorf("shard %s: report shard %q, %d links", sh, j.Report.Shard, j.Report.Links)
		}
		copied += j.Report.Blobs + j.Report.ServerSide
	}
	keys := gw.Keys(t, bucket)
	for _, k := range keys {
		if !strings.HasPrefix(k, "reg/docker/registry/v2/blobs/") {
			t.Errorf("after the shards the bucket holds %s: want blobs only", k)
		}
	}
	if copied == 0 || copied != len(keys) {
		t.Errorf("the shards copied %d blobs, the bucket holds %d objects", copied, len(keys))
	}

	held := gw.NewBucket(t)
	if _, err := gw.Client().PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(held),
		Key: aws.String("reg/docker/registry/lockfiles/filesystem-in-use"), Body: strings.NewReader("")}); err != nil {
		t.Fatal(err)
	}
	to := slices.Index(args, "--to")
	heldArgs := append(slices.Clone(args[:to+1]), gw.Location(held, "reg"), "--shard", "0/2")
	_, stderr := regbackupS3(t, gw, 1, heldArgs...)
	if !strings.Contains(stderr, "filesystem-in-use") {
		t.Errorf("shard onto a target holding filesystem-in-use: want it named\n%s", stderr)
	}
	if keys := gw.Keys(t, held); len(keys) != 1 {
		t.Errorf("a refused shard left %v", keys)
	}
}
