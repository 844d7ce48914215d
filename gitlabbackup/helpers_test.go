package gitlabbackup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// tarEntry is one entry of a test tarball.
type tarEntry struct {
	name     string
	typ      byte
	body     string
	linkname string
}

func dir(name string) tarEntry        { return tarEntry{name: name, typ: tar.TypeDir} }
func file(name, body string) tarEntry { return tarEntry{name: name, typ: tar.TypeReg, body: body} }
func sha(body string) string          { s := sha256.Sum256([]byte(body)); return hex.EncodeToString(s[:]) }
func blobName(hexd string) string {
	return "./docker/registry/v2/blobs/sha256/" + hexd[:2] + "/" + hexd + "/data"
}
func blob(body string) tarEntry { return file(blobName(sha(body)), body) }
func layerLink(repo, body string) tarEntry {
	return file("./docker/registry/v2/repositories/"+repo+"/_layers/sha256/"+sha(body)+"/link", "sha256:"+sha(body))
}
func revLink(repo, body string) tarEntry {
	return file("./docker/registry/v2/repositories/"+repo+"/_manifests/revisions/sha256/"+sha(body)+"/link", "sha256:"+sha(body))
}
func tagLink(repo, tag, body string) tarEntry {
	return file("./docker/registry/v2/repositories/"+repo+"/_manifests/tags/"+tag+"/current/link", "sha256:"+sha(body))
}

func makeTar(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.body)), Linkname: e.linkname}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if e.typ == tar.TypeDir {
			h.Mode = 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gz(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, 1)
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zst(t testing.TB, data []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return enc.EncodeAll(data, nil)
}

const infoYAML = `:db_version: 20251120120000
:backup_created_at: 2026-12-01 18:15:03.123456789 +00:00
:gitlab_version: 18.6.1
:tar_version: tar (GNU tar) 1.35
:installation_type: omnibus-gitlab
:skipped: artifacts
:repositories_storages: default
:repositories_server_side: false
:backup_id: 1764555303_2026_12_01_18.6.1
`

// sample is a small registry tarball as gitlab-backup makes it: "./"
// first, folders before their files, blobs and repositories mixed.
func sample(t testing.TB) (entries []tarEntry, cfg, layer, manifest string) {
	cfg, layer, manifest = `{"config":1}`, "layer bytes", `{"schemaVersion":2}`
	return []tarEntry{
		dir("./"), dir("./docker/"), dir("./docker/registry/"), dir("./docker/registry/v2/"),
		dir("./docker/registry/v2/repositories/"),
		tagLink("group/app", "v1", manifest),
		revLink("group/app", manifest),
		layerLink("group/app", layer),
		layerLink("group/app", cfg),
		file("./docker/registry/v2/repositories/group/app/_uploads/0b2c/data", "partial"),
		file("./docker/registry/v2/repositories/group/app/_uploads/0b2c/startedat", "2026"),
		blob(layer), blob(cfg), blob(manifest),
		file("./docker/registry/v2/blobs/sha256/ab/stray.txt", "junk"),
	}, cfg, layer, manifest
}

func outerTar(t testing.TB, infoFirst bool, registry []byte, extra ...tarEntry) []byte {
	t.Helper()
	var es []tarEntry
	if infoFirst {
		es = append(es, file(InfoName, infoYAML))
	}
	es = append(es, dir("db/"), file("db/database.sql.gz", "sql"), dir("repositories/"),
		file("uploads.tar.gz", "up"), file(RegistryPart, string(registry)))
	es = append(es, extra...)
	if !infoFirst {
		es = append(es, file(InfoName, infoYAML))
	}
	return makeTar(t, es...)
}
