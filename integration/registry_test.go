package integration

import (
	"path/filepath"
	"testing"
	"time"
)

// TestHarness proves the harness: for each registry version, push the
// fixture to an empty root, check it is served, restart the registry on the
// same root and check again.
func TestHarness(t *testing.T) {
	for _, v := range Versions {
		t.Run("registry-"+v, func(t *testing.T) {
			start := time.Now()
			root := filepath.Join(t.TempDir(), "root")
			r := StartRegistry(t, v, root)
			t.Logf("registry %s ready on %s (pid %d) in %s", v, r.Addr, r.PID(), time.Since(start).Round(time.Millisecond))
			f := PushFixture(t, r)
			CheckServes(t, r, f)

			r.Stop()
			r2 := StartRegistry(t, v, root)
			CheckServes(t, r2, f)

			// Restart in place (same port) works too.
			r2.Restart(t)
			if d := crane(t, "digest", r2.Ref("alpha:latest")); d != f.Tags["alpha:latest"] {
				t.Fatalf("after Restart: alpha:latest = %s, want %s", d, f.Tags["alpha:latest"])
			}
			t.Logf("registry %s: harness round trip in %s", v, time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestMountProbe only reports whether tmpfs mount tests can run here.
func TestMountProbe(t *testing.T) {
	if !canMount(t) {
		missing(t, "%s", "tmpfs mounts unavailable: "+mountReason)
	}
	dir := filepath.Join(t.TempDir(), "mnt")
	MountTmpfs(t, dir)
}
