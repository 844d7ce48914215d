package integration

// Google Cloud Storage through fake-gcs-server. The registry's own gcs
// driver cannot talk to an emulator (it hard-codes Google's upload host and
// needs real credentials), so the registries here run on folders: images
// pushed to a filesystem registry are restored into fake-gcs-server, read
// back object by object, backed up from there and restored into a folder
// both registry versions serve. A registry tree uploaded the way the gcs
// driver stores it (with an upload session and folder placeholders) is
// backed up too; and the mistakes a user makes with a gs:// location.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"github.com/regbackup/regbackup/integration/sample"
	"github.com/regbackup/regbackup/integration/servers"
)

// gcsObject is one object as the server holds it.
type gcsObject struct {
	contentType string
	data        []byte
}

// gcsClient is a storage client of our own (not regbackup's driver) for s.
func gcsClient(t testing.TB, s *servers.GCSServer) *storage.Client {
	t.Helper()
	c, err := storage.NewClient(context.Background(), option.WithEndpoint(s.Endpoint),
		option.WithoutAuthentication(), storage.WithJSONReads())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// gcsObjects reads every object of bucket, content included.
func gcsObjects(t testing.TB, c *storage.Client, bucket string) map[string]gcsObject {
	t.Helper()
	objs := map[string]gcsObject{}
	it := c.Bucket(bucket).Objects(t.Context(), nil)
	for {
		a, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return objs
		}
		if err != nil {
			t.Fatalf("listing gs://%s: %v", bucket, err)
		}
		r, err := c.Bucket(bucket).Object(a.Name).NewReader(t.Context())
		if err != nil {
			t.Fatalf("reading gs://%s/%s: %v", bucket, a.Name, err)
		}
		data, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatalf("reading gs://%s/%s: %v", bucket, a.Name, err)
		}
		objs[a.Name] = gcsObject{contentType: a.ContentType, data: data}
	}
}

// gcsPut stores one object with our own client.
func gcsPut(t testing.TB, c *storage.Client, bucket, name, contentType string, data []byte) {
	t.Helper()
	w := c.Bucket(bucket).Object(name).NewWriter(t.Context())
	w.ContentType = contentType
	if _, err := w.Write(data); err != nil {
		t.Fatalf("writing gs://%s/%s: %v", bucket, name, err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("writing gs://%s/%s: %v", bucket, name, err)
	}
}

// regularFiles lists the regular files below root as slash paths.
func regularFiles(t testing.TB, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files
}

// TestGCSRoundTrip: registry 3.x content (the fixture plus a 20 MiB layer,
// above the 8 MiB upload chunk) restored into fake-gcs-server holds every
// file under the registry's object names, byte for byte; backed up from
// there and restored into a folder, both registry versions serve it with
// the same digests.
func TestGCSRoundTrip(t *testing.T) {
	t.Parallel()
	gcs := servers.StartFakeGCS(t, "registry")
	client := gcsClient(t, gcs)

	r, root, f := seedRegistry(t, V3)
	big := makeLayer(t, t.TempDir(), "big", 20<<20)
	crane(t, "append", "-f", big, "-t", r.Ref("big:v1"))
	f.Tags["big:v1"] = crane(t, "digest", r.Ref("big:v1"))
	f.Repos = append(f.Repos, "big")
	slices.Sort(f.Repos)
	r.Stop()
	a := backupArchive(t, root)

	// What a restore writes, as a folder: the files the objects must be.
	ref := filepath.Join(t.TempDir(), "ref")
	mustRegbackup(t, 0, "restore", a, "--to", ref, "-q")
	want := regularFiles(t, ref)

	to := gcs.Location("registry", "reg")
	start := time.Now()
	mustRegbackup(t, 0, "restore", a, "--to", to)
	t.Logf("restored %d files into %s in %s", len(want), to, time.Since(start).Round(time.Millisecond))

	objs := gcsObjects(t, client, "registry")
	var got []string
	var bytesRead int64
	for name, o := range objs {
		rel, ok := strings.CutPrefix(name, "reg/docker/registry/v2/")
		if !ok {
			t.Errorf("object %q is not named reg/docker/registry/v2/... (rootdirectory + \"/\" + path)", name)
			continue
		}
		got = append(got, "docker/registry/v2/"+rel)
		if o.contentType != "application/octet-stream" {
			t.Errorf("object %s has Content-Type %q, want application/octet-stream", name, o.contentType)
		}
		src, err := os.ReadFile(filepath.Join(root, "docker/registry/v2", filepath.FromSlash(rel)))
		if err != nil {
			t.Errorf("object %s has no source file: %v", name, err)
			continue
		}
		if !bytes.Equal(o.data, src) {
			t.Errorf("object %s: %d bytes that differ from the source file's %d", name, len(o.data), len(src))
		}
		bytesRead += int64(len(o.data))
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("the bucket holds %d objects, a restore into a folder %d files:\n got  %q\n want %q", len(got), len(want), got, want)
	}
	t.Logf("read back %d objects (%d bytes), each equal to its source file", len(got), bytesRead)

	b := filepath.Join(t.TempDir(), "from-gcs.tar.zst")
	mustRegbackup(t, 0, "backup", "--from", to, "-o", b)
	tagsA, _ := listArchive(t, a)
	tagsB, _ := listArchive(t, b)
	if !maps.Equal(tagsA, tagsB) {
		t.Errorf("the backup from GCS lists %v, the original backup %v", tagsB, tagsA)
	}
	root2 := filepath.Join(t.TempDir(), "registry")
	mustRegbackup(t, 0, "restore", b, "--to", root2)
	for _, v := range Versions {
		t.Run("registry-"+v, func(t *testing.T) {
			CheckServes(t, StartRegistry(t, v, root2), f)
		})
	}
}

// TestGCSUploadedTree: a registry tree put into the bucket object by
// object, as the registry's gcs driver stores it, with what that driver
// leaves beside the files: an upload session (Content-Type
// application/x-docker-upload-session), here even at a blob's path, and
// "folder" placeholder objects. backup --all-blobs reads every blob and no
// session; the restored folder serves on both versions.
func TestGCSUploadedTree(t *testing.T) {
	t.Parallel()
	gcs := servers.StartFakeGCS(t, "uploaded")
	client := gcsClient(t, gcs)
	r, root, f := seedRegistry(t, V28)
	r.Stop()

	files := regularFiles(t, root)
	srcBlobs := map[string]bool{}
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		gcsPut(t, client, "uploaded", "pfx/"+rel, "application/octet-stream", data)
		if hexd, ok := strings.CutSuffix(rel, "/data"); ok && strings.HasPrefix(rel, "docker/registry/v2/blobs/sha256/") {
			srcBlobs["sha256:"+hexd[strings.LastIndexByte(hexd, '/')+1:]] = true
		}
	}
	// An upload in progress, at its _uploads path and at a blob path: read
	// as a blob, half a content would not match its digest (exit 3).
	whole := make([]byte, 64<<10)
	rand.Read(whole)
	sum := sha256.Sum256(whole)
	hexd := hex.EncodeToString(sum[:])
	session := "pfx/docker/registry/v2/blobs/sha256/" + hexd[:2] + "/" + hexd + "/data"
	const sessionType = "application/x-docker-upload-session"
	gcsPut(t, client, "uploaded", session, sessionType, whole[:len(whole)/2])
	gcsPut(t, client, "uploaded", "pfx/docker/registry/v2/repositories/alpha/_uploads/0f1e2d3c/data", sessionType, whole[:100])
	for _, folder := range []string{"pfx/", "pfx/docker/registry/v2/", "pfx/docker/registry/v2/repositories/alpha/"} {
		gcsPut(t, client, "uploaded", folder, "application/x-directory", nil)
	}
	t.Logf("uploaded %d files (%d blobs), 2 upload sessions and 3 folder objects to gs://uploaded/pfx", len(files), len(srcBlobs))

	c := filepath.Join(t.TempDir(), "uploaded.tar.zst")
	_, stderr := mustRegbackup(t, 0, "backup", "--from", gcs.Location("uploaded", "pfx"), "--all-blobs", "-o", c)
	if strings.Contains(stderr, hexd) {
		t.Errorf("backup mentions the upload session's digest:\n%s", stderr)
	}
	_, blobs, _ := archiveContent(t, c)
	if blobs["sha256:"+hexd] {
		t.Errorf("the archive holds the upload session at %s as a blob", session)
	}
	if !maps.Equal(blobs, srcBlobs) {
		t.Errorf("backup --all-blobs holds %d blobs, the uploaded tree %d", len(blobs), len(srcBlobs))
	}
	root2 := filepath.Join(t.TempDir(), "registry")
	mustRegbackup(t, 0, "restore", c, "--to", root2)
	for _, v := range Versions {
		t.Run("registry-"+v, func(t *testing.T) {
			CheckServes(t, StartRegistry(t, v, root2), f)
		})
	}
}

// TestGCSBadLocation: a missing bucket and an unreachable endpoint, as
// --from and as --to: exit 1 within seconds, one error line naming the
// gs:// location and the cause, no stack trace, no archive left behind,
// nothing written into the bucket that exists.
func TestGCSBadLocation(t *testing.T) {
	t.Parallel()
	gcs := servers.StartFakeGCS(t, "good")
	client := gcsClient(t, gcs)
	src := filepath.Join(t.TempDir(), "src")
	genTree(t, src, sample.Options{Seed: 13})
	archive := backupArchive(t, src)
	closed := servers.FreePort(t)

	for _, tc := range []struct {
		name, loc, want string
	}{
		{"missing-bucket", gcs.Location("no-such-bucket", "reg"), `bucket "no-such-bucket" does not exist`},
		{"closed-port", "gs://good/reg?endpoint=http://127.0.0.1:" + strconv.Itoa(closed) + "/", "connection refused"},
	} {
		check := func(t *testing.T, stdout, stderr string, code int, took time.Duration) {
			t.Helper()
			checkLocationError(t, "gs://", tc.want, stdout, stderr, code, took, 5*time.Second)
		}
		t.Run("backup-"+tc.name, func(t *testing.T) {
			dir := t.TempDir()
			start := time.Now()
			stdout, stderr, code := Regbackup(t, "backup", "--from", tc.loc, "-o", filepath.Join(dir, "b.tar.zst"))
			check(t, stdout, stderr, code, time.Since(start))
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("a failed backup left %v in the output folder", entries)
			}
		})
		t.Run("restore-"+tc.name, func(t *testing.T) {
			start := time.Now()
			stdout, stderr, code := Regbackup(t, "restore", archive, "--to", tc.loc)
			check(t, stdout, stderr, code, time.Since(start))
			if objs := gcsObjects(t, client, "good"); len(objs) != 0 {
				t.Errorf("a failed restore wrote %d objects into gs://good", len(objs))
			}
		})
	}
}
