package swift

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Defaults for the zero values of Config.
const (
	// DefaultChunkSize is the segment size of the large objects Put
	// writes: the registry's default chunksize (20 MiB).
	DefaultChunkSize = 20 << 20
	// MinChunkSize is the registry's minimum chunksize (1 MiB).
	MinChunkSize = 1 << 20
	// DefaultMaxObjectSize is Swift's default max_file_size (5 GiB + 2
	// bytes), used when the cluster's /info does not say.
	DefaultMaxObjectSize = 5<<30 + 2
	// DefaultUploadMemory bounds the segment buffers all Puts of one Driver
	// hold at once.
	DefaultUploadMemory = 128 << 20
	// DefaultSegmentConcurrency is how many segments of one large object
	// are sent at once.
	DefaultSegmentConcurrency = 4
	// DefaultConcurrency is the number of blobs a backup or restore should
	// move at once: each request waits on a network round trip.
	DefaultConcurrency = 16
	// DefaultMaxAttempts is how often a request that can be repeated is
	// tried when Swift answers 5xx, 429 or 498 or the connection breaks.
	DefaultMaxAttempts = 6
	// DefaultCheckTimeout bounds the authentication and container check in
	// New, so that a wrong URL, container or credentials fail in seconds.
	DefaultCheckTimeout = 20 * time.Second
)

// Config says where the registry's objects live and how to reach them.
// Container is required; AuthURL, Username and Password too, unless the
// environment gives them (see Connection fields in ncw/swift's
// ApplyEnvironment: OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, ...).
type Config struct {
	// AuthURL is the Keystone (".../v3", ".../v2.0") or v1 auth URL
	// (".../auth/v1.0").
	AuthURL string
	// Username and Password authenticate; UserID may replace Username
	// (Keystone v3).
	Username string
	UserID   string
	Password string
	// Tenant (project) and its ID, Domain (the user's) and its ID,
	// TenantDomain (the project's, when it differs) and its ID, TrustID:
	// Keystone v2/v3 scoping, as in the registry's parameters.
	Tenant         string
	TenantID       string
	Domain         string
	DomainID       string
	TenantDomain   string
	TenantDomainID string
	TrustID        string
	// Region picks the object-store endpoint from the catalog (v2/v3);
	// empty takes the first.
	Region string
	// AuthVersion is 1, 2 or 3; 0 detects it from AuthURL.
	AuthVersion int
	// EndpointType is "public" (default), "internal" or "admin".
	EndpointType string
	// InsecureSkipVerify accepts any TLS certificate.
	InsecureSkipVerify bool

	// Container holds the objects; Prefix is the registry's prefix, used
	// as the registry uses it (leading "/" dropped, nothing else changed).
	Container string
	Prefix    string

	// ChunkSize is the segment size of the large objects Put writes
	// (default DefaultChunkSize, at least MinChunkSize).
	ChunkSize int64
	// MaxObjectSize is the largest file Put stores as one object (default:
	// the cluster's max_file_size from /info, else DefaultMaxObjectSize).
	MaxObjectSize int64
	// UploadMemory bounds the segment buffers all concurrent Puts hold
	// (default DefaultUploadMemory, raised to at least 2 segments).
	UploadMemory int64
	// SegmentConcurrency is how many segments of one Put are sent at once
	// (default DefaultSegmentConcurrency).
	SegmentConcurrency int
	// Concurrency is what DefaultConcurrency reports (default
	// DefaultConcurrency).
	Concurrency int
	// MaxAttempts is how often a repeatable request is tried (default
	// DefaultMaxAttempts).
	MaxAttempts int
	// CheckTimeout bounds the check New makes (default DefaultCheckTimeout).
	CheckTimeout time.Duration

	// backoff, when set (by tests), replaces the exponential backoff
	// between attempts.
	backoff time.Duration
}

// withDefaults returns c with defaults filled in and checked.
func (c Config) withDefaults() (Config, error) {
	switch {
	case c.Container == "":
		return c, fmt.Errorf("no container given")
	case strings.ContainsAny(c.Container, "/?#") || strings.IndexByte(c.Container, 0) >= 0:
		return c, fmt.Errorf("container name %q is not valid", c.Container)
	case strings.IndexByte(c.Prefix, 0) >= 0:
		return c, fmt.Errorf("prefix %q is not valid (NUL byte)", c.Prefix)
	case c.AuthVersion < 0 || c.AuthVersion > 3:
		return c, fmt.Errorf("auth version %d is not 1, 2 or 3", c.AuthVersion)
	}
	switch c.EndpointType {
	case "", "public", "internal", "admin":
	default:
		return c, fmt.Errorf("endpoint type %q is not public, internal or admin", c.EndpointType)
	}
	if c.AuthURL != "" {
		u, err := url.Parse(c.AuthURL)
		switch {
		case err != nil:
			return c, fmt.Errorf("auth URL is not a valid URL")
		case u.User != nil:
			return c, fmt.Errorf("auth URL must not contain credentials: use OS_USERNAME and OS_PASSWORD")
		case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
			return c, fmt.Errorf("auth URL %q: want http(s)://HOST/...", u.Redacted())
		}
	}
	if c.ChunkSize == 0 {
		c.ChunkSize = DefaultChunkSize
	}
	if c.ChunkSize < MinChunkSize {
		return c, fmt.Errorf("chunk size %d is below the registry's minimum of %d", c.ChunkSize, MinChunkSize)
	}
	if c.UploadMemory == 0 {
		c.UploadMemory = DefaultUploadMemory
	}
	c.UploadMemory = max(c.UploadMemory, 2*c.ChunkSize)
	if c.SegmentConcurrency <= 0 {
		c.SegmentConcurrency = DefaultSegmentConcurrency
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.CheckTimeout <= 0 {
		c.CheckTimeout = DefaultCheckTimeout
	}
	return c, nil
}

// location is the URL form of c without secrets: what String returns and
// the archive catalog records. It names everything that says where the
// data is, and no credential.
func (c Config) location() string {
	s := "swift://" + c.Container
	if p := strings.Trim(c.Prefix, "/"); p != "" {
		s += "/" + p
	}
	var q []string
	add := func(k, v string) {
		if v != "" {
			q = append(q, k+"="+queryValue(v))
		}
	}
	add("auth", c.AuthURL)
	if c.AuthVersion != 0 {
		add("auth-version", fmt.Sprint(c.AuthVersion))
	}
	add("region", c.Region)
	add("tenant", c.Tenant)
	add("tenant-id", c.TenantID)
	add("domain", c.Domain)
	add("domain-id", c.DomainID)
	add("tenant-domain", c.TenantDomain)
	add("tenant-domain-id", c.TenantDomainID)
	add("endpoint-type", c.EndpointType)
	if len(q) > 0 {
		s += "?" + strings.Join(q, "&")
	}
	return s
}

// queryValue escapes only what would break a query value, so that an auth
// URL stays readable.
var queryValue = strings.NewReplacer("%", "%25", "&", "%26", "#", "%23", "+", "%2B", " ", "%20").Replace
