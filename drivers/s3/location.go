package s3

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/internal/locopt"
)

func init() {
	drivers.Register("s3", func(ctx context.Context, u *url.URL) (drivers.Driver, error) {
		c, err := ParseLocation(u)
		if err != nil {
			return nil, err
		}
		return New(ctx, c)
	})
}

// locationOptions are the query parameters ParseLocation knows.
var locationOptions = []string{"acl", "endpoint", "part-size", "path-style", "region", "skip-verify",
	"sse", "sse-kms-key-id", "storage-class", "upload-memory"}

// ParseLocation reads a location of the form
//
//	s3://BUCKET[/ROOTDIR][?OPTION=VALUE&...]
//
// with the options
//
//	region=R           region to sign for (default: AWS_REGION or the profile's, else the
//	                   bucket's region as Amazon S3 reports it, else us-east-1)
//	endpoint=URL       an S3-compatible server, e.g. http://127.0.0.1:9000 (default: Amazon S3)
//	path-style=true    bucket in the URL path, not the host name (most S3-compatible servers)
//	storage-class=C    STANDARD, STANDARD_IA, INTELLIGENT_TIERING, ... for new objects
//	sse=AES256|aws:kms server-side encryption of new objects; sse-kms-key-id=ID names the KMS key
//	acl=ACL            canned ACL for new objects (private, bucket-owner-full-control, ...)
//	part-size=SIZE     multipart part size, 5MiB..5GiB (default 8MiB)
//	upload-memory=SIZE part buffers shared by all uploads (default 128MiB)
//	skip-verify=true   accept any TLS certificate
//
// Credentials never go into the location (it is printed and stored in the
// archive catalog): they come from the AWS environment.
func ParseLocation(u *url.URL) (Config, error) {
	var c Config
	// Never echo u: it may hold a password. Describe it without userinfo.
	where := "s3://" + u.Host + u.EscapedPath()
	if u.User != nil {
		return c, fmt.Errorf("%s: location %s: credentials do not belong in the location (it is printed and stored in the archive): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE", driverName, where)
	}
	if u.Host == "" || u.Opaque != "" || u.Fragment != "" {
		return c, fmt.Errorf("%s: location %s: want s3://BUCKET[/ROOTDIR][?region=...&endpoint=...]", driverName, where)
	}
	c.Bucket = u.Host
	c.RootDirectory = strings.Trim(u.Path, "/")
	if err := locopt.Each(u, c.setOption); err != nil {
		return c, fmt.Errorf("%s: location %s: %w", driverName, where, err)
	}
	return c, nil
}

// setOption applies one location query option.
func (c *Config) setOption(k, v string) error {
	var err error
	switch k {
	case "region":
		c.Region = v
	case "endpoint":
		c.Endpoint = v
	case "path-style":
		c.PathStyle, err = locopt.Bool(k, v)
	case "skip-verify":
		c.SkipVerify, err = locopt.Bool(k, v)
	case "storage-class":
		c.StorageClass = v
	case "sse":
		c.SSE = v
	case "sse-kms-key-id":
		c.SSEKMSKeyID = v
		if c.SSE == "" {
			c.SSE = SSEKMS
		}
	case "acl":
		c.ObjectACL = v
	case "part-size":
		c.PartSize, err = locopt.Size(k, v)
	case "upload-memory":
		c.UploadMemory, err = locopt.Size(k, v)
	default:
		if locopt.IsCredential(k) {
			return fmt.Errorf("option %s: credentials do not belong in the location (it is printed and stored in the archive): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE", k)
		}
		return fmt.Errorf("unknown option %q (known: %s)", k, strings.Join(locationOptions, ", "))
	}
	return err
}
