package sample

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/drivers"
)

// tree reads a generated storage tree back with its own path parsing and
// JSON types, independent of the package's code; check_test.go compares it
// with the Registry that Generate returned.

var (
	linkRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	hexRE  = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

type repoTag [2]string

// tree is what storage holds, parsed from paths.
type tree struct {
	files     map[string][]byte
	blobs     map[string][]byte          // digest -> content
	layers    map[string]map[string]bool // repo -> digests with a _layers link
	revisions map[string]map[string]bool // repo -> manifest digests
	current   map[repoTag]string
	index     map[repoTag][]string
	uploads   []string
	named     map[string]bool // every digest a link names
	diffIDs   map[string]string
}

func add(m map[string]map[string]bool, repo, dg string) {
	if m[repo] == nil {
		m[repo] = map[string]bool{}
	}
	m[repo][dg] = true
}

func readAll(t *testing.T, d drivers.Driver) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	files := map[string][]byte{}
	err := d.Walk(ctx, "", func(fi drivers.FileInfo) error {
		r, err := d.Reader(ctx, fi.Path)
		if err != nil {
			return err
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		files[fi.Path] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func scan(t *testing.T, d drivers.Driver) *tree {
	t.Helper()
	tr := &tree{
		files:     readAll(t, d),
		blobs:     map[string][]byte{},
		layers:    map[string]map[string]bool{},
		revisions: map[string]map[string]bool{},
		current:   map[repoTag]string{},
		index:     map[repoTag][]string{},
		named:     map[string]bool{},
		diffIDs:   map[string]string{},
	}
	for p, b := range tr.files {
		rest, ok := strings.CutPrefix(p, "docker/registry/v2/")
		if !ok {
			t.Errorf("%s: outside docker/registry/v2", p)
			continue
		}
		parts := strings.Split(rest, "/")
		if parts[0] == "blobs" {
			if len(parts) != 5 || parts[1] != "sha256" || !hexRE.MatchString(parts[3]) || parts[2] != parts[3][:2] || parts[4] != "data" {
				t.Errorf("%s: not a blob path", p)
				continue
			}
			if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != parts[3] {
				t.Errorf("%s: sha256 of content is %x", p, sum)
			}
			tr.blobs["sha256:"+parts[3]] = b
			continue
		}
		if parts[0] != "repositories" {
			t.Errorf("%s: unexpected file", p)
			continue
		}
		i := slices.IndexFunc(parts, func(s string) bool { return strings.HasPrefix(s, "_") })
		if i < 2 {
			t.Errorf("%s: no repository name", p)
			continue
		}
		repo, kind := strings.Join(parts[1:i], "/"), parts[i:]
		if kind[0] == "_uploads" {
			tr.uploads = append(tr.uploads, p)
			continue
		}
		if !linkRE.Match(b) {
			t.Errorf("%s: link content %q is not sha256:<64 hex> (len %d)", p, b, len(b))
			continue
		}
		dg := string(b)
		tr.named[dg] = true
		want := ""
		switch {
		case len(kind) == 4 && kind[0] == "_layers" && kind[1] == "sha256" && kind[3] == "link":
			want = kind[2]
			add(tr.layers, repo, dg)
		case len(kind) == 5 && kind[0] == "_manifests" && kind[1] == "revisions" && kind[2] == "sha256" && kind[4] == "link":
			want = kind[3]
			add(tr.revisions, repo, dg)
		case len(kind) == 5 && kind[0] == "_manifests" && kind[1] == "tags" && kind[3] == "current" && kind[4] == "link":
			tr.current[repoTag{repo, kind[2]}] = dg
		case len(kind) == 7 && kind[0] == "_manifests" && kind[1] == "tags" && kind[3] == "index" && kind[4] == "sha256" && kind[6] == "link":
			want = kind[5]
			tr.index[repoTag{repo, kind[2]}] = append(tr.index[repoTag{repo, kind[2]}], dg)
		default:
			t.Errorf("%s: unexpected file in repository %s", p, repo)
		}
		if want != "" && dg != "sha256:"+want {
			t.Errorf("%s: names %s, not the digest in its path", p, dg)
		}
	}
	for dg := range tr.named {
		if tr.blobs[dg] == nil {
			t.Errorf("a link names %s, which has no blob", dg)
		}
	}
	sort.Strings(tr.uploads)
	return tr
}

// desc and manifest are the test's own view of the JSON.
type desc struct {
	MediaType string            `json:"mediaType"`
	Digest    string            `json:"digest"`
	Size      int64             `json:"size"`
	Platform  map[string]string `json:"platform"`
}

type manifest struct {
	SchemaVersion int    `json:"schemaVersion"`
	MediaType     string `json:"mediaType"`
	Config        *desc  `json:"config"`
	Layers        []desc `json:"layers"`
	Manifests     []desc `json:"manifests"`
}

func isIndex(mt string) bool {
	return mt == "application/vnd.docker.distribution.manifest.list.v2+json" || mt == "application/vnd.oci.image.index.v1+json"
}

// parseManifest decodes a manifest blob; kind is its mediaType, or what the
// layout doc says when the field is missing.
func (tr *tree) parseManifest(t *testing.T, dg string) (m manifest, kind string) {
	t.Helper()
	if err := json.Unmarshal(tr.blobs[dg], &m); err != nil || m.SchemaVersion != 2 {
		t.Fatalf("manifest %s: not a schema 2 manifest (%v): %.100s", dg, err, tr.blobs[dg])
	}
	kind = m.MediaType
	if kind == "" && m.Manifests != nil {
		kind = "application/vnd.oci.image.index.v1+json"
	} else if kind == "" {
		kind = "application/vnd.oci.image.manifest.v1+json"
	}
	return m, kind
}

// diffID gunzips a layer, reads it as a tar and returns the sha256 of the tar.
func (tr *tree) diffID(t *testing.T, dg string) string {
	t.Helper()
	if id, ok := tr.diffIDs[dg]; ok {
		return id
	}
	zr, err := gzip.NewReader(bytes.NewReader(tr.blobs[dg]))
	if err != nil {
		t.Errorf("layer %s: %v", dg, err)
		return ""
	}
	h := sha256.New()
	tee := io.TeeReader(zr, h)
	r := tar.NewReader(tee)
	files := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Errorf("layer %s: tar: %v", dg, err)
			return ""
		}
		files++
	}
	if _, err := io.Copy(io.Discard, tee); err != nil || files != 1 {
		t.Errorf("layer %s: gzip: %v, %d files", dg, err, files)
	}
	tr.diffIDs[dg] = "sha256:" + hex.EncodeToString(h.Sum(nil))
	return tr.diffIDs[dg]
}

// checkRef fails unless d names a stored blob of d.Size bytes.
func (tr *tree) checkRef(t *testing.T, where string, d desc) {
	t.Helper()
	b, ok := tr.blobs[d.Digest]
	if !ok {
		t.Errorf("%s: references missing blob %s", where, d.Digest)
	} else if int64(len(b)) != d.Size {
		t.Errorf("%s: %s has %d bytes, descriptor says %d", where, d.Digest, len(b), d.Size)
	}
}
