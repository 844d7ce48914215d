package swift_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	ncw "github.com/ncw/swift/v2"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/drivertest"
	"github.com/regbackup/regbackup/drivers/swift"
	"github.com/regbackup/regbackup/integration/servers"
)

// TestSwift runs everything that needs a real Swift against one single-node
// Swift (Debian's packages, tempauth), with a fresh container per subtest.
func TestSwift(t *testing.T) {
	srv := servers.StartSwift(t)
	config := func(container string) swift.Config {
		c := swift.Config{AuthURL: srv.AuthURL, Username: srv.User, Password: srv.Key, Container: container, Prefix: "/reg"}
		swift.SetBackoff(&c, 10*time.Millisecond)
		return c
	}
	// small: 1 MiB segments, and plain objects only up to 4 MiB, so that
	// the suite's 17 MiB file and its 3 MiB file of unknown size are DLOs.
	small := func(c swift.Config) swift.Config {
		c.ChunkSize, c.MaxObjectSize, c.UploadMemory = 1<<20, 4<<20, 8<<20
		return c
	}
	newDriver := func(t *testing.T, adjust func(swift.Config) swift.Config) (*swift.Driver, string) {
		t.Helper()
		container := srv.NewContainer(t)
		d, err := swift.New(t.Context(), adjust(config(container)))
		if err != nil {
			t.Fatal(err)
		}
		return d, container
	}
	same := func(c swift.Config) swift.Config { return c }

	t.Run("Conformance", func(t *testing.T) {
		drivertest.Run(t, func(t *testing.T) drivers.Driver { d, _ := newDriver(t, same); return d })
	})
	t.Run("ConformanceLargeObjects", func(t *testing.T) {
		drivertest.Run(t, func(t *testing.T) drivers.Driver { d, _ := newDriver(t, small); return d })
	})
	t.Run("MD5", func(t *testing.T) {
		drivertest.RunMD5(t, func(t *testing.T) drivers.Driver { d, _ := newDriver(t, same); return d })
	})

	// What a registry on this container reads: plain objects at
	// reg/files/<path>, and a large file as a 0-byte DLO manifest whose
	// X-Object-Manifest names numbered segments below reg/segments/.
	t.Run("Layout", func(t *testing.T) {
		d, container := newDriver(t, small)
		const linkPath = "docker/registry/v2/repositories/a/_manifests/tags/v1/current/link"
		const blobPath = "docker/registry/v2/blobs/sha256/ab/abab/data"
		data := bytes.Repeat([]byte("0123456789abcdef"), (5<<20+100)/16)
		put(t, d, linkPath, []byte("sha256:"+strings.Repeat("ab", 32)))
		put(t, d, blobPath, data)
		objs := srv.Objects(t, container)
		var files, segs []ncw.Object
		for _, o := range objs {
			switch {
			case strings.HasPrefix(o.Name, "reg/files/"):
				files = append(files, o)
			case strings.HasPrefix(o.Name, "reg/segments/"):
				segs = append(segs, o)
			default:
				t.Errorf("object outside reg/files and reg/segments: %s", o.Name)
			}
		}
		if len(files) != 2 || files[0].Name != "reg/files/"+blobPath || files[1].Name != "reg/files/"+linkPath {
			t.Fatalf("files: %+v", files)
		}
		if files[0].Bytes != 0 {
			t.Errorf("the DLO manifest is listed with %d bytes", files[0].Bytes)
		}
		_, h, err := srv.Conn().Object(t.Context(), container, "reg/files/"+blobPath)
		if err != nil {
			t.Fatal(err)
		}
		manifest := h["X-Object-Manifest"]
		prefix, ok := strings.CutPrefix(manifest, container+"/reg/segments/")
		if !ok || len(prefix) < 10 || prefix[3] != '/' {
			t.Fatalf("X-Object-Manifest %q, want %s/reg/segments/XXX/...", manifest, container)
		}
		if len(segs) != 6 {
			t.Fatalf("%d segments, want 6 of 1 MiB: %+v", len(segs), segs)
		}
		for i, s := range segs {
			want := manifest[len(container)+1:] + "/" + strings.Repeat("0", 15) + string(rune('1'+i))
			if s.Name != want || (i < 5 && s.Bytes != 1<<20) {
				t.Errorf("segment %d: %s (%d bytes), want %s", i+1, s.Name, s.Bytes, want)
			}
		}
		if got := get(t, d, blobPath); !bytes.Equal(got, data) {
			t.Errorf("read back %d bytes, want %d", len(got), len(data))
		}
		// Delete removes the segments too.
		if err := d.Delete(t.Context(), blobPath); err != nil {
			t.Fatal(err)
		}
		if names := srv.Names(t, container, "reg/segments/"); len(names) != 0 {
			t.Errorf("segments left after Delete: %q", names)
		}
	})

	// A DLO whose segment was lost is damage on reading, never a short file.
	t.Run("DamagedLargeObject", func(t *testing.T) {
		d, container := newDriver(t, small)
		for i, lose := range []int{2, 1} {
			p := "docker/registry/v2/blobs/sha256/cd/cdcd" + string(rune('0'+i)) + "/data"
			put(t, d, p, bytes.Repeat([]byte{byte(i)}, 5<<20+5))
			segs := srv.Names(t, container, "reg/segments/")
			var victim string
			for _, s := range segs {
				_, h, _ := srv.Conn().Object(t.Context(), container, "reg/files/"+p)
				if strings.HasPrefix(s, strings.TrimPrefix(h["X-Object-Manifest"], container+"/")) && strings.HasSuffix(s, "/000000000000000"+string(rune('0'+lose))) {
					victim = s
				}
			}
			if victim == "" {
				t.Fatalf("no segment %d in %q", lose, segs)
			}
			if err := srv.Conn().ObjectDelete(t.Context(), container, victim); err != nil {
				t.Fatal(err)
			}
			rc, err := d.Reader(t.Context(), p)
			if err != nil {
				t.Fatalf("Reader: %v", err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if !errors.Is(err, drivers.ErrDamaged) || len(b) != 0 {
				t.Fatalf("segment %d lost: read %d bytes, %v; want none and an error wrapping ErrDamaged", lose, len(b), err)
			}
			t.Logf("segment %d lost: %v", lose, err)
			if fi, err := d.Stat(t.Context(), p); err != nil || fi.Size != 4<<20+5 {
				t.Errorf("Stat = %+v, %v", fi, err)
			}
		}
		// A manifest without any segment.
		const bare = "docker/registry/v2/blobs/sha256/ef/efef/data"
		if _, err := srv.Conn().ObjectPut(t.Context(), container, "reg/files/"+bare, bytes.NewReader(nil), false, "", "", ncw.Headers{"X-Object-Manifest": container + "/reg/segments/nothing/here"}); err != nil {
			t.Fatal(err)
		}
		rc, err := d.Reader(t.Context(), bare)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(rc); !errors.Is(err, drivers.ErrDamaged) {
			t.Errorf("manifest without segments: %v, want ErrDamaged", err)
		}
		rc.Close()
	})

	// A Put whose reader fails after some segments leaves no object and no
	// segment behind, and an earlier file at the path as it was.
	t.Run("FailedLargePutLeavesNothing", func(t *testing.T) {
		d, container := newDriver(t, small)
		const p = "archives/a.tar"
		put(t, d, p, []byte("before"))
		boom := errors.New("reader exploded")
		r := io.MultiReader(bytes.NewReader(make([]byte, 3<<20+10)), errReader{boom})
		if err := d.Put(t.Context(), p, r, -1); !errors.Is(err, boom) {
			t.Fatalf("Put = %v, want %v", err, boom)
		}
		if names := srv.Names(t, container, ""); !slices.Equal(names, []string{"reg/files/" + p}) {
			t.Errorf("objects left: %q", names)
		}
		if got := get(t, d, p); string(got) != "before" {
			t.Errorf("the earlier file now holds %q", got)
		}
		// Cancelled mid-way: the same.
		ctx, cancel := context.WithCancel(t.Context())
		r = io.MultiReader(bytes.NewReader(make([]byte, 2<<20)), cancelReader{cancel}, bytes.NewReader(make([]byte, 2<<20)))
		if err := d.Put(ctx, p, r, -1); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Put = %v", err)
		}
		if names := srv.Names(t, container, ""); !slices.Equal(names, []string{"reg/files/" + p}) {
			t.Errorf("objects left after a cancelled Put: %q", names)
		}
	})

	t.Run("NewErrors", func(t *testing.T) {
		container := srv.NewContainer(t)
		for _, tc := range []struct {
			name   string
			adjust func(*swift.Config)
			want   string
		}{
			{"wrong password", func(c *swift.Config) { c.Password = "not-the-password-1234" }, "authentication at " + srv.AuthURL + " failed"},
			{"missing container", func(c *swift.Config) { c.Container = "no-such-container" }, `container "no-such-container" does not exist`},
			{"unreachable", func(c *swift.Config) { c.AuthURL = "http://127.0.0.1:1/auth/v1.0" }, "cannot reach http://127.0.0.1:1/auth/v1.0"},
		} {
			c := config(container)
			tc.adjust(&c)
			start := time.Now()
			_, err := swift.New(t.Context(), c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: New = %v, want an error saying %q", tc.name, err, tc.want)
				continue
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("%s: New took %s to fail", tc.name, took)
			}
			for _, secret := range []string{c.Password, srv.Key} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("%s: error shows a credential: %v", tc.name, err)
				}
			}
			t.Logf("%s: %v", tc.name, err)
		}
	})
}

func put(t *testing.T, d drivers.Driver, p string, data []byte) {
	t.Helper()
	if err := d.Put(t.Context(), p, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Put(%q): %v", p, err)
	}
}

func get(t *testing.T, d drivers.Driver, p string) []byte {
	t.Helper()
	rc, err := d.Reader(t.Context(), p)
	if err != nil {
		t.Fatalf("Reader(%q): %v", p, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %q: %v", p, err)
	}
	return b
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// cancelReader cancels a context when it is first read, then ends.
type cancelReader struct{ cancel func() }

func (r cancelReader) Read([]byte) (int, error) { r.cancel(); return 0, io.EOF }
