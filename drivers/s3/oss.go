package s3

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/internal/locopt"
	"github.com/regbackup/regbackup/drivers/internal/regparams"
)

// Aliyun OSS is read and written through its S3-compatible API: the same
// bucket, the same object names (the registry's oss driver names an object
// rootdirectory + path, as its s3 driver does), requests signed with the
// region ID ("cn-hangzhou"), virtual-hosted addressing (OSS refuses path
// style), and no aws-chunked or trailing-checksum bodies (OSS refuses
// them; this driver never sends them).

func init() {
	drivers.RegisterParams("oss", func(ctx context.Context, params map[string]any) (drivers.Driver, error) {
		c, err := FromOSSParameters(params)
		if err != nil {
			return nil, fmt.Errorf("oss: registry storage parameters: %w", err)
		}
		return New(ctx, c)
	})
	drivers.Register("oss", func(ctx context.Context, u *url.URL) (drivers.Driver, error) {
		c, err := ParseOSSLocation(u)
		if err != nil {
			return nil, err
		}
		return New(ctx, c)
	})
}

// ossEndpoint is OSS's S3-compatible endpoint for a region ID
// ("cn-hangzhou"): https://s3.oss-cn-hangzhou.aliyuncs.com, or
// s3.oss-cn-hangzhou-internal.aliyuncs.com from inside Aliyun.
func ossEndpoint(region string, internal, secure bool) string {
	scheme := "https://"
	if !secure {
		scheme = "http://"
	}
	host := "s3.oss-" + region
	if internal {
		host += "-internal"
	}
	return scheme + host + ".aliyuncs.com"
}

// ossRegionID turns the registry's region ("oss-cn-hangzhou") into the
// region ID requests are signed with ("cn-hangzhou"); an ID stays as it is.
func ossRegionID(region string) string { return strings.TrimPrefix(region, "oss-") }

// ossCustomEndpoint is the S3-compatible form of an endpoint the registry
// config names: OSS's own region endpoints ("oss-cn-hangzhou.aliyuncs.com",
// "...-internal...") get their "s3." counterpart; any other host (a custom
// domain, a test server) is used as given. Without a scheme it gets https://,
// or http:// when secure is false.
func ossCustomEndpoint(ep string, secure bool) string {
	scheme := "https://"
	if !secure {
		scheme = "http://"
	}
	if i := strings.Index(ep, "://"); i >= 0 {
		scheme, ep = ep[:i+3], ep[i+3:]
	}
	if strings.HasPrefix(ep, "oss-") && strings.HasSuffix(strings.TrimSuffix(ep, "/"), ".aliyuncs.com") {
		ep = "s3." + ep
	}
	return scheme + ep
}

// FromOSSParameters reads the parameters of a registry's `storage: oss:`
// section the way Distribution 2.x's oss driver reads them, as a Config for
// OSS's S3-compatible API:
//
//	accesskeyid, accesskeysecret  the credentials (without them: the AWS
//	                              default chain, AWS_ACCESS_KEY_ID, ...)
//	region                        required: "oss-cn-hangzhou" (or "cn-hangzhou")
//	bucket, rootdirectory         where the objects are
//	internal                      true: the -internal endpoint (from inside Aliyun)
//	secure                        false: plain http (default true)
//	endpoint                      replaces the region's endpoint; OSS's own
//	                              "oss-<region>.aliyuncs.com" becomes its "s3." form
//	encrypt                       server-side encryption (AES256)
//	chunksize                     the multipart part size (at least 5 MiB)
//
// Errors name the parameter and never show the credentials.
func FromOSSParameters(params map[string]any) (Config, error) {
	p := regparams.New(params)
	var c Config
	c.AccessKey, c.SecretKey = p.Str("accesskeyid"), p.Str("accesskeysecret")
	if c.AccessKey == "" || c.SecretKey == "" {
		c.AccessKey, c.SecretKey = "", ""
	}
	if c.Bucket = p.Str("bucket"); c.Bucket == "" {
		return c, fmt.Errorf("no bucket parameter")
	}
	region := p.Str("region")
	if region == "" {
		return c, fmt.Errorf("no region parameter (OSS's region, e.g. oss-cn-hangzhou)")
	}
	c.Region = ossRegionID(region)
	c.RootDirectory = p.Str("rootdirectory")
	internal, err := p.Bool("internal", false)
	if err != nil {
		return c, err
	}
	secure, err := p.Bool("secure", true)
	if err != nil {
		return c, err
	}
	c.DisableTLS = !secure
	c.Endpoint = ossEndpoint(c.Region, internal, secure)
	if ep := p.Str("endpoint"); ep != "" {
		c.Endpoint = ossCustomEndpoint(ep, secure)
	}
	encrypt, err := p.Bool("encrypt", false)
	if err != nil {
		return c, err
	}
	if encrypt {
		c.SSE = SSES3
	}
	if p.Has("chunksize") {
		if c.PartSize, err = p.Int("chunksize"); err != nil {
			return c, err
		}
		if c.PartSize < minPartSize || c.PartSize > maxPartSize {
			return c, fmt.Errorf("the chunksize parameter %d should be between %d and %d", c.PartSize, minPartSize, maxPartSize)
		}
	}
	return c, nil
}

// ParseOSSLocation reads a location of the form
//
//	oss://BUCKET[/ROOTDIR]?region=cn-hangzhou[&internal=true][&endpoint=HOST][&secure=false]
//
// the same place a registry's `oss:` section with that bucket, rootdirectory
// and region names, reached through OSS's S3-compatible API; the other
// s3:// options (part-size, upload-memory, sse, skip-verify) apply too.
// Credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (an OSS
// AccessKey pair).
func ParseOSSLocation(u *url.URL) (Config, error) {
	q := u.Query()
	internal, secure := false, true
	var err error
	for _, k := range []string{"internal", "secure"} {
		if vs, ok := q[k]; ok {
			b, berr := locopt.Bool(k, vs[0])
			if berr != nil {
				return Config{}, fmt.Errorf("oss: location oss://%s%s: %w", u.Host, u.EscapedPath(), berr)
			}
			if k == "internal" {
				internal = b
			} else {
				secure = b
			}
			q.Del(k)
		}
	}
	region, endpoint := q.Get("region"), q.Get("endpoint")
	q.Del("endpoint")
	s3u := *u
	s3u.Scheme = "s3"
	s3u.RawQuery = q.Encode()
	c, err := ParseLocation(&s3u)
	if err != nil {
		return c, fmt.Errorf("oss: %w", err)
	}
	if region == "" {
		return c, fmt.Errorf("oss: location oss://%s%s: give the bucket's region, e.g. ?region=cn-hangzhou", u.Host, u.EscapedPath())
	}
	c.Region = ossRegionID(region)
	c.DisableTLS = !secure
	c.Endpoint = ossEndpoint(c.Region, internal, secure)
	if endpoint != "" {
		c.Endpoint = ossCustomEndpoint(endpoint, secure)
	}
	c.PathStyle = false
	return c, nil
}
