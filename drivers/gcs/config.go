package gcs

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

const (
	// minChunkSize is the granularity of resumable upload chunks.
	minChunkSize = 256 << 10
	// DefaultChunkSize is the upload chunk size when Config.ChunkSize is 0.
	DefaultChunkSize = 8 << 20
	// DefaultCheckTimeout bounds New's bucket check when Config.CheckTimeout is 0.
	DefaultCheckTimeout = 15 * time.Second
	// RetryFor bounds the retries of one request, or of one upload chunk.
	RetryFor = 2 * time.Minute
	// defaultConcurrency is the number of blobs in flight regbackup uses by
	// default against GCS: requests are latency-bound.
	defaultConcurrency = 16
)

// Config says which bucket and root directory to use and how to reach them.
// Its String and GoString methods leave credentials out.
type Config struct {
	// Bucket is the bucket's name; it must exist.
	Bucket string
	// RootDirectory is the registry's rootdirectory: object names are
	// RootDirectory trimmed of "/" + "/" + path. "" is the bucket's top.
	RootDirectory string
	// Endpoint is the JSON API base URL, e.g.
	// "http://127.0.0.1:4443/storage/v1/" for fake-gcs-server; a URL with
	// no path gets "/storage/v1/". "" is Google's endpoint, or
	// STORAGE_EMULATOR_HOST's when that is set.
	Endpoint string

	// KeyFile is the path of a JSON key file (usually a service account's).
	KeyFile string
	// CredentialsJSON is the content of a JSON key, e.g. the registry's
	// inline credentials map. Ignored when KeyFile is set.
	CredentialsJSON []byte
	// Anonymous sends requests without credentials (emulators, public
	// buckets). Ignored when KeyFile or CredentialsJSON is set.
	Anonymous bool
	// With none of the three, Application Default Credentials are used.

	// ChunkSize is the size of upload chunks and so the buffer each Put in
	// flight holds: a positive multiple of 256 KiB, or 0 for
	// DefaultChunkSize.
	ChunkSize int
	// CheckTimeout bounds New's check of the bucket; 0 means
	// DefaultCheckTimeout.
	CheckTimeout time.Duration
}

// String describes the location like a URL, without credentials:
// "gs://bucket/root?endpoint=http://127.0.0.1:4443/storage/v1/".
func (c Config) String() string {
	s := "gs://" + c.Bucket
	if r := c.root(); r != "" {
		s += "/" + r
	}
	if c.Endpoint != "" {
		s += "?endpoint=" + redactURL(c.Endpoint)
	}
	return s
}

// GoString is String, so that %#v does not print credentials either.
func (c Config) GoString() string { return "gcs.Config(" + c.String() + ")" }

// root is RootDirectory without leading and trailing "/".
func (c Config) root() string { return strings.Trim(c.RootDirectory, "/") }

// check validates the fields New relies on and fills in defaults.
func (c *Config) check() error {
	if c.Bucket == "" {
		return fmt.Errorf("no bucket given")
	}
	if !validBucket(c.Bucket) {
		return fmt.Errorf("bucket name %q is not valid (lowercase letters, digits, -, _ and ., 3 to 222 characters)", c.Bucket)
	}
	if strings.ContainsRune(c.RootDirectory, 0) {
		return fmt.Errorf("root directory contains a NUL byte")
	}
	switch {
	case c.ChunkSize == 0:
		c.ChunkSize = DefaultChunkSize
	case c.ChunkSize < 0 || c.ChunkSize%minChunkSize != 0:
		return fmt.Errorf("chunk size %d is not a positive multiple of %d (256 KiB)", c.ChunkSize, minChunkSize)
	}
	if c.CheckTimeout <= 0 {
		c.CheckTimeout = DefaultCheckTimeout
	}
	if c.Endpoint != "" {
		ep, err := normalizeEndpoint(c.Endpoint)
		if err != nil {
			return err
		}
		c.Endpoint = ep
	}
	return nil
}

// validBucket accepts GCS bucket names: lowercase letters, digits, "-", "_"
// and ".", starting and ending with a letter or digit.
func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 222 {
		return false
	}
	for i, r := range b {
		alnum := r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		if !alnum && ((r != '-' && r != '_' && r != '.') || i == 0 || i == len(b)-1) {
			return false
		}
	}
	return true
}

// normalizeEndpoint checks an endpoint URL and gives it the JSON API path
// "/storage/v1/" when it has none, and a trailing "/".
func normalizeEndpoint(ep string) (string, error) {
	u, err := url.Parse(ep)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("endpoint %q is not an http:// or https:// URL (e.g. http://127.0.0.1:4443/storage/v1/)", redactURL(ep))
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("endpoint %q: only scheme, host, port and path are allowed", redactURL(ep))
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/storage/v1/"
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u.String(), nil
}

// redactURL keeps only scheme, host and path of a URL, for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "(unparsable URL)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}
