package integration

// Archives as objects: backup -o, and the archive argument of list, verify
// and restore, take s3://, gs:// and azure:// URLs. Each store gets a real
// registry's archive written with a {date} name, listed, verified and
// restored into an empty filesystem root that a registry then serves; on
// S3 also an incremental chain found by prefix, prune, an encrypted
// archive, an interrupted backup that leaves no object and no multipart
// upload, and the one-line errors of a missing object and a name-less URL.

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/regbackup/regbackup/integration/sample"
	"github.com/regbackup/regbackup/integration/servers"
)

// objectStore is one object store under test: how to name an object, the
// environment regbackup needs, and what objects a prefix holds.
type objectStore struct {
	url  func(path string) string    // "prefix/name" -> URL with the store's options
	env  []string                    // credentials
	keys func(t testing.TB) []string // every object name in the bucket, sorted
}

// seededRoot pushes the fixture into a registry of version v, stops it and
// returns its root (in t's temp folder, which outlives t's subtests).
func seededRoot(t *testing.T, v string) (string, Fixture) {
	t.Helper()
	r, root, f := seedRegistry(t, v)
	r.Stop()
	return root, f
}

func s3Objects(t testing.TB) (*servers.S3Server, string, objectStore) {
	gw := servers.StartVersityGW(t)
	bucket := gw.NewBucket(t)
	return gw, bucket, objectStore{
		url: func(p string) string { return gw.Location(bucket, p) },
		env: gw.Env(),
		keys: func(t testing.TB) []string {
			k := gw.Keys(t, bucket)
			slices.Sort(k)
			return k
		},
	}
}

func gcsObjectStore(t testing.TB) objectStore {
	gcs := servers.StartFakeGCS(t, "backups")
	c := gcsClient(t, gcs)
	return objectStore{
		url: func(p string) string { return gcs.Location("backups", p) },
		keys: func(t testing.TB) []string {
			return slices.Sorted(maps.Keys(gcsObjects(t, c, "backups")))
		},
	}
}

func azureObjectStore(t testing.TB) objectStore {
	az := servers.StartAzurite(t)
	cont := az.NewContainer(t)
	return objectStore{
		url:  func(p string) string { return azureLocation(az, cont, "/"+p) },
		env:  []string{"AZURE_STORAGE_KEY=" + az.Key, "AZURE_STORAGE_CONNECTION_STRING=", "AZURE_STORAGE_SAS_TOKEN="},
		keys: func(t testing.TB) []string { return blobNames(t, az, cont) },
	}
}

// run runs regbackup with the store's credentials and stops the test unless
// it exits with want.
func (s objectStore) run(t testing.TB, want int, args ...string) (stdout, stderr string) {
	t.Helper()
	o, e, code := RegbackupEnv(t, s.env, args...)
	if code != want {
		t.Fatalf("regbackup %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, o, e)
	}
	return o, e
}

// listTags is `regbackup list --json URL` as "repo:tag" -> digest.
func (s objectStore) listTags(t testing.TB, args ...string) map[string]string {
	t.Helper()
	out, _ := s.run(t, 0, append([]string{"list", "--json"}, args...)...)
	var l struct {
		Images []listedImage `json:"images"`
	}
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		t.Fatalf("list --json: %v\n%s", err, out)
	}
	tags := map[string]string{}
	for _, im := range l.Images {
		tags[im.Repository+":"+im.Tag] = im.Digest
	}
	return tags
}

// roundTrip backs root up to PREFIX/reg-{date}.tar.zst in s, lists,
// verifies and restores that object into an empty root, and checks that a
// registry of version v serves f from it.
func (s objectStore) roundTrip(t *testing.T, v, prefix, root string, f Fixture) {
	pattern := s.url(prefix + "/reg-{date}.tar.zst")
	_, stderr := s.run(t, 0, "backup", "--from", root, "-o", pattern)
	name := "reg-" + time.Now().Format("2006-01-02") + ".tar.zst"
	obj := s.url(prefix + "/" + name)
	if want := []string{prefix + "/" + name, prefix + "/" + name + ".meta.json"}; !slices.Equal(s.keys(t), want) {
		t.Fatalf("after backup the bucket holds %q, want %q\n%s", s.keys(t), want, stderr)
	}
	if !strings.Contains(stderr, "archive: ") || !strings.Contains(stderr, prefix+"/"+name) {
		t.Errorf("backup does not name the object it wrote:\n%s", stderr)
	}
	if tags := s.listTags(t, obj); !maps.Equal(tags, f.Tags) {
		t.Errorf("list %s: %v, want %v", obj, tags, f.Tags)
	}
	s.run(t, 0, "verify", obj)
	to := filepath.Join(t.TempDir(), "restored")
	s.run(t, 0, "restore", obj, "--to", to)
	CheckServes(t, StartRegistry(t, v, to), f)
}

// TestObjectsRoundTrip: a Distribution 3 registry's archive through S3,
// GCS and Azure, and a 2.8 registry's through S3.
func TestObjectsRoundTrip(t *testing.T) {
	t.Parallel()
	root3, f3 := seededRoot(t, V3)
	root28, f28 := seededRoot(t, V28)
	t.Run("s3", func(t *testing.T) {
		t.Parallel()
		_, _, s := s3Objects(t)
		s.roundTrip(t, V3, "registry/nightly", root3, f3)
	})
	t.Run("s3-registry-2.8", func(t *testing.T) {
		t.Parallel()
		_, _, s := s3Objects(t)
		s.roundTrip(t, V28, "r28", root28, f28)
	})
	t.Run("gs", func(t *testing.T) {
		t.Parallel()
		s := gcsObjectStore(t)
		s.roundTrip(t, V3, "registry", root3, f3)
	})
	t.Run("azure", func(t *testing.T) {
		t.Parallel()
		s := azureObjectStore(t)
		s.roundTrip(t, V3, "registry", root3, f3)
	})
}

// TestObjectsS3Chain: an incremental backup finds the full one at the same
// prefix; the incremental restores (its parent found beside it in the
// bucket) and verifies; prune on the prefix keeps the parent a kept
// incremental needs and deletes the rest with their sidecars; an encrypted
// archive needs --identity.
func TestObjectsS3Chain(t *testing.T) {
	t.Parallel()
	_, _, s := s3Objects(t)
	r, root, f := seedRegistry(t, V3)
	pattern := s.url("chain/reg-{date}-{time}.tar.zst")
	_, stderr := s.run(t, 0, "backup", "--from", root, "-o", pattern, "--incremental")
	if !strings.Contains(stderr, "writing a full backup") {
		t.Errorf("first --incremental did not say it writes a full backup:\n%s", stderr)
	}
	first := s.keys(t)
	crane(t, "append", "-f", makeLayer(t, t.TempDir(), "inc", 300<<10), "-t", r.Ref("inc/new:1"))
	want := servedTags(t, r)
	r.Stop()
	grown := Fixture{Tags: want, Repos: slices.Sorted(slices.Values(append(slices.Clone(f.Repos), "inc/new")))}
	time.Sleep(1100 * time.Millisecond) // another {time}
	s.run(t, 0, "backup", "--from", root, "-o", pattern, "--incremental", "--json")
	keys := s.keys(t)
	if len(first) != 2 || len(keys) != 4 {
		t.Fatalf("objects after the full backup %q, after the incremental %q", first, keys)
	}
	inc := strings.TrimPrefix(keys[2], "chain/") // sorted: the full one first
	incURL := s.url("chain/" + inc)

	if tags := s.listTags(t, incURL); !maps.Equal(tags, want) {
		t.Errorf("list of the incremental: %v, want %v", tags, want)
	}
	s.run(t, 0, "verify", incURL)
	to := filepath.Join(t.TempDir(), "restored")
	s.run(t, 0, "restore", incURL, "--to", to)
	CheckServes(t, StartRegistry(t, V3, to), grown)

	// prune: the full archive is the kept incremental's parent.
	out, _ := s.run(t, 0, "prune", s.url("chain"), "--keep-last", "1")
	if !slices.Equal(s.keys(t), keys) {
		t.Errorf("prune --keep-last 1 deleted a needed parent: %q left, want %q\n%s", s.keys(t), keys, out)
	}
	// A new full backup: prune (after the backup) deletes the old chain.
	time.Sleep(1100 * time.Millisecond)
	s.run(t, 0, "backup", "--from", root, "-o", pattern, "--keep-last", "1")
	if left := s.keys(t); len(left) != 2 || slices.Contains(left, keys[0]) || slices.Contains(left, keys[2]) {
		t.Errorf("after backup --keep-last 1 the prefix holds %q, want only the new archive and its sidecar", left)
	}

	// Encrypted.
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "key.txt")
	os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600)
	enc := s.url("enc/reg.tar.zst.age")
	s.run(t, 0, "backup", "--from", root, "-o", enc, "--encrypt-to", id.Recipient().String())
	if _, stderr := s.run(t, 6, "verify", enc); !strings.Contains(stderr, "is encrypted: pass --identity FILE") {
		t.Errorf("verify without --identity:\n%s", stderr)
	}
	encTo := filepath.Join(t.TempDir(), "enc")
	s.run(t, 0, "restore", enc, "--identity", keyFile, "--to", encTo)
	CheckServes(t, StartRegistry(t, V3, encTo), grown)
}

// TestObjectsS3Failures: an interrupted backup leaves no object and no
// multipart upload; a missing object exits 1 with one line naming it; a
// URL that names no object is a usage error saying what to give.
func TestObjectsS3Failures(t *testing.T) {
	t.Parallel()
	gw, bucket, s := s3Objects(t)
	src := filepath.Join(t.TempDir(), "src")
	genTree(t, src, sample.Options{Seed: 11, LayerBytes: 24 << 20})

	t.Run("interrupted", func(t *testing.T) {
		obj := s.url("cut/reg.tar.zst") + "&part-size=5MiB"
		run := startRegbackup(t, slices.Concat(s.env, []string{"REGBACKUP_TEST_IO_DELAY=100ms"}), "blobs:",
			"backup", "--from", src, "-o", obj, "--compression", "none", "--concurrency", "1")
		// Wait until the upload is under way (a multipart upload exists),
		// so that the interrupt has something to abort.
		deadline := time.Now().Add(30 * time.Second)
		for len(gw.Uploads(t, bucket)) == 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		started := len(gw.Uploads(t, bucket)) > 0
		t.Logf("multipart upload under way: %v; sending SIGINT", started)
		code, stderr := run.interrupt(t, os.Interrupt)
		if code != 130 {
			t.Errorf("interrupted backup: exit %d, want 130\n%s", code, stderr)
		}
		if !started {
			t.Errorf("no multipart upload was seen before the interrupt (the test proves less)")
		}
		if k := s.keys(t); len(k) != 0 {
			t.Errorf("interrupted backup left objects %q", k)
		}
		if u := gw.Uploads(t, bucket); len(u) != 0 {
			t.Errorf("interrupted backup left multipart uploads %q", u)
		}
	})

	t.Run("missing-object", func(t *testing.T) {
		for _, cmd := range []string{"verify", "list", "restore"} {
			args := []string{cmd, s.url("nope/reg.tar.zst")}
			if cmd == "restore" {
				args = append(args, "--to", filepath.Join(t.TempDir(), "r"))
			}
			start := time.Now()
			stdout, stderr, code := RegbackupEnv(t, s.env, args...)
			checkLocationError(t, "s3://", "archive s3://"+bucket+"/nope/reg.tar.zst does not exist",
				stdout, stderr, code, time.Since(start), 5*time.Second, gw.SecretKey)
		}
	})

	t.Run("wrong-credentials", func(t *testing.T) {
		const wrong = "wrong-secret-0123456789"
		env := []string{"AWS_ACCESS_KEY_ID=" + gw.AccessKey, "AWS_SECRET_ACCESS_KEY=" + wrong, "AWS_SESSION_TOKEN=", "AWS_PROFILE="}
		before := s.keys(t)
		for _, args := range [][]string{
			{"backup", "--from", src, "-o", s.url("creds/reg-{date}.tar.zst")},
			{"verify", s.url("cut/reg.tar.zst")},
		} {
			start := time.Now()
			stdout, stderr, code := RegbackupEnv(t, env, args...)
			checkLocationError(t, "s3://", "the credentials are wrong or expired", stdout, stderr, code, time.Since(start), 5*time.Second, wrong, gw.SecretKey)
		}
		if after := s.keys(t); !slices.Equal(before, after) {
			t.Errorf("a backup with wrong credentials changed the bucket: %q -> %q", before, after)
		}
	})

	t.Run("no-object-name", func(t *testing.T) {
		_, stderr, code := RegbackupEnv(t, s.env, "backup", "--from", src, "-o", "s3://"+bucket+"/backups/")
		if code != 2 || !strings.Contains(stderr, "give the object name: s3://BUCKET/PREFIX/registry-{date}.tar.zst") {
			t.Errorf("-o ending in /: exit %d, want 2 with a hint\n%s", code, stderr)
		}
	})
}
