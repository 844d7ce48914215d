package s3

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults for the zero values of Config.
const (
	// DefaultPartSize is the multipart part size, and the largest object
	// stored with a single PutObject: 8 MiB, the AWS CLI's default (the
	// registry uses 10 MiB; S3 needs at least 5 MiB). A streamed upload
	// then holds at most (DefaultPartConcurrency+1) x 8 MiB = 40 MiB, and
	// 10,000 parts hold 78 GiB; objects of known size beyond that get
	// larger parts. On loopback versitygw, 16 MiB parts restored no faster
	// and took ~50 MiB more memory.
	DefaultPartSize = 8 << 20
	// DefaultUploadMemory bounds the part buffers all Puts of one Driver
	// hold at once (16 parts of 8 MiB).
	DefaultUploadMemory = 128 << 20
	// DefaultPartConcurrency is how many parts of one upload are in flight.
	DefaultPartConcurrency = 4
	// DefaultConcurrency is the number of blobs a backup or restore should
	// move at once: each request waits on a network round trip.
	DefaultConcurrency = 16
	// DefaultMaxAttempts is how often a request is tried when the store
	// throttles (SlowDown, 503) or fails with a 5xx or a broken connection.
	DefaultMaxAttempts = 10
	// DefaultCheckTimeout bounds the bucket check in New, so that a wrong
	// endpoint, bucket or credentials fail in seconds.
	DefaultCheckTimeout = 15 * time.Second

	minPartSize = 5 << 20
	maxPartSize = 5 << 30
	maxParts    = 10000
)

// Server-side encryption modes for Config.SSE.
const (
	SSES3  = "AES256"  // keys managed by S3
	SSEKMS = "aws:kms" // keys in AWS KMS (SSEKMSKeyID, or the account's default key)
)

// Config says where the registry's objects live and how to reach them.
// Only Bucket is required.
type Config struct {
	Bucket string
	// RootDirectory is the registry's rootdirectory; leading and trailing
	// "/" are ignored, as the registry ignores them.
	RootDirectory string
	// Region signs requests. Empty: the AWS default chain (AWS_REGION,
	// the profile), else us-east-1, or the bucket's region when S3
	// answers that the bucket is elsewhere.
	Region string
	// Endpoint is an S3-compatible server's base URL ("http://host:9000").
	// Empty: Amazon S3 (or AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL).
	Endpoint string
	// PathStyle puts the bucket in the URL path instead of the host name;
	// most S3-compatible servers need it.
	PathStyle bool
	// DisableTLS uses http:// for an Endpoint without a scheme and for
	// Amazon S3 (the registry's `secure: false`).
	DisableTLS bool
	// SkipVerify accepts any TLS certificate (the registry's `skipverify`).
	SkipVerify bool

	// AccessKey, SecretKey and SessionToken are static credentials. When
	// AccessKey or SecretKey is empty the AWS default credential chain is used.
	AccessKey    string
	SecretKey    string
	SessionToken string

	// SSE is "", SSES3 or SSEKMS; SSEKMSKeyID names the KMS key.
	SSE         string
	SSEKMSKeyID string
	// StorageClass for new objects ("" leaves it to the bucket: STANDARD).
	StorageClass string
	// ObjectACL is a canned ACL for new objects ("" sends none).
	ObjectACL string

	// PartSize is the multipart part size (default DefaultPartSize, at
	// least 5 MiB). Objects up to PartSize are stored with one PutObject.
	PartSize int64
	// UploadMemory bounds the bytes all concurrent Puts buffer (default
	// DefaultUploadMemory, raised to at least 2 parts).
	UploadMemory int64
	// PartConcurrency is how many parts of one upload are sent at once
	// (default DefaultPartConcurrency).
	PartConcurrency int
	// MaxAttempts is how often a throttled or failed request is tried
	// (default DefaultMaxAttempts).
	MaxAttempts int
	// Concurrency is what DefaultConcurrency reports (default
	// DefaultConcurrency).
	Concurrency int
	// CheckTimeout bounds the bucket check New makes (default
	// DefaultCheckTimeout).
	CheckTimeout time.Duration

	// backoff, when set (by tests), replaces the SDK's jittered exponential
	// backoff between attempts.
	backoff time.Duration
	// proxy, when set (by tests), replaces HTTP_PROXY/HTTPS_PROXY (which
	// net/http reads once per process).
	proxy func(*http.Request) (*url.URL, error)
}

// withDefaults returns c with defaults filled in and checked.
func (c Config) withDefaults() (Config, error) {
	c.RootDirectory = strings.Trim(c.RootDirectory, "/")
	switch {
	case c.Bucket == "":
		return c, fmt.Errorf("no bucket given")
	case strings.ContainsAny(c.Bucket, "/?#\\ ") || strings.IndexByte(c.Bucket, 0) >= 0:
		return c, fmt.Errorf("bucket name %q is not valid", c.Bucket)
	case strings.Contains(c.RootDirectory, "//") || strings.IndexByte(c.RootDirectory, 0) >= 0:
		return c, fmt.Errorf("root directory %q is not valid (empty element or NUL byte)", c.RootDirectory)
	}
	if c.Endpoint != "" {
		ep, err := normalizeEndpoint(c.Endpoint, c.DisableTLS)
		if err != nil {
			return c, err
		}
		c.Endpoint = ep
	}
	switch c.SSE {
	case "", SSES3, SSEKMS:
	default:
		return c, fmt.Errorf("server-side encryption %q is not supported (use %s or %s)", c.SSE, SSES3, SSEKMS)
	}
	if c.SSEKMSKeyID != "" && c.SSE != SSEKMS {
		return c, fmt.Errorf("a KMS key id needs server-side encryption %s", SSEKMS)
	}
	c.StorageClass = strings.ToUpper(c.StorageClass)
	if c.PartSize == 0 {
		c.PartSize = DefaultPartSize
	}
	if c.PartSize < minPartSize || c.PartSize > maxPartSize {
		return c, fmt.Errorf("part size %d is out of range: S3 needs 5 MiB to 5 GiB", c.PartSize)
	}
	if c.UploadMemory == 0 {
		c.UploadMemory = DefaultUploadMemory
	}
	c.UploadMemory = max(c.UploadMemory, 2*c.PartSize)
	if c.PartConcurrency <= 0 {
		c.PartConcurrency = DefaultPartConcurrency
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.CheckTimeout <= 0 {
		c.CheckTimeout = DefaultCheckTimeout
	}
	return c, nil
}

// normalizeEndpoint gives an endpoint a scheme and refuses what would put
// secrets into messages (user:password@) or confuse the SDK (a query).
func normalizeEndpoint(ep string, disableTLS bool) (string, error) {
	if !strings.Contains(ep, "://") {
		scheme := "https://"
		if disableTLS {
			scheme = "http://"
		}
		ep = scheme + ep
	}
	u, err := url.Parse(ep)
	switch {
	case err != nil:
		// url's errors quote the input, which may hold a password.
		return "", fmt.Errorf("endpoint is not a valid URL")
	case u.User != nil:
		return "", fmt.Errorf("endpoint must not contain credentials: use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("endpoint %q: scheme must be http or https", u.Redacted())
	case u.Host == "":
		return "", fmt.Errorf("endpoint %q has no host", u.Redacted())
	case u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("endpoint %q must not have a query or fragment", u.Redacted())
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// location is the URL form of c without secrets: what String returns and
// the archive catalog records.
func (c Config) location() string {
	s := "s3://" + c.Bucket
	if c.RootDirectory != "" {
		s += "/" + c.RootDirectory
	}
	var q []string
	if c.Endpoint != "" {
		q = append(q, "endpoint="+queryValue(c.Endpoint))
	}
	if c.PathStyle {
		q = append(q, "path-style=true")
	}
	if c.Region != "" {
		q = append(q, "region="+queryValue(c.Region))
	}
	if len(q) > 0 {
		s += "?" + strings.Join(q, "&")
	}
	return s
}

// queryValue escapes only what would break a query value, so that an
// endpoint URL stays readable.
var queryValue = strings.NewReplacer("%", "%25", "&", "%26", "#", "%23", "+", "%2B", " ", "%20").Replace
