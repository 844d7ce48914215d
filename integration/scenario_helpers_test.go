package integration

// Helpers for the real-registry backup/restore scenarios (roundtrip_test.go,
// restore_test.go): seeding a registry, running regbackup with an expected
// exit code, listing a tree, comparing ownership and mount points.

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// seedRegistry starts a registry of version v on a fresh, empty root and
// pushes the fixture into it. The registry keeps running.
func seedRegistry(t testing.TB, v string) (*Registry, string, Fixture) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "registry")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	r := StartRegistry(t, v, root)
	return r, root, PushFixture(t, r)
}

// backupArchive backs root up into a new archive file (exit 0 required) and
// returns its path.
func backupArchive(t testing.TB, root string, extra ...string) string {
	t.Helper()
	a := filepath.Join(t.TempDir(), "registry.tar.zst")
	mustRegbackup(t, 0, append([]string{"backup", "--from", root, "-o", a}, extra...)...)
	if fi, err := os.Stat(a); err != nil || fi.Size() == 0 {
		t.Fatalf("backup exited 0 but the archive %s is missing or empty: %v", a, err)
	}
	return a
}

// seedArchive starts a registry of version v, pushes the fixture, backs the
// root up and stops the registry. It returns the archive and the fixture.
func seedArchive(t testing.TB, v string) (string, Fixture) {
	t.Helper()
	r, root, f := seedRegistry(t, v)
	a := backupArchive(t, root)
	r.Stop()
	return a, f
}

// emptyDir removes everything inside dir, never dir itself.
func emptyDir(t testing.TB, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("%s is not empty after emptying it: %d entries", dir, len(entries))
	}
}

// statT is the raw stat of p (not following a final symlink).
func statT(t testing.TB, p string) *syscall.Stat_t {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		t.Fatalf("lstat %s: %v", p, err)
	}
	return &st
}

// treeListing describes every entry below root (root itself excluded): path,
// type and mode, owner, size, mtime and, for files, a sha256 of the content.
// Two equal listings mean nothing under root was touched.
func treeListing(t testing.TB, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		line := fmt.Sprintf("%s %s %d:%d size=%d mtime=%d ino=%d", rel, fi.Mode(), st.Uid, st.Gid,
			fi.Size(), fi.ModTime().UnixNano(), st.Ino)
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			line += " sha256=" + hex.EncodeToString(sum[:])
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatalf("listing %s: %v", root, err)
	}
	return out
}

// diffListings returns a readable difference of two treeListing results.
func diffListings(before, after []string) string {
	var b strings.Builder
	for _, l := range before {
		if !slices.Contains(after, l) {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	for _, l := range after {
		if !slices.Contains(before, l) {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	return b.String()
}

// subsetFixture is f restricted to the given repositories: what a registry
// must serve after a `restore --repository` of exactly those.
func subsetFixture(f Fixture, repos ...string) Fixture {
	sub := Fixture{Tags: map[string]string{}, SharedLayer: f.SharedLayer}
	for _, repo := range f.Repos {
		if slices.Contains(repos, repo) {
			sub.Repos = append(sub.Repos, repo)
		}
	}
	for ref, d := range f.Tags {
		repo, _, _ := strings.Cut(ref, ":")
		if slices.Contains(repos, repo) {
			sub.Tags[ref] = d
		}
	}
	for _, ref := range f.Untagged {
		repo, _, _ := strings.Cut(ref, "@")
		if slices.Contains(repos, repo) {
			sub.Untagged = append(sub.Untagged, ref)
		}
	}
	if slices.Contains(repos, f.DeletedRepo) {
		sub.Deleted, sub.DeletedRepo = f.Deleted, f.DeletedRepo
	}
	return sub
}

// checkAbsent fails the test if r serves any tag or untagged manifest of the
// fixture's repositories that are not in keep.
func checkAbsent(t testing.TB, r *Registry, f Fixture, keep ...string) {
	t.Helper()
	for _, ref := range sortedKeys(f.Tags) {
		repo, _, _ := strings.Cut(ref, ":")
		if slices.Contains(keep, repo) {
			continue
		}
		if d, err := craneErr(t, "digest", r.Ref(ref)); err == nil {
			t.Errorf("registry %s: %s was not restored but is served (%s)", r.Version, ref, d)
		}
	}
	for _, ref := range f.Untagged {
		repo, _, _ := strings.Cut(ref, "@")
		if slices.Contains(keep, repo) {
			continue
		}
		if _, err := craneErr(t, "manifest", r.Ref(ref)); err == nil {
			t.Errorf("registry %s: %s was not restored but is served", r.Version, ref)
		}
	}
}

// blobFile is where a filesystem registry keeps blob dg under root.
func blobFile(root, dg string) string {
	hexd := strings.TrimPrefix(dg, "sha256:")
	return filepath.Join(root, "docker", "registry", "v2", "blobs", "sha256", hexd[:2], hexd, "data")
}

// listedImage is one entry of `regbackup list --json`'s "images".
type listedImage struct {
	Repository string `json:"repository"`
	Tag        string `json:"tag"`
	Digest     string `json:"digest"`
}

// listArchive runs `regbackup list --json A` and returns "repo:tag" ->
// digest and the included files' original paths.
func listArchive(t testing.TB, archivePath string) (map[string]string, []string) {
	t.Helper()
	out, _ := mustRegbackup(t, 0, "list", "--json", archivePath)
	var l struct {
		Images []listedImage `json:"images"`
		Files  []string      `json:"files"`
	}
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		t.Fatalf("regbackup list --json: not JSON: %v\n%s", err, out)
	}
	tags := map[string]string{}
	for _, im := range l.Images {
		ref := im.Repository + ":" + im.Tag
		if _, dup := tags[ref]; dup {
			t.Errorf("regbackup list --json: %s listed twice", ref)
		}
		tags[ref] = im.Digest
	}
	return tags, l.Files
}

// isMountPoint reports whether dir is a mount point according to
// /proc/self/mountinfo (field 5 is the mount point, octal-escaped).
func isMountPoint(t testing.TB, dir string) bool {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatalf("mountinfo: %v", err)
	}
	defer f.Close()
	want, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	unescape := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && unescape.Replace(fields[4]) == want {
			return true
		}
	}
	return false
}

// pipeline runs the commands with each one's stdout piped into the next
// one's stdin (no shell). stdin feeds the first; the last one's stdout is
// discarded. It returns each command's exit code and stderr.
func pipeline(t testing.TB, stdin io.Reader, cmds ...[]string) (codes []int, stderrs []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), RegbackupTimeout)
	defer cancel()
	var (
		procs []*exec.Cmd
		errs  []*strings.Builder
		// parent's copies of the pipe ends, closed once every child started
		ends []*os.File
	)
	var prev io.Reader = stdin
	for i, argv := range cmds {
		c := exec.CommandContext(ctx, argv[0], argv[1:]...)
		c.Stdin = prev
		var e strings.Builder
		c.Stderr = &e
		if i < len(cmds)-1 {
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			c.Stdout = pw
			prev = pr
			ends = append(ends, pr, pw)
		}
		procs = append(procs, c)
		errs = append(errs, &e)
	}
	start := time.Now()
	for _, c := range procs {
		if err := c.Start(); err != nil {
			t.Fatalf("start %s: %v", c.Path, err)
		}
	}
	for _, f := range ends {
		f.Close()
	}
	for i, c := range procs {
		err := c.Wait()
		code := 0
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else {
				t.Fatalf("%s: %v", strings.Join(cmds[i], " "), err)
			}
		}
		codes = append(codes, code)
		stderrs = append(stderrs, errs[i].String())
	}
	if ctx.Err() != nil {
		t.Fatalf("pipeline timed out after %s: %v", RegbackupTimeout, cmds)
	}
	var names []string
	for _, argv := range cmds {
		names = append(names, filepath.Base(argv[0])+" "+strings.Join(argv[1:], " "))
	}
	t.Logf("pipeline %s: exit %v in %s", strings.Join(names, " | "), codes, time.Since(start).Round(time.Millisecond))
	return codes, stderrs
}

// needRoot skips the test, saying why, unless it runs as root. Like
// needMount, under CI=true (which runs as root) this fails instead of skipping.
func needRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		missing(t, "test needs root (%s): euid is %d", why, os.Geteuid())
	}
}

// eachVersion runs fn as a parallel subtest "registry-<v>" for every
// registry version in Versions, in a parallel test.
func eachVersion(t *testing.T, fn func(t *testing.T, v string)) {
	t.Parallel()
	for _, v := range Versions {
		t.Run("registry-"+v, func(t *testing.T) {
			t.Parallel()
			fn(t, v)
		})
	}
}
