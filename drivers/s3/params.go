package s3

import (
	"context"
	"fmt"
	"strings"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/internal/regparams"
)

func init() {
	for _, name := range []string{"s3", "s3aws", "s3_v2"} {
		drivers.RegisterParams(name, func(ctx context.Context, params map[string]any) (drivers.Driver, error) {
			c, err := FromParameters(params)
			if err != nil {
				return nil, fmt.Errorf("%s: registry storage parameters: %w", driverName, err)
			}
			return New(ctx, c)
		})
	}
}

// FromParameters reads the parameters of a registry's `storage: s3:` (also
// `s3aws:`, GitLab's `s3_v2:`) section the way Distribution 2.8 and 3.x and
// GitLab's fork read them. Values may be strings, bools or numbers.
//
//	accesskey, secretkey   static credentials, used only when both are set
//	                       (else the AWS default chain, as in the registry)
//	sessiontoken           GitLab s3_v2 (2.8 and 3.x ignore it)
//	region                 required without regionendpoint (us-east-1 otherwise)
//	regionendpoint         an S3-compatible endpoint; "host:port" gets
//	                       https:// or, with secure: false, http://
//	forcepathstyle         3.x; pathstyle in GitLab s3_v2. When neither is set
//	                       and regionendpoint is, path style is used, as 2.8
//	                       always did (virtual hosts rarely work on custom
//	                       endpoints); keys are the same either way
//	bucket, rootdirectory  where the objects are
//	encrypt, keyid         SSE-S3 (AES256), or SSE-KMS with keyid
//	secure                 false: plain http (default true)
//	skipverify             accept any TLS certificate
//	v4auth                 accepted; requests are always signed with v4
//	chunksize              the multipart part size (at least 5 MiB)
//	storageclass           default STANDARD; NONE sends no storage class
//	objectacl              default private
//
// Parameters that do not change where data lives (useragent, loglevel,
// multipartcopy*, maxrequestspersecond, ...) are ignored. Errors name the
// parameter and never show the credentials.
func FromParameters(params map[string]any) (Config, error) {
	p := regparams.New(params)
	var c Config
	var err error
	c.AccessKey, c.SecretKey = p.Str("accesskey"), p.Str("secretkey")
	if c.AccessKey == "" || c.SecretKey == "" {
		c.AccessKey, c.SecretKey = "", ""
	} else {
		c.SessionToken = p.Str("sessiontoken")
	}
	c.Bucket = p.Str("bucket")
	if c.Bucket == "" {
		return c, fmt.Errorf("no bucket parameter")
	}
	c.RootDirectory = p.Str("rootdirectory")
	c.Region = p.Str("region")
	secure, err := p.Bool("secure", true)
	if err != nil {
		return c, err
	}
	c.DisableTLS = !secure
	if ep := p.Str("regionendpoint"); ep != "" {
		c.Endpoint = ep
		c.PathStyle = true
	} else if c.Region == "" {
		return c, fmt.Errorf("no region parameter (needed without regionendpoint)")
	}
	for _, name := range []string{"forcepathstyle", "pathstyle"} {
		if p.Has(name) {
			if c.PathStyle, err = p.Bool(name, false); err != nil {
				return c, err
			}
		}
	}
	if c.SkipVerify, err = p.Bool("skipverify", false); err != nil {
		return c, err
	}
	if _, err = p.Bool("v4auth", true); err != nil {
		return c, err
	}
	encrypt, err := p.Bool("encrypt", false)
	if err != nil {
		return c, err
	}
	if encrypt {
		c.SSE = SSES3
		if keyID := p.Str("keyid"); keyID != "" {
			c.SSE, c.SSEKMSKeyID = SSEKMS, keyID
		}
	}
	if p.Has("chunksize") {
		if c.PartSize, err = p.Int("chunksize"); err != nil {
			return c, err
		}
		if c.PartSize < minPartSize || c.PartSize > maxPartSize {
			return c, fmt.Errorf("the chunksize parameter %d should be between %d and %d", c.PartSize, minPartSize, maxPartSize)
		}
	}
	c.StorageClass = "STANDARD"
	if p.Has("storageclass") {
		c.StorageClass = strings.ToUpper(p.Str("storageclass"))
		if c.StorageClass == "NONE" {
			c.StorageClass = ""
		}
	}
	c.ObjectACL = "private"
	if p.Has("objectacl") {
		c.ObjectACL = p.Str("objectacl")
	}
	return c, nil
}
