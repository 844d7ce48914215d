package gcs_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/drivertest"
	"github.com/regbackup/regbackup/drivers/gcs"
	"github.com/regbackup/regbackup/integration/servers"
)

// TestConformanceServer runs the shared suite against the real
// fake-gcs-server binary (filesystem backend), reached through a gs://
// location as a user gives it, with 256 KiB chunks so that abandoned
// resumable uploads are exercised against the real server too.
func TestConformanceServer(t *testing.T) {
	s := servers.StartFakeGCS(t, "registry")
	n := 0
	drivertest.Run(t, func(t *testing.T) drivers.Driver {
		n++
		d, err := drivers.Open(t.Context(), s.Location("registry", fmt.Sprintf("reg/t%d", n))+"&chunksize=262144")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.(*gcs.Driver).Close() })
		return d
	})
}

// TestMD5Server checks that the real fake-gcs-server's md5Hash reaches
// Stat and Walk.
func TestMD5Server(t *testing.T) {
	s := servers.StartFakeGCS(t, "registry")
	drivertest.RunMD5(t, func(t *testing.T) drivers.Driver {
		d, err := drivers.Open(t.Context(), s.Location("registry", "reg"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.(*gcs.Driver).Close() })
		return d
	})
}

// TestEmulatorHost reaches the server through STORAGE_EMULATOR_HOST instead
// of endpoint=: no credentials needed, objects named as with endpoint=.
func TestEmulatorHost(t *testing.T) {
	s := servers.StartFakeGCS(t, "registry")
	t.Setenv("STORAGE_EMULATOR_HOST", s.Host)
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	d, err := drivers.Open(t.Context(), "gcs://registry/env")
	if err != nil {
		t.Fatal(err)
	}
	defer d.(*gcs.Driver).Close()
	const p = "docker/registry/v2/repositories/a/_layers/sha256/00/link"
	data := []byte("sha256:0000000000000000000000000000000000000000000000000000000000000000")
	if err := d.Put(t.Context(), p, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(s.Root, "registry", "env", filepath.FromSlash(p)))
	if err != nil || !bytes.Equal(b, data) {
		t.Fatalf("the server's file for env/%s holds %q (%v), want %q", p, b, err, data)
	}
	var got []string
	if err := d.Walk(t.Context(), "docker/", func(fi drivers.FileInfo) error {
		got = append(got, fi.Path)
		return nil
	}); err != nil || len(got) != 1 || got[0] != p {
		t.Fatalf("Walk = %q, %v; want [%q]", got, err, p)
	}
}
