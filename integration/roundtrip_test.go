package integration

// Real-registry round trips: back up a registry's storage with regbackup,
// restore it and check that a registry serves every digest again.

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRoundTrip backs up a running registry with its key material, verifies
// and lists the archive, wipes the root's contents, restores in place and
// checks that a registry on the same root serves exactly the fixture and
// that the key material came back.
func TestRoundTrip(t *testing.T) {
	eachVersion(t, func(t *testing.T, v string) {
		r, root, f := seedRegistry(t, v)

		// Key material as a registry's token auth has it. The key's name
		// does not say it is a key; its content does. It starts out
		// group-readable: the restore must tighten it to 0600.
		certs := t.TempDir()
		rnd := make([]byte, 900)
		rand.Read(rnd)
		keyBytes := []byte("-----BEGIN PRIVATE KEY-----\n" + base64.StdEncoding.EncodeToString(rnd) + "\n-----END PRIVATE KEY-----\n")
		crtBytes := []byte("-----BEGIN CERTIFICATE-----\n" + base64.StdEncoding.EncodeToString(rnd[:600]) + "\n-----END CERTIFICATE-----\n")
		key := filepath.Join(certs, "token-signing.pem")
		crt := filepath.Join(certs, "registry.crt")
		if err := os.WriteFile(key, keyBytes, 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(crt, crtBytes, 0o644); err != nil {
			t.Fatal(err)
		}

		// Back up while the registry runs.
		if r.PID() == 0 {
			t.Fatal("registry is not running")
		}
		a := backupArchive(t, root, "--include-file", key, "--include-file", crt)
		if r.PID() == 0 {
			t.Fatal("registry stopped during the backup")
		}
		if d := crane(t, "digest", r.Ref("alpha:latest")); d != f.Tags["alpha:latest"] {
			t.Fatalf("registry serves alpha:latest = %s after the backup, want %s", d, f.Tags["alpha:latest"])
		}

		mustRegbackup(t, 0, "verify", a)

		listed, files := listArchive(t, a)
		for _, ref := range sortedKeys(f.Tags) {
			if got, ok := listed[ref]; !ok {
				t.Errorf("regbackup list --json: tag %s missing", ref)
			} else if got != f.Tags[ref] {
				t.Errorf("regbackup list --json: %s = %s, want %s", ref, got, f.Tags[ref])
			}
		}
		for _, ref := range sortedKeys(listed) {
			if _, ok := f.Tags[ref]; !ok {
				t.Errorf("regbackup list --json: lists %s (%s), which the registry does not serve", ref, listed[ref])
			}
		}
		for _, p := range []string{key, crt} {
			if !slices.Contains(files, p) {
				t.Errorf("regbackup list --json: included file %s not listed (files: %v)", p, files)
			}
		}

		r.Stop()
		before := statT(t, root)
		emptyDir(t, root)

		keysOut := t.TempDir()
		mustRegbackup(t, 0, "restore", a, "--to", root, "--files-to", keysOut)

		after := statT(t, root)
		if after.Dev != before.Dev || after.Ino != before.Ino {
			t.Errorf("the root folder was replaced: dev/inode %d/%d before, %d/%d after", before.Dev, before.Ino, after.Dev, after.Ino)
		}

		r2 := StartRegistry(t, v, root)
		CheckServes(t, r2, f)

		checkRestoredFile(t, filepath.Join(keysOut, filepath.Base(key)), keyBytes, 0o600)
		checkRestoredFile(t, filepath.Join(keysOut, filepath.Base(crt)), crtBytes, 0o644)
	})
}

// checkRestoredFile fails unless p holds exactly want with permission mode.
func checkRestoredFile(t testing.TB, p string, want []byte, mode os.FileMode) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Errorf("included file not restored: %v", err)
		return
	}
	if !fi.Mode().IsRegular() {
		t.Errorf("%s: restored as %s, want a regular file", p, fi.Mode())
		return
	}
	if fi.Mode().Perm() != mode {
		t.Errorf("%s: mode %04o, want %04o", p, fi.Mode().Perm(), mode)
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Errorf("%v", err)
	} else if !bytes.Equal(got, want) {
		t.Errorf("%s: restored content differs (%d bytes, want %d)", p, len(got), len(want))
	}
}

// TestCrossVersion restores a backup taken from one registry version into an
// empty root served by the other version.
func TestCrossVersion(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ from, to string }{{V28, V3}, {V3, V28}} {
		t.Run(c.from+"-to-"+c.to, func(t *testing.T) {
			t.Parallel()
			a, f := seedArchive(t, c.from)
			root := filepath.Join(t.TempDir(), "registry")
			if err := os.Mkdir(root, 0o755); err != nil {
				t.Fatal(err)
			}
			mustRegbackup(t, 0, "restore", a, "--to", root)
			r := StartRegistry(t, c.to, root)
			CheckServes(t, r, f)
		})
	}
}

// TestStdoutStdin streams a backup straight into a restore:
// `regbackup backup --from ROOT -o - | regbackup restore - --to NEW`.
func TestStdoutStdin(t *testing.T) {
	eachVersion(t, func(t *testing.T, v string) {
		r, root, f := seedRegistry(t, v)
		r.Stop()
		bin := tool(t, "regbackup")
		dst := filepath.Join(t.TempDir(), "new")
		if err := os.Mkdir(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		codes, stderrs := pipeline(t, nil,
			[]string{bin, "backup", "--from", root, "-o", "-"},
			[]string{bin, "restore", "-", "--to", dst})
		if codes[0] != 0 || codes[1] != 0 {
			t.Fatalf("backup -o - | restore -: exit codes %v, want [0 0]\nbackup stderr:\n%s\nrestore stderr:\n%s",
				codes, stderrs[0], stderrs[1])
		}
		r2 := StartRegistry(t, v, dst)
		CheckServes(t, r2, f)
	})
}

// TestEmergencyTarExtract: without regbackup at all, `zstd -d < A | tar -x
// -C EMPTY` gives a root that a registry serves.
func TestEmergencyTarExtract(t *testing.T) {
	t.Parallel()
	zstd, gnutar := tool(t, "zstd"), tool(t, "tar")
	for _, v := range Versions {
		t.Run("registry-"+v, func(t *testing.T) {
			t.Parallel()
			a, f := seedArchive(t, v)
			in, err := os.Open(a)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			dst := filepath.Join(t.TempDir(), "empty")
			if err := os.Mkdir(dst, 0o755); err != nil {
				t.Fatal(err)
			}
			codes, stderrs := pipeline(t, in,
				[]string{zstd, "-d", "-q"},
				[]string{gnutar, "-x", "-C", dst})
			if codes[0] != 0 || codes[1] != 0 {
				t.Fatalf("zstd -d < A | tar -x: exit codes %v, want [0 0]\nzstd:\n%s\ntar:\n%s", codes, stderrs[0], stderrs[1])
			}
			r := StartRegistry(t, v, dst)
			CheckServes(t, r, f)
		})
	}
}

// TestRoundTripWhilePushing backs up a registry that is being pushed to: every
// archive is complete and consistent (verify exits 0), and a registry on its
// restore serves every tag `list --json` names, at that digest, whole.
func TestRoundTripWhilePushing(t *testing.T) {
	eachVersion(t, func(t *testing.T, v string) {
		r, root, _ := seedRegistry(t, v)
		dir := t.TempDir()
		const pushes = 30
		var layers []string
		for i := 0; i < pushes; i++ {
			layers = append(layers, makeLayer(t, dir, fmt.Sprintf("live%d", i), 96*1024))
		}

		stop := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			// At most 30 pushes, each a new tag and a moved "latest".
			for i, l := range layers {
				select {
				case <-stop:
					done <- nil
					return
				default:
				}
				tag := r.Ref(fmt.Sprintf("live/app:%d", i))
				if _, err := craneErr(t, "append", "-b", r.Ref("alpha:v1"), "-f", l, "-t", tag); err != nil {
					done <- err
					return
				}
				if _, err := craneErr(t, "tag", tag, "latest"); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		var archives []string
		for i := 0; i < 3; i++ {
			time.Sleep(300 * time.Millisecond)
			archives = append(archives, backupArchive(t, root))
		}
		close(stop)
		if err := <-done; err != nil {
			t.Fatalf("pushing during the backups: %v", err)
		}
		r.Stop()

		for i, a := range archives {
			mustRegbackup(t, 0, "verify", a)
			listed, _ := listArchive(t, a)
			dst := filepath.Join(t.TempDir(), "registry")
			mustRegbackup(t, 0, "restore", a, "--to", dst)
			r2 := StartRegistry(t, v, dst)
			live := 0
			for _, ref := range sortedKeys(listed) {
				if strings.HasPrefix(ref, "live/") {
					live++
				}
				d, err := craneErr(t, "digest", r2.Ref(ref))
				if err != nil || d != listed[ref] {
					t.Errorf("archive %d: %s = %q (%v), list --json says %s", i, ref, d, err, listed[ref])
					continue
				}
				if _, err := craneErr(t, "validate", "--remote", r2.Ref(ref)); err != nil {
					t.Errorf("archive %d: %v", i, err)
				}
			}
			t.Logf("archive %d: %d tags, %d of them pushed during the backups", i, len(listed), live)
			r2.Stop()
		}
	})
}
