package gitlabbackup

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/archive"
)

// readAll reads every entry, returning blobs read intact and link names.
func readAll(t testing.TB, r *Reader) (blobs, links []string, err error) {
	t.Helper()
	for {
		e, err := r.Next()
		if err == io.EOF {
			return blobs, links, nil
		}
		if err != nil {
			return blobs, links, err
		}
		if e.Path.Kind == archive.KindBlob {
			if _, err := io.ReadAll(e.Body); err == nil {
				blobs = append(blobs, e.Path.Digest)
			}
		} else {
			links = append(links, e.Name)
		}
	}
}

func TestReadForms(t *testing.T) {
	entries, cfg, layer, manifest := sample(t)
	inner := makeTar(t, entries...)
	for _, c := range []struct {
		name string
		data []byte
		form Form
		comp archive.Compression
		info bool
	}{
		{"registry.tar.gz", gz(t, inner), FormRegistry, archive.Gzip, false},
		{"registry tarball in zstd", zst(t, inner), FormRegistry, archive.Zstd, false},
		{"plain registry tar", inner, FormRegistry, archive.None, false},
		{"outer, information first", outerTar(t, true, gz(t, inner)), FormBackup, archive.Gzip, true},
		{"outer, information last", outerTar(t, false, gz(t, inner)), FormBackup, archive.Gzip, true},
		{"outer, zstd inside", outerTar(t, true, zst(t, inner)), FormBackup, archive.Zstd, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := Open(bytes.NewReader(c.data), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			blobs, links, err := readAll(t, r)
			if err != nil {
				t.Fatal(err)
			}
			if r.Form() != c.form || r.Compression() != c.comp {
				t.Errorf("form %q compression %q, want %q %q", r.Form(), r.Compression(), c.form, c.comp)
			}
			want := []string{"sha256:" + sha(layer), "sha256:" + sha(cfg), "sha256:" + sha(manifest)}
			if !slices.Equal(blobs, want) {
				t.Errorf("blobs %v, want %v", blobs, want)
			}
			for _, d := range want {
				if !r.Held(d) {
					t.Errorf("Held(%s) = false", d)
				}
			}
			if len(links) != 4 || !strings.HasSuffix(links[0], "/tags/v1/current/link") || strings.HasPrefix(links[0], "./") {
				t.Errorf("links %v", links)
			}
			st := r.Stats()
			if st.Uploads != 2 || st.Stray != 1 || st.Links != 4 || st.Blobs != 3 {
				t.Errorf("stats %+v", st)
			}
			if got := r.Info() != nil; got != c.info {
				t.Fatalf("info read: %v, want %v", got, c.info)
			}
			if c.info && (r.Info().GitLabVersion != "18.6.1" || !strings.HasPrefix(r.Info().CreatedAt, "2026-12-01 18:15:03")) {
				t.Errorf("info %+v", r.Info())
			}
		})
	}
}

func TestFolder(t *testing.T) {
	entries, _, _, _ := sample(t)
	d := t.TempDir()
	os.WriteFile(filepath.Join(d, InfoName), []byte(infoYAML), 0o600)
	os.WriteFile(filepath.Join(d, RegistryPart), gz(t, makeTar(t, entries...)), 0o600)
	os.Mkdir(filepath.Join(d, "db"), 0o700)
	os.WriteFile(filepath.Join(d, DatabasePart), []byte("dump"), 0o600)
	var got string
	r, err := OpenFolder(d, Options{Database: func(p Part, body io.Reader) error {
		b, err := io.ReadAll(body)
		got = p.Name + "=" + string(b)
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	blobs, links, err := readAll(t, r)
	if err != nil || len(blobs) != 3 || len(links) != 4 {
		t.Fatalf("%d blobs, %d links, %v", len(blobs), len(links), err)
	}
	if r.Form() != FormFolder || r.Info() == nil || r.Database() == nil || got != DatabasePart+"=dump" {
		t.Errorf("form %q info %v database %v (%q)", r.Form(), r.Info(), r.Database(), got)
	}
}

func TestDatabasePartInStream(t *testing.T) {
	entries, _, _, _ := sample(t)
	data := outerTar(t, true, gz(t, makeTar(t, entries...)), file(DatabasePart, "registry dump"))
	var got string
	r, err := Open(bytes.NewReader(data), Options{Database: func(p Part, body io.Reader) error {
		b, err := io.ReadAll(body)
		got = string(b)
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := readAll(t, r); err != nil {
		t.Fatal(err)
	}
	if r.Database() == nil || r.Database().Size != 13 || got != "registry dump" {
		t.Errorf("database %+v, %q", r.Database(), got)
	}
}

func TestSkippedRegistry(t *testing.T) {
	info := strings.Replace(infoYAML, ":skipped: artifacts", ":skipped: artifacts,registry", 1)
	data := makeTar(t, file(InfoName, info), file("uploads.tar.gz", "x"))
	_, err := Open(bytes.NewReader(data), Options{})
	if !errors.Is(err, ErrRegistrySkipped) || !strings.Contains(err.Error(), "skipped: artifacts,registry") {
		t.Fatalf("got %v, want ErrRegistrySkipped naming the skipped parts", err)
	}
	// No registry part, information last (older GitLab): also clear.
	_, err = Open(bytes.NewReader(makeTar(t, file("uploads.tar.gz", "x"), file(InfoName, info))), Options{})
	if !errors.Is(err, ErrRegistrySkipped) || !strings.Contains(err.Error(), "without the container registry") {
		t.Fatalf("information last: got %v", err)
	}
}

func TestNotGitLab(t *testing.T) {
	for _, data := range [][]byte{
		makeTar(t, file(".regbackup/catalog.json", "{}")),
		makeTar(t, file("etc/passwd", "root")),
	} {
		if _, err := Open(bytes.NewReader(data), Options{}); !errors.Is(err, ErrNotGitLab) {
			t.Errorf("got %v, want ErrNotGitLab", err)
		}
	}
}

func TestHostileEntries(t *testing.T) {
	_, _, layer, _ := sample(t)
	for _, c := range []struct {
		name string
		e    tarEntry
	}{
		{"parent", file("./docker/registry/v2/../../../../etc/cron.d/x", "evil")},
		{"parent at start", file("../docker/registry/v2/blobs/x", "evil")},
		{"absolute", file("/etc/cron.d/x", "evil")},
		{"symlink", tarEntry{name: "./docker/registry/v2/repositories/a", typ: tar.TypeSymlink, linkname: "/etc"}},
		{"hardlink", tarEntry{name: "./docker/registry/v2/blobs/sha256/aa/x", typ: tar.TypeLink, linkname: "/etc/shadow"}},
		{"device", tarEntry{name: "./docker/registry/v2/null", typ: tar.TypeChar}},
		{"outside docker", file("./etc/passwd", "root")},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := gz(t, makeTar(t, dir("./"), blob(layer), c.e, layerLink("a", layer)))
			r, err := Open(bytes.NewReader(data), Options{})
			if err != nil {
				t.Fatal(err)
			}
			_, links, err := readAll(t, r)
			if !errors.Is(err, archive.ErrUnsafePath) {
				t.Fatalf("got %v, want ErrUnsafePath", err)
			}
			if len(links) != 0 {
				t.Errorf("links yielded after the hostile entry: %v", links)
			}
		})
	}
}

func TestLostFoundSkipped(t *testing.T) {
	_, _, layer, _ := sample(t)
	data := gz(t, makeTar(t, dir("./"), dir("./lost+found/"), file("./lost+found/#12", "x"),
		tarEntry{name: "./lost+found/dev", typ: tar.TypeChar}, blob(layer)))
	r, err := Open(bytes.NewReader(data), Options{})
	if err != nil {
		t.Fatal(err)
	}
	blobs, _, err := readAll(t, r)
	if err != nil || len(blobs) != 1 {
		t.Fatalf("%v, %v", blobs, err)
	}
	if n := r.Notes(); len(n) != 1 || !strings.Contains(n[0].Message, "lost+found") {
		t.Errorf("notes %+v", n)
	}
}

func TestDigestMismatchAndMalformedLinks(t *testing.T) {
	_, _, layer, manifest := sample(t)
	bad := blob(layer)
	bad.body = "layer bytEs"
	data := gz(t, makeTar(t,
		bad, blob(manifest),
		file("./docker/registry/v2/repositories/a/_manifests/tags/x/current/link", "sha256:"+sha(manifest)+"\n"),
		file("./docker/registry/v2/repositories/a/_layers/sha256/"+sha(layer)+"/link", "sha256:"+sha(manifest)),
		file("./docker/registry/v2/repositories/a/_manifests/tags/y/current/link", ""),
		revLink("a", manifest)))
	r, err := Open(bytes.NewReader(data), Options{})
	if err != nil {
		t.Fatal(err)
	}
	blobs, links, err := readAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(blobs) != 1 || r.Held("sha256:"+sha(layer)) || !r.Held("sha256:"+sha(manifest)) {
		t.Errorf("blobs %v", blobs)
	}
	if m := r.Mismatches(); len(m) != 1 || m[0].Want != "sha256:"+sha(layer) {
		t.Errorf("mismatches %v", m)
	}
	if len(links) != 1 {
		t.Errorf("links %v, want only the revision link", links)
	}
	damage := 0
	for _, n := range r.Notes() {
		if n.Damage {
			damage++
		}
	}
	if damage != 3 {
		t.Errorf("notes %+v, want 3 damaged links", r.Notes())
	}
}

func TestTruncated(t *testing.T) {
	entries, _, _, _ := sample(t)
	data := gz(t, makeTar(t, entries...))
	for _, n := range []int{len(data) / 2, len(data) - 4} {
		r, err := Open(bytes.NewReader(data[:n]), Options{})
		if err != nil {
			continue
		}
		if _, _, err := readAll(t, r); !errors.Is(err, archive.ErrIncomplete) && !errors.Is(err, archive.ErrCorrupt) {
			t.Errorf("cut at %d of %d: got %v, want incomplete or corrupt", n, len(data), err)
		}
	}
}

func TestParseInfo(t *testing.T) {
	i, err := ParseInfo([]byte("---\n:gitlab_version: '18.6.1-ee'\n:skipped: registry, lfs\n:repositories_storages:\n- default\n"))
	if err != nil {
		t.Fatal(err)
	}
	if i.GitLabVersion != "18.6.1-ee" || !i.SkippedPart("registry") || !i.SkippedPart("lfs") {
		t.Errorf("%+v", i)
	}
	if _, err := ParseInfo([]byte("\n\n")); err == nil {
		t.Error("empty information accepted")
	}
}
