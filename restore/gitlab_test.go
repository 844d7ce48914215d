package restore

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/inmemory"
	"github.com/regbackup/regbackup/gitlabbackup"
)

// glTarball is a registry.tar.gz of two repositories, link files before
// the blobs (as a file system may list them), with flip applied to the
// content of the blob named by flip's key.
func glTarball(t *testing.T, flip string) []byte {
	t.Helper()
	hexOf := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	var entries [][2]string
	link := func(repo, rel, body string) {
		entries = append(entries, [2]string{"./docker/registry/v2/repositories/" + repo + "/" + strings.ReplaceAll(rel, "HEX", hexOf(body)), "sha256:" + hexOf(body)})
	}
	for _, repo := range []string{"a", "b"} {
		m, l := "manifest of "+repo, "layer of "+repo
		link(repo, "_manifests/tags/v1/current/link", m)
		link(repo, "_manifests/tags/v1/index/sha256/HEX/link", m)
		link(repo, "_manifests/revisions/sha256/HEX/link", m)
		link(repo, "_layers/sha256/HEX/link", l)
	}
	for _, b := range []string{"manifest of a", "layer of a", "manifest of b", "layer of b"} {
		content := b
		if b == flip {
			content = strings.ToUpper(b)
		}
		h := hexOf(b)
		entries = append(entries, [2]string{"./docker/registry/v2/blobs/sha256/" + h[:2] + "/" + h + "/data", content})
	}
	var out bytes.Buffer
	gz := gzip.NewWriter(&out)
	tw := tar.NewWriter(gz)
	tw.WriteHeader(&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755})
	for _, e := range entries {
		tw.WriteHeader(&tar.Header{Name: e[0], Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(e[1]))})
		io.WriteString(tw, e[1])
	}
	tw.Close()
	gz.Close()
	return out.Bytes()
}

func restoreGL(t *testing.T, data []byte, d drivers.Driver, opts Options) (*Report, error) {
	t.Helper()
	gr, err := gitlabbackup.Open(bytes.NewReader(data), gitlabbackup.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer gr.Close()
	return RestoreGitLab(t.Context(), gr, d, opts)
}

func glFiles(t *testing.T, d drivers.Driver) (blobs, links int) {
	t.Helper()
	d.Walk(t.Context(), "", func(fi drivers.FileInfo) error {
		switch p := archive.ParsePath(fi.Path); {
		case p.Kind == archive.KindBlob:
			blobs++
		case p.Kind.IsLink():
			links++
		}
		return nil
	})
	return blobs, links
}

func TestRestoreGitLab(t *testing.T) {
	old := gitlabSpoolLinks
	gitlabSpoolLinks = 3 // spill to disk
	defer func() { gitlabSpoolLinks = old }()

	d := inmemory.New()
	rep, err := restoreGL(t, glTarball(t, ""), d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b, l := glFiles(t, d); b != 4 || l != 8 || rep.Links != 8 || rep.Blobs != 4 || rep.Tags != 2 || rep.Repositories != 2 {
		t.Errorf("%d blobs, %d links written; report %+v", b, l, rep)
	}

	// A flipped byte: no link at all, exit-3 error naming the repository.
	d = inmemory.New()
	_, err = restoreGL(t, glTarball(t, "layer of b"), d, Options{})
	if !errors.Is(err, archive.ErrDigestMismatch) || !strings.Contains(err.Error(), "linked from b") {
		t.Fatalf("got %v", err)
	}
	if _, l := glFiles(t, d); l != 0 {
		t.Errorf("%d link files written after a digest mismatch", l)
	}

	// --repository: only a's blobs stay, only a's links are written.
	d = inmemory.New()
	var changes []string
	rep, err = restoreGL(t, glTarball(t, ""), d, Options{Repositories: []string{"a"},
		Change: func(action, p string) { changes = append(changes, action+" "+p) }})
	if err != nil {
		t.Fatal(err)
	}
	if b, l := glFiles(t, d); b != 2 || l != 4 || rep.Blobs != 2 || rep.Repositories != 1 {
		t.Errorf("--repository a: %d blobs, %d links; report %+v", b, l, rep)
	}
	if len(changes) != 6 {
		t.Errorf("changes reported: %v", changes)
	}

	// --dry-run writes nothing.
	d = inmemory.New()
	if _, err := restoreGL(t, glTarball(t, ""), d, Options{DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if b, l := glFiles(t, d); b+l != 0 {
		t.Errorf("dry run wrote %d blobs, %d links", b, l)
	}

	// No repository matches.
	if _, err := restoreGL(t, glTarball(t, ""), inmemory.New(), Options{Repositories: []string{"zzz"}}); err == nil ||
		!strings.Contains(err.Error(), "no repository") {
		t.Errorf("got %v", err)
	}
}
