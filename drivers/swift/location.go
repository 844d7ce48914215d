package swift

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/internal/locopt"
)

func init() {
	drivers.Register("swift", func(ctx context.Context, u *url.URL) (drivers.Driver, error) {
		c, err := ParseLocation(u)
		if err != nil {
			return nil, err
		}
		return New(ctx, c)
	})
}

// locationOptions are the query parameters ParseLocation knows.
var locationOptions = []string{"auth", "auth-version", "chunk-size", "domain", "domain-id", "endpoint-type",
	"region", "skip-verify", "tenant", "tenant-domain", "tenant-domain-id", "tenant-id", "trust-id"}

// credentialHint says where Swift credentials go instead of a location.
const credentialHint = "credentials do not belong in the location (it is printed and stored in the archive): set OS_USERNAME and OS_PASSWORD (ST_USER and ST_KEY for v1 auth)"

// ParseLocation reads a location of the form
//
//	swift://CONTAINER[/PREFIX][?OPTION=VALUE&...]
//
// where PREFIX is the registry's prefix (swift://registry/reg holds what a
// registry with container: registry and prefix: /reg stores), with the options
//
//	auth=URL               Keystone or v1 auth URL (default: OS_AUTH_URL, ST_AUTH)
//	auth-version=1|2|3     default: from the URL ("v3", "v2", "v1" in it)
//	region=R               object-store region in the catalog (default: OS_REGION_NAME, else the first)
//	tenant=NAME            project (default: OS_PROJECT_NAME, OS_TENANT_NAME); tenant-id=ID
//	domain=NAME            the user's domain (default: OS_USER_DOMAIN_NAME); domain-id=ID
//	tenant-domain=NAME     the project's domain, when it differs; tenant-domain-id=ID
//	trust-id=ID            a Keystone trust
//	endpoint-type=T        public (default), internal or admin
//	chunk-size=SIZE        segment size of the large objects written (default 20MiB, at least 1MiB)
//	skip-verify=true       accept any TLS certificate
//
// The user and password come from OS_USERNAME (or OS_USER_ID) and
// OS_PASSWORD (ST_USER and ST_KEY for v1 auth), never from the location.
func ParseLocation(u *url.URL) (Config, error) {
	var c Config
	where := "swift://" + u.Host + u.EscapedPath()
	if u.User != nil {
		return c, fmt.Errorf("%s: location %s: %s", driverName, where, credentialHint)
	}
	if u.Host == "" || u.Opaque != "" || u.Fragment != "" {
		return c, fmt.Errorf("%s: location %s: want swift://CONTAINER[/PREFIX][?auth=URL&region=...]", driverName, where)
	}
	c.Container = u.Host
	c.Prefix = strings.Trim(u.Path, "/")
	if err := locopt.Each(u, c.setOption); err != nil {
		return c, fmt.Errorf("%s: location %s: %w", driverName, where, err)
	}
	return c, nil
}

// setOption applies one location query option.
func (c *Config) setOption(k, v string) error {
	var err error
	switch k {
	case "auth":
		c.AuthURL = v
	case "auth-version":
		c.AuthVersion, err = strconv.Atoi(v)
		if err != nil || c.AuthVersion < 1 || c.AuthVersion > 3 {
			return fmt.Errorf("option auth-version=%q: want 1, 2 or 3", v)
		}
	case "region":
		c.Region = v
	case "tenant":
		c.Tenant = v
	case "tenant-id":
		c.TenantID = v
	case "domain":
		c.Domain = v
	case "domain-id":
		c.DomainID = v
	case "tenant-domain":
		c.TenantDomain = v
	case "tenant-domain-id":
		c.TenantDomainID = v
	case "trust-id":
		c.TrustID = v
	case "endpoint-type":
		c.EndpointType = v
	case "chunk-size":
		c.ChunkSize, err = locopt.Size(k, v)
	case "skip-verify":
		c.InsecureSkipVerify, err = locopt.Bool(k, v)
	default:
		if locopt.IsCredential(k) {
			return fmt.Errorf("option %s: %s", k, credentialHint)
		}
		return fmt.Errorf("unknown option %q (known: %s)", k, strings.Join(locationOptions, ", "))
	}
	return err
}
