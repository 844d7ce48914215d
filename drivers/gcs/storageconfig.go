package gcs

import (
	"github.com/regbackup/regbackup/drivers"
)

var _ drivers.StorageConfiger = (*Driver)(nil)

// StorageConfig returns the registry storage section that serves this
// location (Distribution 3.x; Debian's 2.8 has no gcs driver), e.g.
//
//	gcs: {bucket: registry, rootdirectory: /reg}
//	gcs: {bucket: registry, rootdirectory: /reg, keyfile: /etc/registry/gcs-key.json}
//
// keyfile appears when this Driver read one (a path, not a secret; the
// registry must be able to read it). Otherwise no credentials are written:
// the registry then uses Application Default Credentials
// (GOOGLE_APPLICATION_CREDENTIALS, the metadata server), so an inline key
// this Driver was given must be handed to the registry that way, or as
// REGISTRY_STORAGE_GCS_KEYFILE. A custom endpoint (an emulator) cannot be
// expressed: the registry's gcs driver always talks to Google.
func (d *Driver) StorageConfig() (string, map[string]any) {
	p := map[string]any{"bucket": d.cfg.Bucket}
	if r := d.cfg.root(); r != "" {
		p["rootdirectory"] = "/" + r
	}
	if d.cfg.KeyFile != "" {
		p["keyfile"] = d.cfg.KeyFile
	}
	return "gcs", p
}
