package swift

import (
	"context"
	"fmt"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/internal/regparams"
)

func init() {
	drivers.RegisterParams("swift", func(ctx context.Context, params map[string]any) (drivers.Driver, error) {
		c, err := FromParameters(params)
		if err != nil {
			return nil, fmt.Errorf("%s: registry storage parameters: %w", driverName, err)
		}
		return New(ctx, c)
	})
}

// FromParameters reads the parameters of a registry's `storage: swift:`
// section the way Distribution 2.x's swift driver reads them (names in any
// case, as mapstructure decodes them; values may be strings, bools or
// numbers):
//
//	authurl, username, password   required by the registry; here any of them
//	                              may come from OS_AUTH_URL, OS_USERNAME, OS_PASSWORD
//	tenant, tenantid              the project
//	domain, domainid              the user's domain
//	tenantdomain, tenantdomainid  the project's domain
//	trustid, region, endpointtype, insecureskipverify
//	authversion                   1, 2 or 3 (0 or unset: from the URL)
//	container                     required
//	prefix                        as the registry uses it: objects are named
//	                              prefix + "/files/" + path, leading "/" dropped
//	chunksize                     segment size of large objects written (default
//	                              20 MiB, at least 1 MiB)
//
// Parameters that do not change where data lives (secretkey, accesskey,
// tempurlcontainerkey, tempurlmethods) are ignored. Errors name the
// parameter and never show the password.
func FromParameters(params map[string]any) (Config, error) {
	p := regparams.Folded(params)
	c := Config{
		AuthURL: p.Str("authurl"), Username: p.Str("username"), Password: p.Str("password"),
		Tenant: p.Str("tenant"), TenantID: p.Str("tenantid"), Domain: p.Str("domain"), DomainID: p.Str("domainid"),
		TenantDomain: p.Str("tenantdomain"), TenantDomainID: p.Str("tenantdomainid"), TrustID: p.Str("trustid"),
		Region: p.Str("region"), EndpointType: p.Str("endpointtype"), Container: p.Str("container"), Prefix: p.Str("prefix"),
	}
	if c.Container == "" {
		return c, fmt.Errorf("no container parameter")
	}
	var err error
	if c.InsecureSkipVerify, err = p.Bool("insecureskipverify", false); err != nil {
		return c, err
	}
	v, err := p.Int("authversion")
	if err != nil {
		return c, err
	}
	if v < 0 || v > 3 {
		return c, fmt.Errorf("the authversion parameter %d should be 1, 2 or 3", v)
	}
	c.AuthVersion = int(v)
	if p.Has("chunksize") {
		if c.ChunkSize, err = p.Int("chunksize"); err != nil {
			return c, err
		}
		if c.ChunkSize < MinChunkSize {
			return c, fmt.Errorf("the chunksize parameter %d should be at least %d", c.ChunkSize, MinChunkSize)
		}
	}
	return c, nil
}
