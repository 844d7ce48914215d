package s3

import (
	"strings"

	"github.com/regbackup/regbackup/drivers"
)

var _ drivers.StorageConfiger = (*Driver)(nil)

// Placeholders StorageConfig puts where the registry needs a secret: the
// registry's environment overrides them (REGISTRY_STORAGE_S3_ACCESSKEY,
// REGISTRY_STORAGE_S3_SECRETKEY); Distribution does not expand ${...}.
const (
	accessKeyPlaceholder = "${REGISTRY_STORAGE_S3_ACCESSKEY}"
	secretKeyPlaceholder = "${REGISTRY_STORAGE_S3_SECRETKEY}"
)

// StorageConfig returns the registry storage section that serves this
// location, readable by Distribution 3.x and 2.8 (which ignores
// forcepathstyle and always uses path style with a regionendpoint), e.g.
// for versitygw:
//
//	s3: {bucket: registry, region: us-east-1, regionendpoint: "http://127.0.0.1:7070",
//	     forcepathstyle: true, rootdirectory: /reg, secure: false,
//	     accesskey: "${REGISTRY_STORAGE_S3_ACCESSKEY}", secretkey: "${REGISTRY_STORAGE_S3_SECRETKEY}"}
//
// and for Amazon S3 with the AWS credential chain: {bucket: b, region: eu-west-1}.
// Keys, always in this spelling:
//
//	bucket, region        always (region as requests are signed)
//	regionendpoint        with a custom endpoint, with its scheme
//	forcepathstyle        with a custom endpoint: true or false
//	rootdirectory         "/" + the root, when there is one
//	secure: false         plain http
//	skipverify: true      when certificates are not checked
//	encrypt, keyid        server-side encryption (SSE-S3, or SSE-KMS with keyid)
//	storageclass          when not STANDARD ("NONE" when the bucket decides)
//	objectacl             when not private; the registry always sends an ACL
//	                      (private by default), even where this Driver sent none
//	accesskey, secretkey  only when this Driver was given static keys: the
//	                      placeholders above, for the registry's environment
//	                      to override; without them the registry uses the
//	                      AWS chain (environment, shared files, instance role)
//	                      as this Driver did
func (d *Driver) StorageConfig() (string, map[string]any) {
	c := d.cfg
	p := map[string]any{"bucket": c.Bucket, "region": c.Region}
	if c.Endpoint != "" {
		p["regionendpoint"] = c.Endpoint
		p["forcepathstyle"] = c.PathStyle
	}
	if c.RootDirectory != "" {
		p["rootdirectory"] = "/" + c.RootDirectory
	}
	if c.DisableTLS || strings.HasPrefix(c.Endpoint, "http://") {
		p["secure"] = false
	}
	if c.SkipVerify {
		p["skipverify"] = true
	}
	if c.SSE != "" {
		p["encrypt"] = true
		if c.SSEKMSKeyID != "" {
			p["keyid"] = c.SSEKMSKeyID
		}
	}
	switch c.StorageClass {
	case "STANDARD":
	case "":
		p["storageclass"] = "NONE"
	default:
		p["storageclass"] = c.StorageClass
	}
	if c.ObjectACL != "" && c.ObjectACL != "private" {
		p["objectacl"] = c.ObjectACL
	}
	if c.AccessKey != "" && c.SecretKey != "" {
		p["accesskey"], p["secretkey"] = accessKeyPlaceholder, secretKeyPlaceholder
	}
	return "s3", p
}
