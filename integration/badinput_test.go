package integration

// Bad input as a user meets it through the CLI: archives damaged in transit
// (a flipped byte, a cut-off tail), hand-built hostile archives, archive
// arguments that are not archives, and damaged source storage. Every test
// checks what the user relies on: the exit code, that the restore target's
// link files are untouched, that no unverified blob is committed, and that
// nothing is written outside --to.

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/filesystem"
	"github.com/regbackup/regbackup/integration/sample"
)

// ---------------------------------------------------------------------------
// Helpers shared by badinput_test.go and cli_test.go.

// genTree writes a sample registry tree into dir (created) through the
// filesystem driver and returns its description.
func genTree(t testing.TB, dir string, opts sample.Options) *sample.Registry {
	t.Helper()
	d, err := filesystem.New(dir, filesystem.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	reg, err := sample.Generate(t.Context(), d, opts)
	if err != nil {
		t.Fatalf("sample.Generate into %s: %v", dir, err)
	}
	t.Logf("sample tree (seed %d, %d blobs) generated in %s in %s", opts.Seed, len(reg.Blobs), dir, time.Since(start).Round(time.Millisecond))
	return reg
}

// fsDriver opens an existing filesystem root.
func fsDriver(t testing.TB, dir string) drivers.Driver {
	t.Helper()
	d, err := filesystem.New(dir, filesystem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// mustRegbackup runs regbackup and stops the test unless it exits with want.
// For preparation steps whose failure makes the rest meaningless.
func mustRegbackup(t testing.TB, want int, args ...string) (stdout, stderr string) {
	t.Helper()
	o, e, code := Regbackup(t, args...)
	if code != want {
		t.Fatalf("regbackup %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, o, e)
	}
	return o, e
}

// expectExit runs regbackup and records a failure (without stopping) unless
// it exits with want.
func expectExit(t testing.TB, want int, args ...string) (stdout, stderr string) {
	t.Helper()
	o, e, code := Regbackup(t, args...)
	if code != want {
		t.Errorf("regbackup %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, o, e)
	}
	return o, e
}

// errorLine returns the one "regbackup: ..." error line of stderr, failing
// the test unless there is exactly one and it is stderr's last line.
func errorLine(t testing.TB, stderr string) string {
	t.Helper()
	defer func() {
		if ls := strings.Split(strings.TrimRight(stderr, "\n"), "\n"); len(ls) > 0 {
			t.Logf("stderr ends: %.300s", ls[len(ls)-1])
		}
	}()
	ls := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	var found []int
	for i, l := range ls {
		if strings.HasPrefix(l, "regbackup: ") {
			found = append(found, i)
		}
	}
	if len(found) != 1 || found[0] != len(ls)-1 {
		t.Errorf("want exactly one error line \"regbackup: ...\" ending stderr, got:\n%s", stderr)
		if len(found) == 0 {
			return ""
		}
	}
	return ls[found[len(found)-1]]
}

// fileState is what a user would notice changing in a file.
type fileState struct {
	content string
	mtime   time.Time
}

// linkFiles maps every link file under root (relative slash path) to its
// content and modification time.
func linkFiles(t testing.TB, root string) map[string]fileState {
	t.Helper()
	out := map[string]fileState{}
	walkFiles(t, root, func(rel string, fi fs.FileInfo) {
		if filepath.Base(rel) != "link" {
			return
		}
		b, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		out[rel] = fileState{content: string(b), mtime: fi.ModTime()}
	})
	return out
}

// walkFiles calls fn for every non-directory entry below root (Lstat info,
// so symlinks are reported as symlinks). A missing root has no files.
func walkFiles(t testing.TB, root string, fn func(rel string, fi fs.FileInfo)) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			if p == root && errors.Is(err, fs.ErrNotExist) {
				return filepath.SkipDir
			}
			return err
		}
		if de.IsDir() {
			return nil
		}
		fi, err := de.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fn(filepath.ToSlash(rel), fi)
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", root, err)
	}
}

// compareLinks fails the test for every link file added, removed or
// changed (content or mtime) between two linkFiles snapshots.
func compareLinks(t testing.TB, what string, before, after map[string]fileState) {
	t.Helper()
	for p, b := range before {
		a, ok := after[p]
		switch {
		case !ok:
			t.Errorf("%s: link file %s was removed", what, p)
		case a.content != b.content:
			t.Errorf("%s: link file %s changed: %q -> %q", what, p, b.content, a.content)
		case !a.mtime.Equal(b.mtime):
			t.Errorf("%s: link file %s was rewritten (mtime %s -> %s)", what, p, b.mtime, a.mtime)
		}
	}
	for p, a := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s: link file %s was written (holds %q)", what, p, a.content)
		}
	}
}

// checkOnlyIntactBlobs fails the test for every file below root that is not
// a blob's data at its proper path with content matching its digest (temp
// files, links, symlinks, half-written or corrupt blobs). It returns the
// digests of the blobs found.
func checkOnlyIntactBlobs(t testing.TB, root string) []string {
	t.Helper()
	var found []string
	walkFiles(t, root, func(rel string, fi fs.FileInfo) {
		p := archive.ParsePath(rel)
		switch {
		case !fi.Mode().IsRegular():
			t.Errorf("%s: %s is a %s, not a regular file", root, rel, fi.Mode().Type())
		case p.Kind != archive.KindBlob:
			t.Errorf("%s: unexpected file %s (%d bytes)", root, rel, fi.Size())
		default:
			if got := fileDigest(t, filepath.Join(root, rel)); got != p.Digest {
				t.Errorf("%s: blob %s was committed with content hashing to %s", root, rel, got)
			}
			found = append(found, p.Digest)
		}
	})
	return found
}

// checkBlobsIntact fails the test for any file in root's blobs folder that
// is not an intact blob at its proper path.
func checkBlobsIntact(t testing.TB, root string) {
	t.Helper()
	blobs := filepath.Join(root, filepath.FromSlash(archive.RegistryRoot+"blobs"))
	walkFiles(t, blobs, func(rel string, fi fs.FileInfo) {
		full := archive.RegistryRoot + "blobs/" + rel
		p := archive.ParsePath(full)
		switch {
		case !fi.Mode().IsRegular():
			t.Errorf("%s: %s is a %s, not a regular file", root, full, fi.Mode().Type())
		case p.Kind != archive.KindBlob:
			t.Errorf("%s: unexpected file %s (%d bytes)", root, full, fi.Size())
		default:
			if got := fileDigest(t, filepath.Join(blobs, rel)); got != p.Digest {
				t.Errorf("%s: blob %s was committed with content hashing to %s", root, full, got)
			}
		}
	})
}

// tempFilesUnder lists every file below root whose name ends in ".tmp" or
// holds ".partial" (temp files of regbackup or of the registry).
func tempFilesUnder(t testing.TB, root string) []string {
	t.Helper()
	var out []string
	walkFiles(t, root, func(rel string, fi fs.FileInfo) {
		b := filepath.Base(rel)
		if strings.HasSuffix(b, ".tmp") || strings.Contains(b, ".partial") {
			out = append(out, rel)
		}
	})
	return out
}

func fileDigest(t testing.TB, p string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// archiveContent reads a whole archive with archive.NewReader, failing the
// test on any error before io.EOF, and returns its link entries (entry name
// -> digest held), its blob digests and its trailer.
func archiveContent(t testing.TB, file string) (links map[string]string, blobs map[string]bool, tr *archive.Trailer) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ar, err := archive.NewReader(f)
	if err != nil {
		t.Fatalf("archive %s: %v", file, err)
	}
	defer ar.Close()
	links, blobs = map[string]string{}, map[string]bool{}
	for {
		e, err := ar.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("archive %s does not read to its end: %v", file, err)
		}
		switch {
		case e.Path.Kind == archive.KindBlob:
			blobs[e.Path.Digest] = true
		case e.Path.Kind.IsLink():
			b, err := io.ReadAll(e.Body)
			if err != nil {
				t.Fatalf("archive %s: link %s: %v", file, e.Name, err)
			}
			links[e.Name] = string(b)
		}
	}
	return links, blobs, ar.Trailer()
}

// uniqueName is a name no other test run uses, for would-be evil targets.
func uniqueName(prefix string) string {
	var b [8]byte
	rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// manifestLayers reads manifest digest from a registry root and returns its
// config and layer digests.
func manifestLayers(t testing.TB, root, digest string) (config string, layers []string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(sample.BlobPath(digest))))
	if err != nil {
		t.Fatal(err)
	}
	var m manifestJSON
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest %s: %v", digest, err)
	}
	for _, l := range m.Layers {
		layers = append(layers, l.Digest)
	}
	return m.Config.Digest, layers
}

// corruptToolsLayer writes the sample of seed 6 into src and damages the
// last layer of alpha/tools:latest there (its content no longer matches its
// digest); it returns that layer's digest.
func corruptToolsLayer(t testing.TB, src string) string {
	t.Helper()
	reg := genTree(t, src, sample.Options{Seed: 6})
	tools := findTag(t, reg, "alpha/tools", "latest")
	_, layers := manifestLayers(t, src, tools.Digest)
	victim := layers[len(layers)-1]
	if err := sample.Corrupt(t.Context(), fsDriver(t, src), victim); err != nil {
		t.Fatal(err)
	}
	return victim
}

func findTag(t testing.TB, reg *sample.Registry, repo, tag string) sample.Image {
	t.Helper()
	for _, im := range reg.Tags {
		if im.Repo == repo && im.Tag == tag {
			return im
		}
	}
	t.Fatalf("sample has no tag %s:%s", repo, tag)
	return sample.Image{}
}

// servedDigests asks a running registry, with crane, for the digest of every
// tag of the sample and checks each one validates (all blobs digest-checked).
func servedDigests(t testing.TB, r *Registry, reg *sample.Registry) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, im := range reg.Tags {
		ref := im.Repo + ":" + im.Tag
		d, err := craneErr(t, "digest", r.Ref(ref))
		if err != nil {
			t.Errorf("registry %s: %v", r.Version, err)
			continue
		}
		out[ref] = d
		if _, err := craneErr(t, "validate", "--remote", r.Ref(ref)); err != nil {
			t.Errorf("registry %s: %v", r.Version, err)
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// 1. A byte flipped inside an archive.

// TestFlippedByteInArchive: an archive damaged after it was written (one
// byte flipped in a blob of an uncompressed archive, or in the middle of a
// zstd archive) fails verify and restore with exit 3. The restore goes into
// a root that already holds an older, healthy restore served by a real
// registry 3: no link file is written or changed, no corrupt blob is
// committed, and the registry still serves every digest it served before.
func TestFlippedByteInArchive(t *testing.T) {
	base := t.TempDir()
	old := filepath.Join(base, "old-src")
	reg1 := genTree(t, old, sample.Options{Seed: 1})
	oldArchive := filepath.Join(base, "old.tar.zst")
	mustRegbackup(t, 0, "backup", "--from", old, "-o", oldArchive)
	newer := filepath.Join(base, "new-src")
	reg2 := genTree(t, newer, sample.Options{Seed: 2})

	// A layer blob only the newer tree has: the biggest one.
	var victim string
	for dg, size := range reg2.Blobs {
		if _, inOld := reg1.Blobs[dg]; !inOld && (victim == "" || size > reg2.Blobs[victim]) {
			victim = dg
		}
	}

	for _, comp := range []string{"none", "zstd"} {
		t.Run(comp, func(t *testing.T) {
			dir := t.TempDir()
			arch := filepath.Join(dir, "new.tar")
			mustRegbackup(t, 0, "backup", "--from", newer, "-o", arch, "--compression", comp)
			data, err := os.ReadFile(arch)
			if err != nil {
				t.Fatal(err)
			}
			var off int
			if comp == "none" {
				blob, err := os.ReadFile(filepath.Join(newer, filepath.FromSlash(sample.BlobPath(victim))))
				if err != nil {
					t.Fatal(err)
				}
				needle := blob[len(blob)/2 : len(blob)/2+64]
				off = bytes.Index(data, needle)
				if off < 0 || bytes.LastIndex(data, needle) != off {
					t.Fatalf("blob %s: its bytes are not found exactly once in the uncompressed archive", victim)
				}
				t.Logf("flipping byte %d of %d (inside blob %s)", off, len(data), victim)
			} else {
				off = len(data) / 2
				t.Logf("flipping byte %d of %d (middle of the zstd archive)", off, len(data))
			}
			data[off] ^= 0xff
			if err := os.WriteFile(arch, data, 0o600); err != nil {
				t.Fatal(err)
			}

			_, stderr := expectExit(t, 3, "verify", arch)
			t.Logf("verify: %s", errorLine(t, stderr))

			// The target: an older healthy restore, served by a registry.
			target := filepath.Join(dir, "root")
			mustRegbackup(t, 0, "restore", oldArchive, "--to", target, "-q")
			r := StartRegistry(t, V3, target)
			before := servedDigests(t, r, reg1)
			for _, im := range reg1.Tags {
				if d := before[im.Repo+":"+im.Tag]; d != im.Digest {
					t.Fatalf("older restore: %s:%s serves %q, want %s", im.Repo, im.Tag, d, im.Digest)
				}
			}
			linksBefore := linkFiles(t, target)
			if len(linksBefore) == 0 {
				t.Fatal("older restore wrote no link files")
			}

			_, stderr = expectExit(t, 3, "restore", arch, "--to", target)
			t.Logf("restore: %s", errorLine(t, stderr))

			compareLinks(t, "restore of a corrupt archive", linksBefore, linkFiles(t, target))
			checkBlobsIntact(t, target)
			if p := filepath.Join(target, filepath.FromSlash(sample.BlobPath(victim))); comp == "none" && exists(p) {
				// checkBlobsIntact already verified its content; say so.
				t.Logf("blob %s is present in the target with its correct content", victim)
			}
			if left := tempFilesUnder(t, target); len(left) > 0 {
				t.Errorf("temp files left in the target: %v", left)
			}

			r.Restart(t)
			after := servedDigests(t, r, reg1)
			for ref, d := range before {
				if after[ref] != d {
					t.Errorf("after the failed restore %s serves %q, before it served %s", ref, after[ref], d)
				}
			}
		})
	}
}

// ---------------------------------------------------------------------------
// 2. Truncated archives.

// TestTruncatedArchive: an archive cut short (at half its length, and 10
// bytes before its end), compressed or not, fails verify and restore with
// exit 3 and a one-line error saying it is truncated or incomplete, and a
// restore into an empty root writes no link file (and no half blob).
func TestTruncatedArchive(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "src")
	genTree(t, src, sample.Options{Seed: 3})
	truncRE := regexp.MustCompile(`(?i)truncated|incomplete`)
	for _, comp := range []string{"zstd", "none"} {
		full := filepath.Join(base, "full-"+comp+".tar")
		mustRegbackup(t, 0, "backup", "--from", src, "-o", full, "--compression", comp, "-q")
		data, err := os.ReadFile(full)
		if err != nil {
			t.Fatal(err)
		}
		for _, cut := range []struct {
			name string
			size int
		}{{"half", len(data) / 2}, {"minus10", len(data) - 10}} {
			t.Run(comp+"/"+cut.name, func(t *testing.T) {
				dir := t.TempDir()
				arch := filepath.Join(dir, "cut.tar")
				if err := os.WriteFile(arch, data[:cut.size], 0o600); err != nil {
					t.Fatal(err)
				}
				_, stderr := expectExit(t, 3, "verify", arch)
				if l := errorLine(t, stderr); !truncRE.MatchString(l) {
					t.Errorf("verify of an archive cut to %d of %d bytes: error does not say truncated or incomplete: %q", cut.size, len(data), l)
				}
				root := filepath.Join(dir, "root")
				_, stderr = expectExit(t, 3, "restore", arch, "--to", root)
				if l := errorLine(t, stderr); !truncRE.MatchString(l) {
					t.Errorf("restore of an archive cut to %d of %d bytes: error does not say truncated or incomplete: %q", cut.size, len(data), l)
				}
				if links := linkFiles(t, root); len(links) > 0 {
					t.Errorf("restore of a truncated archive wrote %d link files into an empty root", len(links))
				}
				checkOnlyIntactBlobs(t, root)
			})
		}
	}
}

// ---------------------------------------------------------------------------
// 3. Hostile archives.

type hostileEntry struct {
	hdr  tar.Header
	body []byte
}

// writeHostile writes an uncompressed tar whose first entry is a
// valid-looking catalog planning blobs, followed by entries.
func writeHostile(t testing.TB, file string, blobs []archive.Blob, entries []hostileEntry) {
	t.Helper()
	cat, err := json.Marshal(archive.Catalog{Format: archive.FormatVersion, Source: "file:///var/lib/registry",
		Created: time.Now().UTC(), Blobs: blobs})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	all := append([]hostileEntry{{hdr: tar.Header{Typeflag: tar.TypeReg, Name: archive.CatalogName, Mode: 0o644}, body: cat}}, entries...)
	for _, e := range all {
		h := e.hdr
		h.Size = int64(len(e.body))
		if h.ModTime.IsZero() {
			h.ModTime = time.Now()
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatalf("tar header %q: %v", h.Name, err)
		}
		if _, err := tw.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// treeState lists every path below dir (except skip, a direct child) with
// its type, size and mtime, to prove nothing changed there.
func treeState(t testing.TB, dir, skip string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == skip {
			return filepath.SkipDir
		}
		fi, err := de.Info()
		if err != nil {
			return err
		}
		out[rel] = fmt.Sprintf("%s %d %s", fi.Mode(), fi.Size(), fi.ModTime().Format(time.RFC3339Nano))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestHostileArchive: hand-built archives whose entries try to write outside
// the restore target (parent-relative and absolute names, a symlink over the
// blobs folder, a hardlink, a name outside both allowed trees) fail restore
// (and verify) with exit 3 and an error naming the entry; nothing is written
// outside --to, and inside it nothing but intact blobs.
func TestHostileArchive(t *testing.T) {
	goodBody := []byte("a harmless, valid blob that precedes the hostile entry\n")
	good := archive.Blob{Digest: "sha256:" + hex.EncodeToString(sha256Sum(goodBody)), Size: int64(len(goodBody))}
	goodEntry := hostileEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: archive.BlobPath(good.Digest), Mode: 0o644}, body: goodBody}

	type tc struct {
		name string
		// build returns the entries after the catalog, the entry name the
		// error must quote, and the would-be paths that must not exist.
		build func(base, to string) (entries []hostileEntry, blobs []archive.Blob, named string, mustNotExist []string)
		// check runs extra checks after the restore.
		check func(t *testing.T, base, to string)
	}
	evil := uniqueName("regbackup-evil")
	outsideFile := "outside-secret"
	outsideDir := "outside-dir"
	cases := []tc{
		{
			name: "dotdot-inside-registry-tree",
			build: func(base, to string) ([]hostileEntry, []archive.Blob, string, []string) {
				n := "docker/registry/v2/../../../../tmp/" + evil
				return []hostileEntry{goodEntry, {hdr: tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o644}, body: []byte("evil\n")}},
					[]archive.Blob{good}, n,
					[]string{filepath.Join(to, filepath.FromSlash(n)), filepath.Join(base, "tmp", evil), filepath.Join("/tmp", evil)}
			},
		},
		{
			name: "absolute",
			build: func(base, to string) ([]hostileEntry, []archive.Blob, string, []string) {
				n := "/etc/" + evil
				return []hostileEntry{goodEntry, {hdr: tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o644}, body: []byte("evil\n")}},
					[]archive.Blob{good}, n, []string{n, filepath.Join(to, "etc")}
			},
		},
		{
			name: "parent-relative",
			build: func(base, to string) ([]hostileEntry, []archive.Blob, string, []string) {
				n := "../" + evil
				return []hostileEntry{goodEntry, {hdr: tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o644}, body: []byte("evil\n")}},
					[]archive.Blob{good}, n, []string{filepath.Join(base, evil)}
			},
		},
		{
			name: "symlink-over-blobs",
			build: func(base, to string) ([]hostileEntry, []archive.Blob, string, []string) {
				n := "docker/registry/v2/blobs"
				// The symlink first, then a blob that would land through it.
				return []hostileEntry{
						{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: n, Linkname: filepath.Join(base, outsideDir), Mode: 0o777}},
						goodEntry,
					}, []archive.Blob{good}, n,
					[]string{filepath.Join(base, outsideDir, "sha256")}
			},
			check: func(t *testing.T, base, to string) {
				if fi, err := os.Lstat(filepath.Join(to, "docker/registry/v2/blobs")); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
					t.Errorf("restore created the symlink docker/registry/v2/blobs")
				}
				if ents, _ := os.ReadDir(filepath.Join(base, outsideDir)); len(ents) > 0 {
					t.Errorf("restore wrote into the symlink's target %s: %v", filepath.Join(base, outsideDir), ents)
				}
			},
		},
		{
			name: "hardlink",
			build: func(base, to string) ([]hostileEntry, []archive.Blob, string, []string) {
				n := "docker/registry/v2/repositories/evil/_layers/sha256/" + strings.TrimPrefix(good.Digest, "sha256:") + "/link"
				return []hostileEntry{goodEntry, {hdr: tar.Header{Typeflag: tar.TypeLink, Name: n, Linkname: filepath.Join(base, outsideFile), Mode: 0o644}}},
					[]archive.Blob{good}, n, []string{filepath.Join(to, filepath.FromSlash(n))}
			},
			check: func(t *testing.T, base, to string) {
				p := filepath.Join(base, outsideFile)
				b, err := os.ReadFile(p)
				if err != nil || string(b) != "secret\n" {
					t.Errorf("%s changed: %q, %v", p, b, err)
				}
				var st syscall.Stat_t
				if err := syscall.Stat(p, &st); err == nil && st.Nlink != 1 {
					t.Errorf("%s now has %d hard links", p, st.Nlink)
				}
			},
		},
		{
			name: "outside-both-trees",
			build: func(base, to string) ([]hostileEntry, []archive.Blob, string, []string) {
				n := "etc/cron.d/" + evil
				return []hostileEntry{goodEntry, {hdr: tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o644}, body: []byte("* * * * * root evil\n")}},
					[]archive.Blob{good}, n, []string{filepath.Join(to, "etc"), filepath.Join("/etc/cron.d", evil)}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base := t.TempDir()
			to := filepath.Join(base, "to")
			if err := os.MkdirAll(to, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(base, outsideFile), []byte("secret\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(base, outsideDir), 0o755); err != nil {
				t.Fatal(err)
			}
			arch := filepath.Join(base, "hostile.tar")
			entries, blobs, named, mustNot := c.build(base, to)
			writeHostile(t, arch, blobs, entries)
			outside := treeState(t, base, "to")

			_, stderr := expectExit(t, 3, "verify", arch)
			if l := errorLine(t, stderr); !strings.Contains(l, named) {
				t.Errorf("verify error does not name the entry %q: %q", named, l)
			}
			_, stderr = expectExit(t, 3, "restore", arch, "--to", to)
			if l := errorLine(t, stderr); !strings.Contains(l, named) {
				t.Errorf("restore error does not name the entry %q: %q", named, l)
			}

			for _, p := range mustNot {
				if exists(p) {
					t.Errorf("restore of a hostile archive created %s", p)
					if strings.Contains(p, evil) {
						os.Remove(p)
					}
				}
			}
			after := treeState(t, base, "to")
			for p, s := range after {
				if outside[p] != s {
					t.Errorf("outside --to: %s was created or changed", filepath.Join(base, p))
				}
			}
			for p := range outside {
				if _, ok := after[p]; !ok {
					t.Errorf("outside --to: %s was removed", filepath.Join(base, p))
				}
			}
			// Inside --to: nothing but verified blobs.
			walkFiles(t, to, func(rel string, fi fs.FileInfo) {
				if p := archive.ParsePath(rel); p.Kind != archive.KindBlob || !fi.Mode().IsRegular() {
					t.Errorf("restore of a hostile archive left %s (%s) in --to", rel, fi.Mode().Type())
				} else if got := fileDigest(t, filepath.Join(to, rel)); got != p.Digest {
					t.Errorf("restore committed %s with content hashing to %s", rel, got)
				}
			})
			if c.check != nil {
				c.check(t, base, to)
			}
		})
	}
}

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

// ---------------------------------------------------------------------------
// 4. Archive arguments that are not archives.

// TestBadArchiveArgument: a missing archive file or a folder given as the
// archive exits 1 with a message naming it; a tar of files that are no
// registry or a file that is no tar at all exits 3 with "not a regbackup
// archive", and writes nothing into the restore target. A plain `tar -c` of
// a registry tree (compressed or not) is a registry tarball: it verifies and
// restores the same files.
func TestBadArchiveArgument(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "src")
	genTree(t, src, sample.Options{Seed: 4})

	t.Run("missing-file", func(t *testing.T) {
		dir := t.TempDir()
		missingArch := filepath.Join(dir, "no-such-backup.tar.zst")
		to := filepath.Join(dir, "root")
		if err := os.Mkdir(to, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{
			{"verify", missingArch},
			{"list", missingArch},
			{"restore", missingArch, "--to", to},
		} {
			_, stderr := expectExit(t, 1, args...)
			if l := errorLine(t, stderr); !strings.Contains(l, missingArch) {
				t.Errorf("%s: error does not name the missing file %s: %q", args[0], missingArch, l)
			}
		}
		checkOnlyIntactBlobs(t, to) // nothing at all
	})

	// A mistyped archive name must not leave a new, root-owned storage
	// root behind, which a later restore would then use as it is.
	t.Run("missing-file-does-not-create-target", func(t *testing.T) {
		dir := t.TempDir()
		to := filepath.Join(dir, "new-root")
		expectExit(t, 1, "restore", filepath.Join(dir, "no-such-backup.tar.zst"), "--to", to)
		if exists(to) {
			t.Errorf("restore of a missing archive created the target folder %s", to)
		}
	})

	t.Run("folder", func(t *testing.T) {
		dir := t.TempDir()
		folder := filepath.Join(dir, "backups")
		if err := os.Mkdir(folder, 0o755); err != nil {
			t.Fatal(err)
		}
		to := filepath.Join(dir, "root")
		if err := os.Mkdir(to, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{
			{"verify", folder},
			{"list", folder},
			{"restore", folder, "--to", to},
		} {
			_, stderr := expectExit(t, 1, args...)
			if l := errorLine(t, stderr); !strings.Contains(l, folder) {
				t.Errorf("%s: error does not name the folder %s: %q", args[0], folder, l)
			}
		}
		checkOnlyIntactBlobs(t, to)
	})

	tarBin := tool(t, "tar")
	plain := func(t *testing.T, name string, extra ...string) string {
		p := filepath.Join(t.TempDir(), name)
		args := append(append([]string{"-C", src}, extra...), "-cf", p, "docker")
		if out, err := runCmd(tarBin, args...); err != nil {
			t.Fatalf("tar %v: %v\n%s", args, err, out)
		}
		return p
	}
	// A plain tar of a registry tree is a registry tarball as GitLab's
	// backup writes it (COMPRESS_CMD may be none or gzip): it is read with
	// every digest checked, and restores the same files.
	for _, c := range []struct{ name, file, flag string }{
		{"plain-tar", "registry.tar", ""},
		{"plain-tar-gz", "registry.tar.gz", "-z"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var arch string
			if c.flag == "" {
				arch = plain(t, c.file)
			} else {
				arch = plain(t, c.file, c.flag)
			}
			expectExit(t, 0, "verify", arch)
			to := filepath.Join(t.TempDir(), "root")
			if err := os.Mkdir(to, 0o755); err != nil {
				t.Fatal(err)
			}
			expectExit(t, 0, "restore", arch, "--to", to)
			want, got := fileDigests(t, src), fileDigests(t, to)
			maps.DeleteFunc(want, func(rel, _ string) bool { return strings.Contains(rel, "/_uploads/") })
			if len(want) == 0 || !maps.Equal(want, got) {
				t.Errorf("restore of a plain registry tarball: %d files with their content, want the source's %d (its _uploads/ aside)", len(got), len(want))
				for rel := range want {
					if got[rel] != want[rel] {
						t.Logf("differs or missing: %s", rel)
					}
				}
			}
		})
	}
	otherTar := func(t *testing.T) string {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "etc", "a.conf"), []byte("not a registry\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "etc.tar")
		if out, err := runCmd(tarBin, "-C", dir, "-cf", p, "etc"); err != nil {
			t.Fatalf("tar: %v\n%s", err, out)
		}
		return p
	}
	for _, c := range []struct {
		name string
		make func(t *testing.T) string
	}{
		{"tar-of-other-files", otherTar},
		{"not-a-tar", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "notes.txt")
			if err := os.WriteFile(p, bytes.Repeat([]byte("this is not an archive\n"), 100), 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			arch := c.make(t)
			to := filepath.Join(t.TempDir(), "root")
			if err := os.Mkdir(to, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{
				{"verify", arch},
				{"list", arch},
				{"restore", arch, "--to", to},
			} {
				_, stderr := expectExit(t, 3, args...)
				if l := errorLine(t, stderr); !strings.Contains(l, "not a regbackup archive") {
					t.Errorf("%s: error does not say \"not a regbackup archive\": %q", args[0], l)
				}
			}
			walkFiles(t, to, func(rel string, fi fs.FileInfo) {
				t.Errorf("restore of a non-regbackup archive wrote %s", rel)
			})
			// A target that does not exist yet is not created for it.
			fresh := filepath.Join(t.TempDir(), "fresh-root")
			expectExit(t, 3, "restore", arch, "--to", fresh)
			if exists(fresh) {
				t.Errorf("restore of a non-regbackup archive created the target %s", fresh)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// 5. Damaged link files in the source.

// TestSourceDamagedLinks: link files the registry itself would answer HTTP
// 500 for (empty, or with a trailing newline) make backup exit 3 naming each
// path, yet the archive verifies and restores, and holds no malformed link:
// a _layers or revisions link (whose digest is in its path) and a tag link
// with a trailing newline are repaired, an empty tag link is left out.
func TestSourceDamagedLinks(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "src")
	reg := genTree(t, src, sample.Options{Seed: 5})

	beta := findTag(t, reg, "team/beta", "v1")
	_, layers := manifestLayers(t, src, beta.Digest)
	app := findTag(t, reg, "group/sub/app", "stable")

	type damaged struct {
		path    string
		content string
		want    string // digest the archive must hold; "" = left out
	}
	cases := []damaged{
		{sample.LayerLinkPath("team/beta", layers[len(layers)-1]), layers[len(layers)-1] + "\n", layers[len(layers)-1]},
		{sample.RevisionLinkPath("team/beta", beta.Digest), "", beta.Digest},
		{sample.TagCurrentLinkPath("group/sub/app", "stable"), app.Digest + "\n", app.Digest},
		{sample.TagCurrentLinkPath("alpha/tools", "latest"), "", ""},
	}
	for _, c := range cases {
		if !exists(filepath.Join(src, filepath.FromSlash(c.path))) {
			t.Fatalf("sample has no link %s", c.path)
		}
		if err := os.WriteFile(filepath.Join(src, filepath.FromSlash(c.path)), []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	arch := filepath.Join(base, "damaged.tar.zst")
	_, stderr := expectExit(t, 3, "backup", "--from", src, "-o", arch)
	for _, c := range cases {
		if !strings.Contains(stderr, c.path) {
			t.Errorf("backup stderr does not name the damaged link %s", c.path)
		}
	}
	if !exists(arch) {
		t.Fatalf("backup of a damaged source left no archive at %s", arch)
	}
	expectExit(t, 0, "verify", arch)

	links, _, _ := archiveContent(t, arch)
	for name, d := range links {
		if _, err := archive.ParseLink([]byte(d)); err != nil {
			t.Errorf("archive holds a malformed link %s: %v", name, err)
		}
		if p := archive.ParsePath(name); p.Digest != "" && p.Digest != d {
			t.Errorf("archive link %s holds %s, its path names %s", name, d, p.Digest)
		}
	}
	for _, c := range cases {
		got, ok := links[c.path]
		switch {
		case c.want == "" && ok:
			t.Errorf("archive holds %s = %q; the empty tag link should be left out", c.path, got)
		case c.want != "" && got != c.want:
			t.Errorf("archive link %s = %q, want it repaired to %s", c.path, got, c.want)
		}
	}

	root := filepath.Join(base, "root")
	expectExit(t, 0, "restore", arch, "--to", root)
	restored := linkFiles(t, root)
	for p, s := range restored {
		if _, err := archive.ParseLink([]byte(s.content)); err != nil {
			t.Errorf("restore wrote a malformed link %s: %v", p, err)
		}
	}
	for _, c := range cases {
		s, ok := restored[c.path]
		switch {
		case c.want == "" && ok:
			t.Errorf("restore wrote %s = %q; the empty tag link should be left out", c.path, s.content)
		case c.want != "" && s.content != c.want:
			t.Errorf("restored link %s = %q, want %s", c.path, s.content, c.want)
		}
	}
	checkBlobsIntact(t, root)
}

// ---------------------------------------------------------------------------
// 6. A corrupt blob in the source (the vanishing blob is a unit test in
// backup/vanish_test.go).

// TestSourceCorruptBlob: a layer blob whose content no longer matches its
// digest makes backup exit 3; the archive still verifies, and a restore of
// it does not commit that blob and writes no link to it.
func TestSourceCorruptBlob(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "src")
	victim := corruptToolsLayer(t, src)

	arch := filepath.Join(base, "corrupt-src.tar.zst")
	_, stderr := expectExit(t, 3, "backup", "--from", src, "-o", arch)
	if !strings.Contains(stderr, strings.TrimPrefix(victim, "sha256:")) {
		t.Errorf("backup stderr does not name the corrupt blob %s:\n%s", victim, stderr)
	}
	if !exists(arch) {
		t.Fatalf("backup of a damaged source left no archive at %s", arch)
	}
	expectExit(t, 0, "verify", arch)
	links, _, tr := archiveContent(t, arch)
	for name, d := range links {
		if d == victim || archive.ParsePath(name).Digest == victim {
			t.Errorf("archive holds link %s -> %s, the corrupt blob", name, d)
		}
	}
	if tr != nil {
		listed := false
		for _, x := range append(append([]archive.Exclusion{}, tr.Corrupt...), tr.Missing...) {
			listed = listed || x.Digest == victim
		}
		if !listed {
			t.Errorf("trailer lists %s neither as corrupt nor as missing: %+v", victim, tr)
		}
	}

	root := filepath.Join(base, "root")
	expectExit(t, 0, "restore", arch, "--to", root)
	if p := filepath.Join(root, filepath.FromSlash(sample.BlobPath(victim))); exists(p) {
		t.Errorf("restore committed the corrupt blob %s", p)
	}
	hex := strings.TrimPrefix(victim, "sha256:")
	var names []string
	for p, s := range linkFiles(t, root) {
		if s.content == victim || strings.Contains(p, hex) {
			names = append(names, p)
		}
	}
	sort.Strings(names)
	if len(names) > 0 {
		t.Errorf("restore wrote links to the corrupt blob %s: %v", victim, names)
	}
	checkBlobsIntact(t, root)
}

// checkLocationError asserts what a user sees when a storage location is
// unusable (wrong credentials, missing bucket, closed port): exit 1 within
// maxTook, exactly one error line that names the location's scheme and says
// want, no stack trace, and none of the secrets anywhere in the output.
func checkLocationError(t testing.TB, scheme, want string, stdout, stderr string, code int, took, maxTook time.Duration, secrets ...string) {
	t.Helper()
	if code != 1 {
		t.Errorf("exit %d, want 1\n%s", code, stderr)
	}
	if took > maxTook {
		t.Errorf("took %s to fail, want %s at most", took.Round(time.Millisecond), maxTook)
	}
	if ls := strings.Split(strings.TrimSpace(stderr), "\n"); len(ls) != 1 {
		t.Errorf("stderr has %d lines, want exactly one:\n%s", len(ls), stderr)
	}
	line := errorLine(t, stderr)
	if !strings.Contains(line, scheme) || !strings.Contains(line, want) {
		t.Errorf("error line %q should name the %s location and say %q", line, scheme, want)
	}
	for _, bad := range append([]string{"goroutine ", "panic", ".go:"}, secrets...) {
		if strings.Contains(stdout+stderr, bad) {
			t.Errorf("output contains %q:\n%s", bad, stderr)
		}
	}
}

// fileDigests maps each regular file below root to the sha256 of its content.
func fileDigests(t testing.TB, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	walkFiles(t, root, func(rel string, fi fs.FileInfo) {
		if !fi.Mode().IsRegular() {
			return
		}
		b, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		out[rel] = hex.EncodeToString(sum[:])
	})
	return out
}
