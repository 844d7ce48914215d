package integration

// Restoring the registry out of GitLab's own backups (issue 13): into a
// mount point with lost+found, owned by the root folder's owner, every tag
// served with the same digest; a flipped byte, hostile entries and links to
// missing blobs; zstd, an extracted folder and stdin.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gitlabSource is a registry root with the fixture pushed, stopped, and a
// root-owned lost+found in it (which gitlab-backup's tar excludes).
func gitlabSource(t *testing.T, v string) (string, Fixture) {
	t.Helper()
	r, root, f := seedRegistry(t, v)
	r.Stop()
	lf := filepath.Join(root, "lost+found")
	if err := os.Mkdir(lf, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lf, "#12"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	return root, f
}

// TestGitLabRestoreIntoMountPoint is the proof of issue 13's first item: a
// GitLab backup restored into a registry folder that is a mount point,
// holding a root-owned lost+found, owned by a non-root user.
func TestGitLabRestoreIntoMountPoint(t *testing.T) {
	t.Parallel()
	needMount(t)
	for _, v := range Versions {
		t.Run("registry-"+v, func(t *testing.T) {
			t.Parallel()
			src, f := gitlabSource(t, v)
			b := MakeGitLabBackup(t, src, GitLabBackupOptions{})

			root := filepath.Join(t.TempDir(), "registry")
			MountTmpfs(t, root)
			const uid, gid = 998, 998 // Omnibus's registry user, say
			if err := os.Lchown(root, uid, gid); err != nil {
				t.Fatal(err)
			}
			lf := filepath.Join(root, "lost+found")
			if err := os.Mkdir(lf, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(lf, "#131073"), []byte("recovered inode\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			mnt := statT(t, root)

			_, stderr := mustRegbackup(t, 0, "restore", b.Tar, "--to", root)
			t.Logf("restore said:\n%s", stderr)
			if !strings.Contains(stderr, "GitLab 18.6.1") || !strings.Contains(stderr, "2026-12-01 18:15:03") {
				t.Errorf("restore did not print backup_information.yml (version, date):\n%s", stderr)
			}

			after := statT(t, root)
			if after.Dev != mnt.Dev || after.Ino != mnt.Ino || !isMountPoint(t, root) {
				t.Errorf("root replaced or unmounted: dev/inode %d/%d before, %d/%d after", mnt.Dev, mnt.Ino, after.Dev, after.Ino)
			}
			if b, err := os.ReadFile(filepath.Join(lf, "#131073")); err != nil || string(b) != "recovered inode\n" {
				t.Errorf("lost+found/#131073: %q, %v", b, err)
			}
			if st := statT(t, lf); st.Uid != 0 || st.Gid != 0 || st.Mode&0o777 != 0o700 {
				t.Errorf("lost+found changed: owner %d:%d mode %04o, want 0:0 0700", st.Uid, st.Gid, st.Mode&0o777)
			}
			checkOwned(t, filepath.Join(root, "docker"), uid, gid)
			if left := tempFilesUnder(t, root); len(left) > 0 {
				t.Errorf("temp files left: %v", left)
			}
			r := StartRegistry(t, v, root)
			CheckServes(t, r, f)
		})
	}
}

// checkOwned fails for every file or folder under dir not owned uid:gid.
func checkOwned(t testing.TB, dir string, uid, gid uint32) {
	t.Helper()
	n, bad := 0, 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		n++
		if st := statT(t, p); st.Uid != uid || st.Gid != gid {
			bad++
			if bad <= 5 {
				t.Errorf("%s: owner %d:%d, want %d:%d", p, st.Uid, st.Gid, uid, gid)
			}
		}
		return nil
	})
	if err != nil || n < 10 {
		t.Fatalf("walking %s: %d entries, %v", dir, n, err)
	}
	if bad > 0 {
		t.Errorf("%d of %d files and folders have the wrong owner", bad, n)
	}
}

// TestGitLabRestoreForms restores the same backup as a zstd registry
// tarball inside the outer tar (information last, as older GitLab writes
// it), as the extracted folder, and from stdin; and lists and verifies it.
func TestGitLabRestoreForms(t *testing.T) {
	eachVersion(t, func(t *testing.T, v string) {
		src, f := gitlabSource(t, v)
		zb := MakeGitLabBackup(t, src, GitLabBackupOptions{Zstd: true, InfoLast: true})
		b := MakeGitLabBackup(t, src, GitLabBackupOptions{})
		bin := tool(t, "regbackup")
		for _, c := range []struct {
			name    string
			restore func(root string)
		}{
			{"zstd", func(root string) { mustRegbackup(t, 0, "restore", zb.Tar, "--to", root) }},
			{"registry.tar.gz alone", func(root string) {
				mustRegbackup(t, 0, "restore", filepath.Join(zb.Folder, "registry.tar.gz"), "--to", root)
			}},
			{"folder", func(root string) { mustRegbackup(t, 0, "restore", b.Folder, "--to", root) }},
			{"stdin", func(root string) {
				shell(t, "cat "+q(b.Tar)+" | "+q(bin)+" restore - --to "+q(root))
			}},
		} {
			t.Run(c.name, func(t *testing.T) {
				root := filepath.Join(t.TempDir(), "registry")
				if err := os.Mkdir(root, 0o755); err != nil {
					t.Fatal(err)
				}
				c.restore(root)
				r := StartRegistry(t, v, root)
				CheckServes(t, r, f)
			})
		}
		t.Run("list", func(t *testing.T) {
			out, _ := mustRegbackup(t, 0, "list", "--json", zb.Tar)
			var l struct {
				Images []listedImage `json:"images"`
			}
			if err := json.Unmarshal([]byte(out), &l); err != nil {
				t.Fatalf("list --json: %v\n%s", err, out)
			}
			got := map[string]string{}
			for _, im := range l.Images {
				got[im.Repository+":"+im.Tag] = im.Digest
			}
			for ref, d := range f.Tags {
				if got[ref] != d {
					t.Errorf("list: %s = %q, want %s", ref, got[ref], d)
				}
			}
			if len(got) != len(f.Tags) {
				t.Errorf("list: %d tags, want %d", len(got), len(f.Tags))
			}
		})
		t.Run("verify", func(t *testing.T) {
			_, stderr := mustRegbackup(t, 0, "verify", b.Tar)
			if !strings.Contains(stderr, "every digest matches") {
				t.Errorf("verify:\n%s", stderr)
			}
		})
	})
}

// TestGitLabRestoreCorruptBlob: one byte of one layer flipped in the
// backup's registry folder. verify and restore exit 3, restore writes no
// link file, and the registry keeps serving what it served before.
func TestGitLabRestoreCorruptBlob(t *testing.T) {
	eachVersion(t, func(t *testing.T, v string) {
		src, f := gitlabSource(t, v)
		layer := manifestLayerOf(t, src, f.Tags["team/beta:2.0"])
		flipByte(t, blobFile(src, layer))
		b := MakeGitLabBackup(t, src, GitLabBackupOptions{})

		// The target serves an image of its own.
		root := filepath.Join(t.TempDir(), "registry")
		r := StartRegistry(t, v, root)
		l := makeLayer(t, t.TempDir(), "earlier", 64*1024)
		crane(t, "append", "-f", l, "-t", r.Ref("earlier/app:1"))
		earlier := crane(t, "digest", r.Ref("earlier/app:1"))
		r.Stop()
		before := linkFiles(t, root)

		_, stderr := expectExit(t, 3, "verify", b.Tar)
		if !strings.Contains(stderr, strings.TrimPrefix(layer, "sha256:")) {
			t.Errorf("verify does not name the damaged blob %s:\n%s", layer, stderr)
		}
		_, stderr = expectExit(t, 3, "restore", b.Tar, "--to", root)
		line := errorLine(t, stderr)
		if !strings.Contains(line, "digest") || !strings.Contains(line, "no link file was written") || !strings.Contains(line, "team/beta") {
			t.Errorf("error line does not say what happened: %s", line)
		}
		compareLinks(t, "restore of a corrupt GitLab backup", before, linkFiles(t, root))
		if _, err := os.Stat(blobFile(root, layer)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the corrupt blob was written: %v", err)
		}
		r.Restart(t)
		if d, err := craneErr(t, "digest", r.Ref("earlier/app:1")); err != nil || d != earlier {
			t.Errorf("earlier/app:1 no longer served after the failed restore: %q, %v", d, err)
		}
		if _, err := craneErr(t, "digest", r.Ref("alpha:v1")); err == nil {
			t.Errorf("alpha:v1 served after a restore that must write no link file")
		}
	})
}

// manifestLayerOf is the last layer of the manifest dg, read from root.
func manifestLayerOf(t testing.TB, root, dg string) string {
	t.Helper()
	_, layers := manifestLayers(t, root, dg)
	if len(layers) == 0 {
		t.Fatalf("manifest %s has no layers", dg)
	}
	return layers[len(layers)-1]
}

// TestGitLabRestoreHostile: registry tarballs with an entry that climbs out
// with "../", an absolute path, a symlink: refused with exit 3 before any
// link file is written, nothing outside the target touched.
func TestGitLabRestoreHostile(t *testing.T) {
	t.Parallel()
	outside := filepath.Join(t.TempDir(), "outside")
	blob := "hello"
	hexd := sha256Hex(blob)
	good := []tarEntryT{
		{name: "./", typ: tar.TypeDir},
		{name: "./docker/registry/v2/blobs/sha256/" + hexd[:2] + "/" + hexd + "/data", body: blob},
		{name: "./docker/registry/v2/repositories/x/_layers/sha256/" + hexd + "/link", body: "sha256:" + hexd},
	}
	for _, c := range []struct {
		name string
		e    tarEntryT
	}{
		{"parent", tarEntryT{name: "./docker/registry/v2/../../../../../../../../" + strings.TrimPrefix(outside, "/"), body: "evil"}},
		{"absolute", tarEntryT{name: outside, body: "evil"}},
		{"symlink", tarEntryT{name: "./docker/registry/v2/repositories/y", typ: tar.TypeSymlink, linkname: filepath.Dir(outside)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "registry")
			os.Mkdir(root, 0o755)
			// The hostile entry before the link file: the link comes after it.
			entries := append([]tarEntryT{good[0], good[1], c.e}, good[2])
			p := filepath.Join(t.TempDir(), "registry.tar.gz")
			if err := os.WriteFile(p, gzTar(t, entries), 0o600); err != nil {
				t.Fatal(err)
			}
			_, stderr := expectExit(t, 3, "restore", p, "--to", root)
			if line := errorLine(t, stderr); !strings.Contains(line, "unsafe") {
				t.Errorf("error line does not say the entry is unsafe: %s", line)
			}
			if _, err := os.Lstat(outside); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s was written: %v", outside, err)
			}
			if links := linkFiles(t, root); len(links) != 0 {
				t.Errorf("link files written: %v", links)
			}
			if _, err := os.Lstat(filepath.Join(root, "docker/registry/v2/repositories/y")); err == nil {
				t.Errorf("the symlink was created")
			}
		})
	}
}

// TestGitLabRestoreMissingBlob: a backup whose registry folder lacked a
// manifest blob (its links are damage) and a layer blob (a layer link to it
// is what garbage collection leaves): those links are reported and not
// written, everything else is, and the command exits 3.
func TestGitLabRestoreMissingBlob(t *testing.T) {
	eachVersion(t, func(t *testing.T, v string) {
		src, f := gitlabSource(t, v)
		gone := f.Tags["team/beta:2.0"]
		if err := os.RemoveAll(filepath.Dir(blobFile(src, gone))); err != nil {
			t.Fatal(err)
		}
		b := MakeGitLabBackup(t, src, GitLabBackupOptions{})
		root := filepath.Join(t.TempDir(), "registry")
		os.Mkdir(root, 0o755)
		_, stderr := expectExit(t, 3, "restore", b.Tar, "--to", root)
		hexd := strings.TrimPrefix(gone, "sha256:")
		for _, want := range []string{"team/beta/_manifests/tags/2.0/current/link", "team/beta/_manifests/revisions/sha256/" + hexd + "/link"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("restore does not report %s:\n%s", want, stderr)
			}
			if _, err := os.Stat(filepath.Join(root, "docker/registry/v2/repositories", want)); err == nil {
				t.Errorf("%s was written", want)
			}
		}
		errorLine(t, stderr)
		r := StartRegistry(t, v, root)
		rest := f
		rest.Tags = map[string]string{}
		for ref, d := range f.Tags {
			if ref != "team/beta:2.0" {
				rest.Tags[ref] = d
			}
		}
		CheckServes(t, r, rest)
	})
}

// TestGitLabRestoreOptions: --repository, --dry-run and --clean with a
// GitLab backup, as with regbackup's own archives.
func TestGitLabRestoreOptions(t *testing.T) {
	eachVersion(t, func(t *testing.T, v string) {
		src, f := gitlabSource(t, v)
		b := MakeGitLabBackup(t, src, GitLabBackupOptions{})
		t.Run("repository", func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "registry")
			os.Mkdir(root, 0o755)
			mustRegbackup(t, 0, "restore", b.Tar, "--to", root, "--repository", "group/*/*")
			r := StartRegistry(t, v, root)
			CheckServes(t, r, subsetFixture(f, "group/sub/app"))
			checkAbsent(t, r, f, "group/sub/app")
			// Only the blobs group/sub/app needs: its layer links name them all.
			var blobs int
			walkFiles(t, filepath.Join(root, "docker/registry/v2/blobs"), func(string, fs.FileInfo) { blobs++ })
			var links int
			walkFiles(t, filepath.Join(root, "docker/registry/v2/repositories/group/sub/app/_layers"), func(string, fs.FileInfo) { links++ })
			if blobs > links+1 {
				t.Errorf("%d blobs restored for a repository with %d layer links (+1 manifest)", blobs, links)
			}
		})
		t.Run("dry-run", func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "registry")
			os.Mkdir(root, 0o755)
			out, _ := mustRegbackup(t, 0, "restore", b.Tar, "--to", root, "--dry-run")
			if !strings.Contains(out, "would write docker/registry/v2/repositories/alpha/_manifests/tags/latest/current/link") {
				t.Errorf("dry run does not list the tag link:\n%.2000s", out)
			}
			if ents, _ := os.ReadDir(root); len(ents) != 0 {
				t.Errorf("dry run wrote into the root: %v", ents)
			}
		})
		t.Run("clean", func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "registry")
			stray := filepath.Join(root, "docker/registry/v2/repositories/extra/junk/_layers/sha256/"+strings.Repeat("0", 64)+"/link")
			os.MkdirAll(filepath.Dir(stray), 0o755)
			os.WriteFile(stray, []byte("sha256:"+strings.Repeat("0", 64)), 0o644)
			os.Mkdir(filepath.Join(root, "lost+found"), 0o700)
			mustRegbackup(t, 0, "restore", b.Tar, "--to", root, "--clean")
			if _, err := os.Stat(stray); err == nil {
				t.Errorf("--clean left %s", stray)
			}
			if _, err := os.Stat(filepath.Join(root, "lost+found")); err != nil {
				t.Errorf("--clean removed lost+found: %v", err)
			}
			r := StartRegistry(t, v, root)
			CheckServes(t, r, f)
		})
	})
}

// TestGitLabSkippedRegistry: a backup made with SKIP=registry is one clear
// error line.
func TestGitLabSkippedRegistry(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	b := MakeGitLabBackup(t, src, GitLabBackupOptions{Skipped: "registry,artifacts", NoRegistry: true})
	root := filepath.Join(t.TempDir(), "registry")
	os.Mkdir(root, 0o755)
	for _, cmd := range [][]string{{"restore", b.Tar, "--to", root}, {"verify", b.Tar}, {"list", b.Tar}} {
		_, stderr := expectExit(t, 1, cmd...)
		if line := errorLine(t, stderr); !strings.Contains(line, "without the container registry") || !strings.Contains(line, "SKIP=registry") {
			t.Errorf("%s: %s", cmd[0], line)
		}
	}
}

// tarEntryT is one entry of a hand-made tarball.
type tarEntryT struct {
	name, body, linkname string
	typ                  byte
}

func gzTar(t testing.TB, entries []tarEntryT) []byte {
	t.Helper()
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: e.name, Typeflag: typ, Mode: 0o644, Linkname: e.linkname}
		if typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(e.body))
	}
	tw.Close()
	gz.Close()
	return b.Bytes()
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
