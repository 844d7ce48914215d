package azure

import (
	"strings"

	"github.com/regbackup/regbackup/drivers"
)

var _ drivers.StorageConfiger = (*Driver)(nil)

// Placeholders StorageConfig puts where the registry needs a secret; the
// registry's environment overrides them (Distribution does not expand ${...}).
const (
	accountKeyPlaceholder   = "${REGISTRY_STORAGE_AZURE_ACCOUNTKEY}"
	clientSecretPlaceholder = "${REGISTRY_STORAGE_AZURE_CREDENTIALS_SECRET}"
)

// StorageConfig returns the registry storage section that serves this
// location, as Distribution 3.x reads it, e.g. for Azurite:
//
//	azure: {accountname: devstoreaccount1, container: registry, rootdirectory: /reg,
//	        serviceurl: "http://127.0.0.1:10000/devstoreaccount1",
//	        accountkey: "${REGISTRY_STORAGE_AZURE_ACCOUNTKEY}", credentials: {type: shared_key}}
//
// Keys, always in this spelling:
//
//	accountname, container  always (accountname when known)
//	rootdirectory           "/" + the root, when there is one (3.x)
//	serviceurl              a custom endpoint (3.x); else realm when not
//	                        core.windows.net
//	accountkey              the placeholder above, with credentials
//	                        {type: shared_key}, when this Driver used an account
//	                        key, a connection string or a SAS token (the
//	                        registry cannot use a SAS: it needs the key)
//	credentials             {type: default_credentials}, or {type:
//	                        client_secret, clientid, tenantid, secret: the
//	                        placeholder above}
//	legacyrootprefix: true  for 2.x's leading-slash names: Distribution 2.8
//	                        (which knows only accountname, accountkey,
//	                        container and realm, so the root must be empty)
//	                        and GitLab's azure_v2 read them; Distribution 3.x
//	                        ignores the key and would not find the data
func (d *Driver) StorageConfig() (string, map[string]any) {
	c := d.cfg
	p := map[string]any{"container": c.Container}
	if c.Account != "" {
		p["accountname"] = c.Account
	}
	if r := strings.Trim(c.RootDirectory, "/"); r != "" {
		p["rootdirectory"] = "/" + r
	}
	realm := c.Realm
	if realm == "" {
		realm = DefaultRealm
	}
	switch ep := strings.TrimRight(c.ServiceURL, "/"); {
	case ep != "" && ep != "https://"+c.Account+".blob."+realm:
		p["serviceurl"] = ep
	case realm != DefaultRealm:
		p["realm"] = realm
	}
	switch c.Credential {
	case ClientSecret:
		p["credentials"] = map[string]any{"type": string(ClientSecret), "clientid": c.ClientID, "tenantid": c.TenantID,
			"secret": clientSecretPlaceholder}
	case DefaultCredentials:
		p["credentials"] = map[string]any{"type": string(DefaultCredentials)}
	default:
		p["accountkey"] = accountKeyPlaceholder
		p["credentials"] = map[string]any{"type": string(SharedKey)}
	}
	if c.LegacyRootPrefix {
		p["legacyrootprefix"] = true
	}
	return "azure", p
}
