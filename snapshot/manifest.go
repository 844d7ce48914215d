package snapshot

import (
	"encoding/json"
	"fmt"
)

// Manifest media types, as registry-layout.md lists them.
const (
	mtDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mtDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	mtSchema1        = "application/vnd.docker.distribution.manifest.v1+json"
	mtSchema1Signed  = "application/vnd.docker.distribution.manifest.v1+prettyjws"
	mtOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	mtOCIIndex       = "application/vnd.oci.image.index.v1+json"
)

// MaxManifestSize is the registry's own limit on manifests it accepts.
const MaxManifestSize = 4 << 20

type descriptor struct {
	MediaType string   `json:"mediaType"`
	Digest    string   `json:"digest"`
	URLs      []string `json:"urls"`
}

// ParsedManifest is what the snapshot needs from a manifest.
type ParsedManifest struct {
	MediaType string
	IsIndex   bool     // children are manifests (each needs a revisions link)
	Refs      []string // referenced digests, in document order, deduplicated
	Foreign   map[string]bool
}

// ParseManifest reads any manifest kind the registry stores and returns the
// digests it references: config and layers, schema1 fsLayers, or an
// index's child manifests. A layer with urls (a foreign layer) is marked,
// since the registry does not hold it.
func ParseManifest(data []byte) (*ParsedManifest, error) {
	var m struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Config        *descriptor  `json:"config"`
		Layers        []descriptor `json:"layers"`
		Manifests     []descriptor `json:"manifests"`
		Subject       *descriptor  `json:"subject"`
		FSLayers      []struct {
			BlobSum string `json:"blobSum"`
		} `json:"fsLayers"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("not a manifest: %v", err)
	}
	pm := &ParsedManifest{MediaType: m.MediaType, Foreign: map[string]bool{}}
	seen := map[string]bool{}
	add := func(d descriptor) {
		if d.Digest == "" || seen[d.Digest] {
			return
		}
		seen[d.Digest] = true
		pm.Refs = append(pm.Refs, d.Digest)
		if len(d.URLs) > 0 {
			pm.Foreign[d.Digest] = true
		}
	}
	switch {
	case m.SchemaVersion == 1 || len(m.FSLayers) > 0:
		if pm.MediaType == "" {
			pm.MediaType = mtSchema1Signed
		}
		for _, l := range m.FSLayers {
			add(descriptor{Digest: l.BlobSum})
		}
	case m.MediaType == mtDockerList || m.MediaType == mtOCIIndex || (m.MediaType == "" && m.Manifests != nil):
		if pm.MediaType == "" {
			pm.MediaType = mtOCIIndex
		}
		pm.IsIndex = true
		for _, c := range m.Manifests {
			add(c)
		}
	case m.Config != nil || m.Layers != nil:
		if pm.MediaType == "" {
			pm.MediaType = mtOCIManifest
		}
		if m.Config != nil {
			add(*m.Config)
		}
		for _, l := range m.Layers {
			add(l)
		}
	default:
		return nil, fmt.Errorf("not a manifest: no config, layers, manifests or fsLayers")
	}
	return pm, nil
}
