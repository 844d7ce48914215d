package gcs_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/drivertest"
	"github.com/regbackup/regbackup/drivers/gcs"
)

// TestConformance runs the shared suite against the in-process fake, each
// subtest in a fresh root directory of one bucket.
func TestConformance(t *testing.T) {
	f := startFake(t)
	bucket := f.newBucket(t)
	n := 0
	drivertest.Run(t, func(t *testing.T) drivers.Driver {
		n++
		return f.open(t, bucket, fmt.Sprintf("/reg/t%d/", n))
	})
}

// TestConformanceSmallChunks runs the suite with 256 KiB chunks, so that
// every Put from 1 MiB up, the failing and cancelled ones included, is a
// resumable upload with chunks already sent when it is abandoned.
func TestConformanceSmallChunks(t *testing.T) {
	f := startFake(t)
	bucket := f.newBucket(t)
	n := 0
	drivertest.Run(t, func(t *testing.T) drivers.Driver {
		n++
		cfg := f.config(bucket, fmt.Sprintf("small/t%d", n))
		cfg.ChunkSize = 256 << 10
		d, err := gcs.New(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	})
	if n := f.requests("upload_id="); n < 68 {
		t.Errorf("only %d chunk uploads with 256 KiB chunks; the 17 MiB round trip alone needs 68", n)
	}
}

// TestConformanceBucketTop runs the suite with no root directory, each
// subtest in a fresh bucket.
func TestConformanceBucketTop(t *testing.T) {
	f := startFake(t)
	drivertest.Run(t, func(t *testing.T) drivers.Driver {
		return f.open(t, f.newBucket(t), "")
	})
}

// TestObjectNames checks the registry's naming: root trimmed of "/", then
// "/", then the path; and the Content-Type written.
func TestObjectNames(t *testing.T) {
	f := startFake(t)
	bucket := f.newBucket(t)
	for root, want := range map[string]string{
		"":           "docker/registry/v2/x",
		"/":          "docker/registry/v2/x",
		"/reg/":      "reg/docker/registry/v2/x",
		"a/b":        "a/b/docker/registry/v2/x",
		"//a/b//":    "a/b/docker/registry/v2/x",
		"/prefix/v1": "prefix/v1/docker/registry/v2/x",
	} {
		d := f.open(t, bucket, root)
		if err := d.Put(t.Context(), "docker/registry/v2/x", bytes.NewReader([]byte("hi")), 2); err != nil {
			t.Fatal(err)
		}
		obj, err := f.server.GetObject(bucket, want)
		if err != nil {
			t.Errorf("root %q: object %q not found: %v", root, want, err)
			continue
		}
		if obj.ContentType != "application/octet-stream" {
			t.Errorf("root %q: Content-Type %q, want application/octet-stream", root, obj.ContentType)
		}
		if err := f.server.Backend().DeleteObject(bucket, want); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSkipsUploadSessionsAndFolders: objects the registry keeps for uploads
// in progress and "folder" placeholders are not files.
func TestSkipsUploadSessionsAndFolders(t *testing.T) {
	f := startFake(t)
	bucket := f.newBucket(t)
	const (
		session = "docker/registry/v2/repositories/a/_uploads/0f1e/data"
		real    = "docker/registry/v2/repositories/a/_layers/sha256/00/link"
	)
	f.put(bucket, "reg/"+session, "application/x-docker-upload-session", []byte("partial"))
	f.put(bucket, "reg/docker/registry/v2/repositories/", "application/x-directory", nil)
	f.put(bucket, "reg/docker/registry/v2/repositories/a/", "", nil)
	f.put(bucket, "reg/"+real, "application/octet-stream", []byte("sha256:00"))
	f.put(bucket, "other/"+real, "application/octet-stream", []byte("not ours"))
	d := f.open(t, bucket, "reg")
	var got []string
	if err := d.Walk(t.Context(), "", func(fi drivers.FileInfo) error {
		got = append(got, fi.Path)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != real {
		t.Fatalf("Walk = %q, want only %q", got, real)
	}
	if _, err := d.Stat(t.Context(), session); !errors.Is(err, drivers.ErrNotFound) {
		t.Errorf("Stat(upload session) = %v, want ErrNotFound", err)
	}
	if rc, err := d.Reader(t.Context(), session); !errors.Is(err, drivers.ErrNotFound) {
		if err == nil {
			rc.Close()
		}
		t.Errorf("Reader(upload session) = %v, want ErrNotFound", err)
	}
}

// streamOnly hides a reader's other methods (Seek), as an archive entry
// or a network stream has none.
type streamOnly struct{ io.Reader }

// TestPutChunking checks how many requests a Put makes: a seekable reader
// up to 16 MiB in one request, whatever the chunk size (8 MiB); a larger
// one (the suite's 17 MiB round trip) or a stream at least the chunk size
// in a resumable upload of several chunks; a smaller stream in one request.
func TestPutChunking(t *testing.T) {
	f := startFake(t)
	bucket := f.newBucket(t)
	d := f.open(t, bucket, "reg")
	for _, tc := range []struct {
		size           int
		seekable       bool
		known          bool
		multipart      int // single-request uploads
		resumableStart int // resumable sessions started
		chunks         int // chunk requests (at least)
	}{
		{0, true, true, 1, 0, 0},
		{71, true, true, 1, 0, 0},
		{9 << 20, true, true, 1, 0, 0},
		{17 << 20, true, true, 0, 1, 3}, // the suite's round trip: bytes.Reader above 16 MiB
		{0, false, true, 1, 0, 0},
		{71, false, true, 1, 0, 0},
		{256 << 10, false, true, 1, 0, 0},
		{8<<20 - 1, false, true, 1, 0, 0},
		{17 << 20, false, false, 0, 1, 3},
		{100, false, false, 1, 0, 0},
		{100, true, false, 1, 0, 0},
	} {
		f.log.Reset()
		data := make([]byte, tc.size)
		rand.Read(data)
		size := int64(tc.size)
		if !tc.known {
			size = -1
		}
		var r io.Reader = bytes.NewReader(data)
		if !tc.seekable {
			r = streamOnly{r}
		}
		p := fmt.Sprintf("obj/%d-%v-%v", tc.size, tc.seekable, tc.known)
		if err := d.Put(t.Context(), p, r, size); err != nil {
			t.Fatal(err)
		}
		multipart := f.requests("/upload/storage/v1/b/"+bucket, "uploadType=multipart")
		started := f.requests("/upload/storage/v1/b/"+bucket, "uploadType=resumable", "projection=full")
		chunks := f.requests("/upload/storage/v1/b/"+bucket, "upload_id=")
		if multipart != tc.multipart || started != tc.resumableStart || chunks < tc.chunks {
			t.Errorf("Put of %d bytes (seekable %v, size known %v): %d single-request uploads, %d resumable sessions, %d chunk requests; want %d, %d, >= %d\n%s",
				tc.size, tc.seekable, tc.known, multipart, started, chunks, tc.multipart, tc.resumableStart, tc.chunks, f.log.String())
		}
		rc, err := d.Reader(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read back %d bytes (err %v), want the %d written", len(got), err, len(data))
		}
	}
}
