package integration

import (
	"archive/tar"
	"debug/elf"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestImage: the image `make image` writes (here for this machine's
// platform, from the static binary the tests use) is pushed to a real
// registry with crane; pulled back, its filesystem holds the binary and a
// CA bundle, its entrypoint is the binary, and the binary run from the
// extracted filesystem works.
func TestImage(t *testing.T) {
	bin := regbackupBinary(t)
	e, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range e.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatalf("%s is dynamically linked (it has an ELF interpreter): the image needs a static binary", bin)
		}
	}
	e.Close()
	dist := t.TempDir()
	platform := "linux/" + runtime.GOARCH
	cmd := exec.Command("go", "run", ".", "-o", dist, "-version", "test", platform+"="+bin)
	cmd.Dir = filepath.Join(repoRoot(t), "integration", "image")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mkimage: %v\n%s", err, out)
	}
	r := StartRegistry(t, V3, filepath.Join(t.TempDir(), "registry"))
	ref := r.Ref("regbackup:test")
	crane(t, "push", filepath.Join(dist, "regbackup-image-linux-"+runtime.GOARCH+".tar"), ref)
	crane(t, "push", "--index", filepath.Join(dist, "regbackup-image"), r.Ref("regbackup:index"))

	var cfg struct {
		Architecture string `json:"architecture"`
		Config       struct {
			Entrypoint []string `json:"Entrypoint"`
			User       string   `json:"User"`
		} `json:"config"`
	}
	if err := json.Unmarshal([]byte(crane(t, "config", ref)), &cfg); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Config.Entrypoint, []string{"/regbackup"}) || cfg.Architecture != runtime.GOARCH {
		t.Errorf("image config: entrypoint %v, architecture %s; want [/regbackup], %s", cfg.Config.Entrypoint, cfg.Architecture, runtime.GOARCH)
	}
	if idx := crane(t, "manifest", r.Ref("regbackup:index")); !strings.Contains(idx, `"architecture":"`+runtime.GOARCH+`"`) {
		t.Errorf("the pushed index names no %s image:\n%s", runtime.GOARCH, idx)
	}

	fsTar := filepath.Join(t.TempDir(), "fs.tar")
	crane(t, "export", ref, fsTar)
	root := t.TempDir()
	extract(t, fsTar, root)
	for _, f := range []string{"regbackup", "etc/ssl/certs/ca-certificates.crt"} {
		if st, err := os.Stat(filepath.Join(root, f)); err != nil || st.Size() == 0 {
			t.Errorf("the image's filesystem lacks /%s: %v", f, err)
		}
	}
	if st, err := os.Stat(filepath.Join(root, "tmp")); err != nil || !st.IsDir() {
		t.Errorf("the image has no /tmp: %v", err)
	}
	out, err := exec.Command(filepath.Join(root, cfg.Config.Entrypoint[0]), "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "regbackup version") {
		t.Errorf("the entrypoint from the image: %v\n%s", err, out)
	}
	// The entrypoint does real work from the extracted filesystem.
	sample := filepath.Join(t.TempDir(), "reg")
	if out, err := exec.Command(filepath.Join(root, "regbackup"), "check", "--from", sample).CombinedOutput(); err == nil ||
		!strings.Contains(string(out), "regbackup:") {
		t.Errorf("the image's regbackup check of a missing folder: %v\n%s", err, out)
	}
}

// extract unpacks the tar file into dir (regular files and folders).
func extract(t testing.TB, file, dir string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.Clean("/"+h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			os.MkdirAll(p, 0o755)
		case tar.TypeReg:
			os.MkdirAll(filepath.Dir(p), 0o755)
			w, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o777)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(w, tr); err != nil {
				t.Fatal(err)
			}
			w.Close()
		}
	}
}
