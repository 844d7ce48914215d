// Command mkimage writes regbackup's OCI image without a container engine
// (`make image` runs it): the static binary as /regbackup, the entrypoint,
// on an empty base with a CA bundle and an empty /tmp, for each Linux
// platform given. It writes into the output folder
//
//	regbackup-image-linux-ARCH.tar  one image per platform, a tarball for
//	                                `crane push FILE REF` (or docker load)
//	regbackup-image/                an OCI image layout holding the index of
//	                                all of them: `crane push --index DIR REF`
//
// Every file has the same time and owner (root), and the layers are
// written the same way each time, so the same binaries give the same
// digests. The image runs as root by default: a restore sets the owners of
// what it writes. It is a module of its own so that the main module does
// not carry go-containerregistry.
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// epoch is every file's and the config's time: 2000-01-01, not the build
// time, so that builds of the same binary are the same image.
var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	out := flag.String("o", "dist", "output `DIR`")
	certs := flag.String("ca-certificates", "/etc/ssl/certs/ca-certificates.crt", "CA bundle `FILE` (Debian's ca-certificates)")
	version := flag.String("version", "dev", "image version label and tag")
	revision := flag.String("revision", "", "commit label")
	repo := flag.String("repository", "ghcr.io/regbackup/regbackup", "image name recorded in the tarballs")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: mkimage [flags] linux/ARCH=BINARY...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*out, *certs, *version, *revision, *repo, flag.Args()); err != nil {
		fmt.Fprintf(os.Stderr, "mkimage: %v\n", err)
		os.Exit(1)
	}
}

func run(out, certs, version, revision, repo string, specs []string) error {
	ca, err := os.ReadFile(certs)
	if err != nil {
		return fmt.Errorf("CA bundle: %w (apt-get install ca-certificates)", err)
	}
	tag, err := name.NewTag(repo + ":" + strings.ReplaceAll(version, "+", "-"))
	if err != nil {
		return fmt.Errorf("tag: %w", err)
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, spec := range specs {
		platform, bin, ok := strings.Cut(spec, "=")
		os_, arch, ok2 := strings.Cut(platform, "/")
		if !ok || !ok2 || os_ != "linux" {
			return fmt.Errorf("%q: want linux/ARCH=BINARY", spec)
		}
		img, err := image(bin, ca, arch, version, revision)
		if err != nil {
			return fmt.Errorf("%s: %w", platform, err)
		}
		file := filepath.Join(out, "regbackup-image-linux-"+arch+".tar")
		if err := tarball.WriteToFile(file, tag, img); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
			Platform: &v1.Platform{OS: "linux", Architecture: arch},
		}})
		fmt.Println(file)
	}
	dir := filepath.Join(out, "regbackup-image")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if _, err := layout.Write(dir, idx); err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	d, err := idx.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("%s/ (index %s)\n", dir, d)
	return nil
}

// image is the image of one platform: one layer with the binary, the CA
// bundle and /tmp, and a config naming the entrypoint.
func image(bin string, ca []byte, arch, version, revision string) (v1.Image, error) {
	exe, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	layerTar, err := rootfs(exe, ca)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, History: v1.History{
		Created: v1.Time{Time: epoch}, CreatedBy: "mkimage: /regbackup, /etc/ssl/certs/ca-certificates.crt, /tmp",
	}})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Created = v1.Time{Time: epoch}
	cf.Config.Entrypoint = []string{"/regbackup"}
	cf.Config.WorkingDir = "/"
	cf.Config.Env = []string{"PATH=/", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"}
	cf.Config.Labels = map[string]string{
		"org.opencontainers.image.title":       "regbackup",
		"org.opencontainers.image.description": "back up, verify and restore Docker Distribution registry storage",
		"org.opencontainers.image.source":      "https://github.com/regbackup/regbackup",
		"org.opencontainers.image.version":     version,
		"org.opencontainers.image.revision":    revision,
	}
	return mutate.ConfigFile(img, cf)
}

// rootfs is the layer's tar: folders first, every entry owned by root
// with the same time.
func rootfs(exe, ca []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	entries := []struct {
		name string
		mode int64
		typ  byte
		data []byte
	}{
		{"etc/", 0o755, tar.TypeDir, nil},
		{"etc/ssl/", 0o755, tar.TypeDir, nil},
		{"etc/ssl/certs/", 0o755, tar.TypeDir, nil},
		{"etc/ssl/certs/ca-certificates.crt", 0o644, tar.TypeReg, ca},
		{"regbackup", 0o755, tar.TypeReg, exe},
		// The lock folder's default without /run/lock is under the temp
		// folder; sticky and world-writable, as on any system.
		{"tmp/", 0o1777, tar.TypeDir, nil},
	}
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Typeflag: e.typ, Size: int64(len(e.data)),
			ModTime: epoch, Uname: "root", Gname: "root", Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
