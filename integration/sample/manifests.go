package sample

import "encoding/json"

// Media types of the manifests, configs and layers Generate writes.
const (
	MediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeDockerConfig       = "application/vnd.docker.container.image.v1+json"
	MediaTypeDockerLayer        = "application/vnd.docker.image.rootfs.diff.tar.gzip"

	MediaTypeOCIManifest = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeOCIIndex    = "application/vnd.oci.image.index.v1+json"
	MediaTypeOCIConfig   = "application/vnd.oci.image.config.v1+json"
	MediaTypeOCILayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// Descriptor points at a blob or a child manifest.
type Descriptor struct {
	MediaType string    `json:"mediaType"`
	Digest    string    `json:"digest"`
	Size      int64     `json:"size"`
	Platform  *Platform `json:"platform,omitempty"`
}

// Platform says which machine an index or manifest-list child is for.
type Platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Variant      string `json:"variant,omitempty"`
}

// Manifest is a Docker schema2 or OCI image manifest. An empty MediaType is
// left out of the JSON, as some OCI clients push it.
type Manifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType,omitempty"`
	Config        Descriptor   `json:"config"`
	Layers        []Descriptor `json:"layers"`
}

// Index is a Docker manifest list or an OCI image index.
type Index struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Manifests     []Descriptor `json:"manifests"`
}

// ImageConfig is the small JSON config blob of an image.
type ImageConfig struct {
	Created      string          `json:"created"`
	Architecture string          `json:"architecture"`
	Variant      string          `json:"variant,omitempty"`
	OS           string          `json:"os"`
	Config       ContainerConfig `json:"config"`
	RootFS       RootFS          `json:"rootfs"`
	History      []History       `json:"history"`
}

// ContainerConfig is the runtime part of an ImageConfig.
type ContainerConfig struct {
	Env    []string          `json:"Env"`
	Cmd    []string          `json:"Cmd"`
	Labels map[string]string `json:"Labels,omitempty"`
}

// RootFS lists an image's layers by diff ID: the sha256 of each layer's
// uncompressed tar.
type RootFS struct {
	Type    string   `json:"type"`
	DiffIDs []string `json:"diff_ids"`
}

// History is one build step of an image.
type History struct {
	Created   string `json:"created"`
	CreatedBy string `json:"created_by"`
}

// canonical marshals v the way Generate stores every manifest and config:
// encoding/json, no indentation, no trailing newline.
func canonical(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("sample: marshal: " + err.Error()) // only fixed struct types reach here
	}
	return b
}
