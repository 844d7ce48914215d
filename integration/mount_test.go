package integration

// tmpfs mounts: a registry root that is a mount point (GitLab's restore
// failure: `mv ROOT x` and `rmdir ROOT` answer "Device or resource busy").

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

var (
	mountOnce   sync.Once
	mountOK     bool
	mountReason string
)

// canMount reports whether this process can mount and unmount a tmpfs (it
// must be root with CAP_SYS_ADMIN). The probe runs once per test run; when
// it fails the reason is logged.
func canMount(t testing.TB) bool {
	t.Helper()
	mountOnce.Do(func() { mountOK, mountReason = probeMount() })
	if !mountOK {
		t.Logf("cannot mount tmpfs: %s", mountReason)
	}
	return mountOK
}

// needMount skips the test, saying why, unless canMount. A container
// without CAP_SYS_ADMIN skips locally; under CI=true (root) it fails: green CI means it ran.
func needMount(t testing.TB) {
	t.Helper()
	if !canMount(t) {
		missing(t, "%s", "test needs to mount a tmpfs (root with CAP_SYS_ADMIN): "+mountReason)
	}
}

func probeMount() (bool, string) {
	if os.Geteuid() != 0 {
		return false, fmt.Sprintf("not root (euid %d)", os.Geteuid())
	}
	if _, err := exec.LookPath("mount"); err != nil {
		return false, "no mount command"
	}
	dir, err := os.MkdirTemp("", "regbackup-mountprobe-")
	if err != nil {
		return false, err.Error()
	}
	defer os.Remove(dir)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", dir).CombinedOutput(); err != nil {
		return false, fmt.Sprintf("mount -t tmpfs: %v: %s", err, strings.TrimSpace(string(out)))
	}
	if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
		exec.Command("umount", "-l", dir).Run()
		return false, fmt.Sprintf("umount: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return true, ""
}

// MountTmpfs mounts a 64 MiB tmpfs on dir (created if needed) and unmounts it
// at cleanup. Call needMount first. Start registries on dir after this call,
// so that their cleanup (stop) runs before the unmount.
func MountTmpfs(t testing.TB, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount -t tmpfs %s: %v: %s", dir, err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			// Still busy (a process we do not know of): detach it lazily so the
			// temp dir can be removed, but say so.
			t.Errorf("umount %s: %v: %s", dir, err, strings.TrimSpace(string(out)))
			exec.Command("umount", "-l", dir).Run()
		}
	})
}
