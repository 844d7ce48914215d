package integration

// Restore scenarios on real registries: into a mount point, a subset of
// repositories, --clean and --dry-run, and file ownership.

import (
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestRestoreIntoMountPoint reproduces GitLab's restore failure (the
// registry folder is a mount point, so it cannot be moved away or removed)
// and shows that regbackup restores into it in place, leaving lost+found be.
func TestRestoreIntoMountPoint(t *testing.T) {
	t.Parallel()
	needMount(t)
	for _, v := range Versions {
		t.Run("registry-"+v, func(t *testing.T) {
			t.Parallel()
			base := t.TempDir()
			root := filepath.Join(base, "registry")
			MountTmpfs(t, root)
			r := StartRegistry(t, v, root)
			f := PushFixture(t, r)
			a := backupArchive(t, root)
			r.Stop()

			mnt := statT(t, root)
			if parent := statT(t, base); mnt.Dev == parent.Dev {
				t.Fatalf("%s is not a mount point: same st_dev %d as its parent", root, mnt.Dev)
			}
			if !isMountPoint(t, root) {
				t.Fatalf("%s is not in /proc/self/mountinfo", root)
			}

			// GitLab's way: move the folder aside, or remove it. Both fail.
			err := os.Rename(root, root+".old")
			if err == nil {
				os.Rename(root+".old", root) // put it back for the unmount
			}
			if !errors.Is(err, syscall.EBUSY) {
				t.Fatalf("mv %s %s.old: got %v, want EBUSY (Device or resource busy)", root, root, err)
			}
			emptyDir(t, root)
			if err := os.Remove(root); !errors.Is(err, syscall.EBUSY) {
				t.Fatalf("rmdir %s: got %v, want EBUSY (Device or resource busy)", root, err)
			}

			// What mkfs leaves on a dedicated volume: root's lost+found.
			lf := filepath.Join(root, "lost+found")
			if err := os.Mkdir(lf, 0o700); err != nil {
				t.Fatal(err)
			}
			lfFile := filepath.Join(lf, "#131073")
			if err := os.WriteFile(lfFile, []byte("recovered inode\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Lchown(lf, 0, 0); err != nil {
				t.Fatal(err)
			}

			mustRegbackup(t, 0, "restore", a, "--to", root, "--clean")

			after := statT(t, root)
			if after.Dev != mnt.Dev || after.Ino != mnt.Ino {
				t.Errorf("root replaced: dev/inode %d/%d before, %d/%d after", mnt.Dev, mnt.Ino, after.Dev, after.Ino)
			}
			if !isMountPoint(t, root) {
				t.Errorf("%s is no longer a mount point after the restore", root)
			}
			if b, err := os.ReadFile(lfFile); err != nil || string(b) != "recovered inode\n" {
				t.Errorf("lost+found/#131073 did not survive restore --clean: %q, %v", b, err)
			}
			if st := statT(t, lf); st.Uid != 0 || st.Gid != 0 || st.Mode&0o777 != 0o700 {
				t.Errorf("lost+found changed: owner %d:%d mode %04o, want 0:0 0700", st.Uid, st.Gid, st.Mode&0o777)
			}

			r2 := StartRegistry(t, v, root)
			CheckServes(t, r2, f)
		})
	}
}

// TestRestoreSubset restores only some repositories into an empty root: the
// registry serves exactly those, with every blob they need (including the
// layer group/sub/app mounted from alpha), and nothing of the others.
func TestRestoreSubset(t *testing.T) {
	eachVersion(t, func(t *testing.T, v string) {
		a, f := seedArchive(t, v)
		for _, c := range []struct {
			name  string
			globs []string
			repos []string
		}{
			{"nested", []string{"group/*/*"}, []string{"group/sub/app"}},
			{"nested+alpha", []string{"group/*/*", "alpha"}, []string{"alpha", "group/sub/app"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				root := filepath.Join(t.TempDir(), "registry")
				if err := os.Mkdir(root, 0o755); err != nil {
					t.Fatal(err)
				}
				args := []string{"restore", a, "--to", root}
				for _, g := range c.globs {
					args = append(args, "--repository", g)
				}
				mustRegbackup(t, 0, args...)
				r := StartRegistry(t, v, root)
				CheckServes(t, r, subsetFixture(f, c.repos...))
				checkAbsent(t, r, f, c.repos...)
			})
		}
	})
}

// TestRestoreClean restores over a root that changed since the backup (a
// new repository, a moved tag, a stray file among the blobs): --dry-run
// --clean only reports, --clean puts back exactly the backed-up state.
func TestRestoreClean(t *testing.T) {
	eachVersion(t, func(t *testing.T, v string) {
		r, root, f := seedRegistry(t, v)
		a := backupArchive(t, root)

		// Changes after the backup.
		layer := makeLayer(t, t.TempDir(), "extra", 64*1024)
		crane(t, "append", "-f", layer, "-t", r.Ref("extra/junk:1"))
		extraDigest := crane(t, "digest", r.Ref("extra/junk:1"))
		crane(t, "tag", r.Ref("alpha:v1"), "latest") // latest was v2 in the backup
		garbage := blobFile(root, "sha256:"+strings.Repeat("0", 64))
		if err := os.MkdirAll(filepath.Dir(garbage), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(garbage, []byte("not a blob\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		alphaLayer := getManifest(t, r.Ref("alpha:v1")).Layers[0].Digest
		r.Stop()
		if _, err := os.Stat(blobFile(root, extraDigest)); err != nil {
			t.Fatalf("extra manifest blob not where expected: %v", err)
		}
		// Damage on disk since the backup: a layer overwritten with bytes of
		// the same size (a present blob with the wrong content must be
		// rewritten, not skipped), and a tag whose folder was removed.
		lp := blobFile(root, alphaLayer)
		fi, err := os.Stat(lp)
		if err != nil {
			t.Fatal(err)
		}
		junk := make([]byte, fi.Size())
		rand.Read(junk)
		if err := os.WriteFile(lp, junk, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(filepath.Join(root, "docker/registry/v2/repositories/team/beta/_manifests/tags/1.0")); err != nil {
			t.Fatal(err)
		}
		rootBefore := statT(t, root)

		// --dry-run: reports the removals, changes nothing.
		before := treeListing(t, root)
		out, _ := mustRegbackup(t, 0, "restore", a, "--to", root, "--clean", "--dry-run")
		if after := treeListing(t, root); !slices.Equal(before, after) {
			t.Errorf("restore --clean --dry-run changed the root:\n%s", diffListings(before, after))
		}
		relGarbage, _ := filepath.Rel(root, garbage)
		var removals []string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "would remove ") {
				removals = append(removals, strings.TrimPrefix(l, "would remove "))
			}
		}
		if !containsSuffix(removals, filepath.ToSlash(relGarbage)) {
			t.Errorf("restore --clean --dry-run: no \"would remove\" line for %s; stdout:\n%s", relGarbage, out)
		}
		if !containsPart(removals, "/repositories/extra/junk/") {
			t.Errorf("restore --clean --dry-run: no \"would remove\" line for repository extra/junk; stdout:\n%s", out)
		}

		// The real thing.
		mustRegbackup(t, 0, "restore", a, "--to", root, "--clean")
		rootAfter := statT(t, root)
		if rootAfter.Dev != rootBefore.Dev || rootAfter.Ino != rootBefore.Ino {
			t.Errorf("root replaced: dev/inode %d/%d before, %d/%d after", rootBefore.Dev, rootBefore.Ino, rootAfter.Dev, rootAfter.Ino)
		}
		for _, p := range []string{garbage, blobFile(root, extraDigest)} {
			if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("restore --clean left %s (%v)", p, err)
			}
		}
		r2 := StartRegistry(t, v, root)
		CheckServes(t, r2, f) // catalog without extra/junk, alpha:latest back at v2, layer and tag repaired
		if d, err := craneErr(t, "digest", r2.Ref("extra/junk:1")); err == nil {
			t.Errorf("extra/junk:1 still served after restore --clean (%s)", d)
		}
	})
}

func containsSuffix(list []string, suffix string) bool {
	for _, s := range list {
		if strings.HasSuffix(s, suffix) {
			return true
		}
	}
	return false
}

func containsPart(list []string, part string) bool {
	for _, s := range list {
		if strings.Contains(s, part) {
			return true
		}
	}
	return false
}

// TestRestoreOwner: run as root, a restore gives every file and folder it
// creates the owner of the root folder (the registry's user), or --owner's.
func TestRestoreOwner(t *testing.T) {
	t.Parallel()
	needRoot(t, "files are restored for another user than the one running the restore")
	for _, v := range Versions {
		t.Run("registry-"+v, func(t *testing.T) {
			t.Parallel()
			a, f := seedArchive(t, v)
			for _, c := range []struct {
				name     string
				args     []string
				uid, gid uint32
				serve    bool
			}{
				{"root-folder-owner", nil, 65534, 65534, true},
				{"owner-flag", []string{"--owner", "1234:1234"}, 1234, 1234, false},
			} {
				t.Run(c.name, func(t *testing.T) {
					root := filepath.Join(t.TempDir(), "registry")
					if err := os.Mkdir(root, 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.Lchown(root, 65534, 65534); err != nil {
						t.Fatal(err)
					}
					mustRegbackup(t, 0, append([]string{"restore", a, "--to", root}, c.args...)...)
					n, bad := 0, 0
					err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
						if err != nil || p == root {
							return err
						}
						n++
						st := statT(t, p)
						if st.Uid != c.uid || st.Gid != c.gid {
							bad++
							if bad <= 10 {
								rel, _ := filepath.Rel(root, p)
								t.Errorf("%s: owner %d:%d, want %d:%d", rel, st.Uid, st.Gid, c.uid, c.gid)
							}
						}
						return nil
					})
					if err != nil {
						t.Fatal(err)
					}
					if n == 0 {
						t.Fatal("restore created nothing under the root")
					}
					if bad > 0 {
						t.Errorf("%d of %d files and folders have the wrong owner", bad, n)
					}
					if c.serve {
						r := StartRegistry(t, v, root)
						CheckServes(t, r, f)
					}
				})
			}
		})
	}
}

// TestRestoreCleanSubset: `restore --repository alpha --clean` puts alpha
// back as it was backed up and touches nothing outside it: a repository
// pushed since the backup, the other repositories' tags and every blob
// stay.
func TestRestoreCleanSubset(t *testing.T) {
	eachVersion(t, func(t *testing.T, v string) {
		r, root, f := seedRegistry(t, v)
		a := backupArchive(t, root)

		layer := makeLayer(t, t.TempDir(), "extra", 64*1024)
		crane(t, "append", "-f", layer, "-t", r.Ref("extra/junk:1"))
		extraDigest := crane(t, "digest", r.Ref("extra/junk:1"))
		crane(t, "tag", r.Ref("alpha:v1"), "latest")                     // alpha:latest was v2 in the backup
		crane(t, "tag", r.Ref("alpha:v1"), "after-backup")               // a tag the backup does not know
		crane(t, "tag", r.Ref("team/beta:1.0"), "after-backup")          // outside the selection
		betaExtra := crane(t, "digest", r.Ref("team/beta:after-backup")) // same as 1.0
		r.Stop()

		repos := filepath.Join(root, "docker/registry/v2/repositories")
		outside := treeListing(t, filepath.Join(repos, "team"))
		blobsBefore := treeListing(t, filepath.Join(root, "docker/registry/v2/blobs"))

		mustRegbackup(t, 0, "restore", a, "--to", root, "--repository", "alpha", "--clean")

		if after := treeListing(t, filepath.Join(repos, "team")); !slices.Equal(outside, after) {
			t.Errorf("restore --repository alpha --clean changed team/beta:\n%s", diffListings(outside, after))
		}
		if after := treeListing(t, filepath.Join(root, "docker/registry/v2/blobs")); !slices.Equal(blobsBefore, after) {
			t.Errorf("restore --repository alpha --clean changed blobs:\n%s", diffListings(blobsBefore, after))
		}

		r2 := StartRegistry(t, v, root)
		want := subsetFixture(f, "alpha")
		for _, ref := range sortedKeys(want.Tags) {
			if d, err := craneErr(t, "digest", r2.Ref(ref)); err != nil || d != want.Tags[ref] {
				t.Errorf("%s = %q (%v), want %s", ref, d, err, want.Tags[ref])
			}
		}
		if got, want := listTags(t, r2, "alpha"), []string{"latest", "v1", "v2"}; !slices.Equal(got, want) {
			t.Errorf("tags of alpha = %v, want %v (the tag made after the backup must be gone)", got, want)
		}
		if d, err := craneErr(t, "digest", r2.Ref("extra/junk:1")); err != nil || d != extraDigest {
			t.Errorf("extra/junk:1 (not selected) = %q (%v), want %s", d, err, extraDigest)
		}
		if d, err := craneErr(t, "digest", r2.Ref("team/beta:after-backup")); err != nil || d != betaExtra {
			t.Errorf("team/beta:after-backup (not selected) = %q (%v), want %s", d, err, betaExtra)
		}
		wantCat := append(slices.Clone(f.Repos), "extra/junk")
		slices.Sort(wantCat)
		if got := catalog(t, r2); !slices.Equal(got, wantCat) {
			t.Errorf("catalog = %v, want %v", got, wantCat)
		}
	})
}
