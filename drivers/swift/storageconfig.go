package swift

import (
	"strings"

	"github.com/regbackup/regbackup/drivers"
)

var _ drivers.StorageConfiger = (*Driver)(nil)

// passwordPlaceholder is what StorageConfig puts where the registry needs
// the password: the registry's environment overrides it
// (REGISTRY_STORAGE_SWIFT_PASSWORD); Distribution does not expand ${...}.
const passwordPlaceholder = "${REGISTRY_STORAGE_SWIFT_PASSWORD}"

// StorageConfig returns the registry storage section that serves this
// location, readable by Distribution 2.x (and Harbor), e.g.
//
//	swift: {authurl: "http://127.0.0.1:8080/auth/v1.0", username: "test:tester",
//	        password: "${REGISTRY_STORAGE_SWIFT_PASSWORD}", container: registry, prefix: /reg}
//
// Keys: authurl, username (or userid as the registry has none: then
// username is the placeholder ${REGISTRY_STORAGE_SWIFT_USERNAME}), password
// (always the placeholder), container, and when set: prefix ("/" + the
// prefix), authversion, region, tenant, tenantid, domain, domainid,
// tenantdomain, tenantdomainid, trustid, endpointtype,
// insecureskipverify: true, chunksize (when not the default).
func (d *Driver) StorageConfig() (string, map[string]any) {
	c := d.cfg
	p := map[string]any{"authurl": c.AuthURL, "username": c.Username, "password": passwordPlaceholder, "container": c.Container}
	if c.Username == "" {
		p["username"] = "${REGISTRY_STORAGE_SWIFT_USERNAME}"
	}
	if pre := strings.TrimLeft(c.Prefix, "/"); pre != "" {
		p["prefix"] = "/" + pre
	}
	if c.AuthVersion != 0 {
		p["authversion"] = c.AuthVersion
	}
	for k, v := range map[string]string{"region": c.Region, "tenant": c.Tenant, "tenantid": c.TenantID, "domain": c.Domain,
		"domainid": c.DomainID, "tenantdomain": c.TenantDomain, "tenantdomainid": c.TenantDomainID, "trustid": c.TrustID,
		"endpointtype": c.EndpointType} {
		if v != "" {
			p[k] = v
		}
	}
	if c.InsecureSkipVerify {
		p["insecureskipverify"] = true
	}
	if c.ChunkSize != DefaultChunkSize {
		p["chunksize"] = c.ChunkSize
	}
	return "swift", p
}
