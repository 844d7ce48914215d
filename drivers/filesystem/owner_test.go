//go:build unix

package filesystem_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/regbackup/regbackup/drivers/filesystem"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("needs root to chown; CI runs as root, so ownership must be covered there")
		}
		t.Skip("needs root to chown: run the tests as root (e.g. in a container) to cover ownership")
	}
}

// checkOwner asserts the numeric owner of root/rel.
func checkOwner(t *testing.T, root, rel string, uid, gid int) {
	t.Helper()
	fi, err := os.Lstat(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if int(st.Uid) != uid || int(st.Gid) != gid {
		t.Errorf("owner of %s = %d:%d, want %d:%d", rel, st.Uid, st.Gid, uid, gid)
	}
}

func TestOwnerDefaultsToRootFolderOwner(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "pre", "existing"), "x") // owned by 0:0
	if err := os.Chown(root, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	d := newDriver(t, root)
	putString(t, d, "a/b/f", "x")
	putString(t, d, "pre/new/f", "x")
	for _, p := range []string{"a", "a/b", "a/b/f", "pre/new", "pre/new/f"} {
		checkOwner(t, root, p, 65534, 65534)
	}
	checkOwner(t, root, "pre", 0, 0) // existing folders are left alone
}

func TestOwnerExplicit(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	root := filepath.Join(dir, "new-root")
	d, err := filesystem.New(root, filesystem.Options{UID: 1234, GID: 5678, SetOwner: true, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	putString(t, d, "a/f", "x")
	for _, p := range []string{".", "a", "a/f"} {
		checkOwner(t, root, p, 1234, 5678)
	}
}

func TestOwnerUnchangedWhenRootFolderIsOurs(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	d := newDriver(t, root)
	putString(t, d, "a/f", "x")
	checkOwner(t, root, "a/f", 0, 0)
}

func TestNoChownWhenNotRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		// Cover the non-root default too: run this test again as nobody.
		runAsNobody(t, "TestNoChownWhenNotRoot")
		return
	}
	root := t.TempDir()
	d := newDriver(t, root)
	putString(t, d, "a/f", "x")
	checkOwner(t, root, "a/f", os.Geteuid(), os.Getegid())
}
