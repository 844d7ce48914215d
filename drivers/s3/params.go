package s3

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/regbackup/regbackup/drivers"
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
	p := paramReader(params)
	var c Config
	var err error
	c.AccessKey, c.SecretKey = p.str("accesskey"), p.str("secretkey")
	if c.AccessKey == "" || c.SecretKey == "" {
		c.AccessKey, c.SecretKey = "", ""
	} else {
		c.SessionToken = p.str("sessiontoken")
	}
	c.Bucket = p.str("bucket")
	if c.Bucket == "" {
		return c, fmt.Errorf("no bucket parameter")
	}
	c.RootDirectory = p.str("rootdirectory")
	c.Region = p.str("region")
	secure, err := p.boolean("secure", true)
	if err != nil {
		return c, err
	}
	c.DisableTLS = !secure
	if ep := p.str("regionendpoint"); ep != "" {
		c.Endpoint = ep
		c.PathStyle = true
	} else if c.Region == "" {
		return c, fmt.Errorf("no region parameter (needed without regionendpoint)")
	}
	for _, name := range []string{"forcepathstyle", "pathstyle"} {
		if p.has(name) {
			if c.PathStyle, err = p.boolean(name, false); err != nil {
				return c, err
			}
		}
	}
	if c.SkipVerify, err = p.boolean("skipverify", false); err != nil {
		return c, err
	}
	if _, err = p.boolean("v4auth", true); err != nil {
		return c, err
	}
	encrypt, err := p.boolean("encrypt", false)
	if err != nil {
		return c, err
	}
	if encrypt {
		c.SSE = SSES3
		if keyID := p.str("keyid"); keyID != "" {
			c.SSE, c.SSEKMSKeyID = SSEKMS, keyID
		}
	}
	if p.has("chunksize") {
		if c.PartSize, err = p.integer("chunksize"); err != nil {
			return c, err
		}
		if c.PartSize < minPartSize || c.PartSize > maxPartSize {
			return c, fmt.Errorf("the chunksize parameter %d should be between %d and %d", c.PartSize, minPartSize, maxPartSize)
		}
	}
	c.StorageClass = "STANDARD"
	if p.has("storageclass") {
		c.StorageClass = strings.ToUpper(p.str("storageclass"))
		if c.StorageClass == "NONE" {
			c.StorageClass = ""
		}
	}
	c.ObjectACL = "private"
	if p.has("objectacl") {
		c.ObjectACL = p.str("objectacl")
	}
	return c, nil
}

// paramReader reads registry parameters of any YAML type.
type paramReader map[string]any

func (p paramReader) has(name string) bool { return p[name] != nil }

func (p paramReader) str(name string) string {
	if v := p[name]; v != nil {
		return fmt.Sprint(v)
	}
	return ""
}

func (p paramReader) boolean(name string, def bool) (bool, error) {
	switch v := p[name].(type) {
	case nil:
		return def, nil
	case bool:
		return v, nil
	case string:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("the %s parameter should be a boolean, not %q", name, v)
		}
		return b, nil
	default:
		return false, fmt.Errorf("the %s parameter should be a boolean", name)
	}
}

func (p paramReader) integer(name string) (int64, error) {
	var n int64
	s := p.str(name)
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil || strconv.FormatInt(n, 10) != strings.TrimSpace(s) {
		// Floats from JSON-like decoders: accept whole numbers.
		f, ferr := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if ferr != nil || f != float64(int64(f)) {
			return 0, fmt.Errorf("the %s parameter should be an integer, not %q", name, s)
		}
		n = int64(f)
	}
	return n, nil
}
