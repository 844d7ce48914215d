package regtest

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"sort"
	"testing"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/blobio"
	"github.com/regbackup/regbackup/drivers"
)

// PushImage writes a one-layer Docker v2 image into d the way a registry
// does (blobs, then _layers and revisions links, then the tag) and returns
// the manifest digest and the layer's.
func PushImage(t *testing.T, d drivers.Driver, repo, tag string, layerSize int) (string, string) {
	t.Helper()
	put := func(p string, b []byte) {
		if err := d.Put(t.Context(), p, bytes.NewReader(b), int64(len(b))); err != nil {
			t.Fatal(err)
		}
	}
	layer := make([]byte, layerSize)
	rand.Read(layer)
	config := []byte(fmt.Sprintf(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["%s"]}}`, blobio.SHA256Digest(layer)))
	ld, cd := blobio.SHA256Digest(layer), blobio.SHA256Digest(config)
	manifest := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",`+
		`"config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":%d,"digest":"%s"},`+
		`"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":%d,"digest":"%s"}]}`,
		len(config), cd, len(layer), ld))
	md := blobio.SHA256Digest(manifest)
	for _, b := range [][]byte{layer, config, manifest} {
		put(archive.BlobPath(blobio.SHA256Digest(b)), b)
	}
	put(archive.LinkPath(archive.KindLayerLink, repo, "", ld), []byte(ld))
	put(archive.LinkPath(archive.KindLayerLink, repo, "", cd), []byte(cd))
	put(archive.LinkPath(archive.KindRevisionLink, repo, "", md), []byte(md))
	put(archive.LinkPath(archive.KindTagIndexLink, repo, tag, md), []byte(md))
	put(archive.LinkPath(archive.KindTagCurrentLink, repo, tag, ""), []byte(md))
	return md, ld
}

// LinksTo lists the link files in d that hold or name digest.
func LinksTo(t *testing.T, d drivers.Driver, digest string) []string {
	t.Helper()
	var out []string
	err := d.Walk(t.Context(), archive.RegistryRoot+"repositories/", func(fi drivers.FileInfo) error {
		p := archive.ParsePath(fi.Path)
		if !p.Kind.IsLink() {
			return nil
		}
		rc, err := d.Reader(t.Context(), fi.Path)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		if string(b) == digest || p.Digest == digest {
			out = append(out, fi.Path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}
