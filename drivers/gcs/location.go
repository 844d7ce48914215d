package gcs

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/regbackup/regbackup/drivers"
)

func init() {
	drivers.Register("gs", open)
	drivers.Register("gcs", open)
}

// open serves "gs://BUCKET[/ROOTDIR]" with the query parameters
//
//	endpoint=URL    the JSON API base URL (an emulator); implies auth=none
//	auth=default    Application Default Credentials, also with endpoint=
//	auth=none       no credentials, also without endpoint=
//	chunksize=N     upload chunk size in bytes, a multiple of 262144
//
// Credentials never come from the URL: user info, or any other parameter,
// is an error, and messages never repeat parameter values.
func open(ctx context.Context, u *url.URL) (drivers.Driver, error) {
	cfg, err := ParseLocation(u)
	if err != nil {
		return nil, err
	}
	return New(ctx, cfg)
}

// ParseLocation turns a gs:// (or gcs://) URL into a Config, without
// connecting.
func ParseLocation(u *url.URL) (Config, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: location %s://%s: %s", driverName, u.Scheme, u.Host, fmt.Sprintf(format, args...))
	}
	switch {
	case u.User != nil:
		return Config{}, fmt.Errorf("%s: location %s://...: credentials in the URL are not supported; "+
			"use GOOGLE_APPLICATION_CREDENTIALS=/path/to/key.json", driverName, u.Scheme)
	case u.Opaque != "" || u.Host == "":
		return Config{}, fmt.Errorf("%s: location: want %s://BUCKET[/ROOTDIR][?endpoint=URL]", driverName, u.Scheme)
	case u.Fragment != "":
		return Config{}, bad("a #fragment is not supported")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Config{}, bad("unreadable query string")
	}
	cfg := Config{Bucket: u.Host, RootDirectory: strings.Trim(u.Path, "/")}
	auth := ""
	for k, vs := range q {
		if len(vs) != 1 {
			return Config{}, bad("parameter %s given %d times", k, len(vs))
		}
		v := vs[0]
		switch k {
		case "endpoint":
			cfg.Endpoint = v
		case "auth":
			if v != "default" && v != "none" {
				return Config{}, bad(`auth must be "default" or "none"`)
			}
			auth = v
		case "chunksize":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 || n%minChunkSize != 0 {
				return Config{}, bad("chunksize must be a positive multiple of %d bytes", minChunkSize)
			}
			cfg.ChunkSize = n
		case "keyfile", "credentials", "key", "token":
			return Config{}, bad("parameter %s is not accepted: credentials never come from a location (it shows in "+
				"process lists, logs and archives); set GOOGLE_APPLICATION_CREDENTIALS=/path/to/key.json", k)
		default:
			return Config{}, bad("unknown parameter %q (known: endpoint, auth, chunksize)", k)
		}
	}
	cfg.Anonymous = auth == "none" || (auth == "" && cfg.Endpoint != "")
	return cfg, nil
}
