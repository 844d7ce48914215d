package azure

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/regbackup/regbackup/drivers"
)

func openParams(ctx context.Context, params map[string]any) (drivers.Driver, error) {
	cfg, err := FromParams(params)
	if err != nil {
		return nil, err
	}
	return New(ctx, cfg)
}

// FromParams reads the parameters of a registry's `storage: azure:` (or
// GitLab's `azure_v2:`) section the way those registries read them:
//
//	accountname, accountkey, container, realm (default core.windows.net),
//	rootdirectory, serviceurl (default https://ACCOUNT.blob.REALM),
//	connectionstring,
//	credentials: {type: shared_key|client_secret|default_credentials,
//	              clientid, tenantid, secret}               (Distribution 3.x)
//	credentialstype/credentials_type, clientid/client_id,
//	tenantid/tenant_id, secret, max_retries                  (GitLab)
//	legacyrootprefix, trimlegacyrootprefix                    (GitLab)
//
// Names are matched case-insensitively; values may be strings, bools or
// numbers. As in Distribution 3.x, an account key wins over credentials.type,
// and shared_key without a key falls back to default credentials. As in
// GitLab, blob names have no leading slash unless legacyrootprefix is true
// or trimlegacyrootprefix is false (both set and contradicting: error).
// Errors name the parameter and never contain its value when it is secret.
func FromParams(params map[string]any) (Config, error) {
	p := lowerKeys(params)
	str := func(m map[string]any, names ...string) string {
		for _, n := range names {
			if v, ok := m[n]; ok && v != nil {
				return strings.TrimSpace(fmt.Sprint(v))
			}
		}
		return ""
	}
	creds := lowerKeys(asMap(p["credentials"]))
	cfg := Config{
		Account:          str(p, "accountname"),
		AccountKey:       str(p, "accountkey"),
		Container:        str(p, "container"),
		Realm:            str(p, "realm"),
		RootDirectory:    str(p, "rootdirectory"),
		ServiceURL:       str(p, "serviceurl"),
		ConnectionString: str(p, "connectionstring"),
		TenantID:         str(creds, "tenantid", "tenant_id"),
		ClientID:         str(creds, "clientid", "client_id"),
		ClientSecret:     str(creds, "secret"),
	}
	if cfg.TenantID == "" {
		cfg.TenantID = str(p, "tenantid", "tenant_id")
	}
	if cfg.ClientID == "" {
		cfg.ClientID = str(p, "clientid", "client_id")
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = str(p, "secret")
	}
	if cfg.Container == "" {
		return Config{}, paramErr("container", "is missing")
	}
	typ := str(creds, "type")
	if typ == "" {
		typ = str(p, "credentialstype", "credentials_type")
	}
	switch typ {
	case "", string(SharedKey), string(DefaultCredentials), string(ClientSecret):
	default:
		return Config{}, paramErr("credentials.type", fmt.Sprintf("%q is not one of shared_key, client_secret, default_credentials", typ))
	}
	switch {
	case cfg.AccountKey != "":
		cfg.Credential = SharedKey
	case cfg.ConnectionString != "":
	case typ == string(ClientSecret):
		cfg.Credential = ClientSecret
		for name, v := range map[string]string{"credentials.tenantid": cfg.TenantID, "credentials.clientid": cfg.ClientID, "credentials.secret": cfg.ClientSecret} {
			if v == "" {
				return Config{}, paramErr(name, "is missing (needed by client_secret)")
			}
		}
	default:
		cfg.Credential = DefaultCredentials
	}
	if v, ok := p["max_retries"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(fmt.Sprint(v)))
		if err != nil {
			return Config{}, paramErr("max_retries", fmt.Sprintf("%q is not a number", fmt.Sprint(v)))
		}
		cfg.MaxRetries = n
		if n == 0 {
			cfg.MaxRetries = -1
		}
	}
	legacy, err := legacyRootPrefix(p)
	if err != nil {
		return Config{}, err
	}
	cfg.LegacyRootPrefix = legacy
	if cfg.Account == "" && cfg.ServiceURL == "" && cfg.ConnectionString == "" {
		return Config{}, paramErr("accountname", "is missing (or give serviceurl)")
	}
	return cfg, nil
}

// legacyRootPrefix decides GitLab's naming: legacyrootprefix wins when only
// it is set, trimlegacyrootprefix: false means legacy, neither means no
// leading slash, and both must agree.
func legacyRootPrefix(p map[string]any) (bool, error) {
	legacyV, hasLegacy := p["legacyrootprefix"]
	trimV, hasTrim := p["trimlegacyrootprefix"]
	var legacy, trim bool
	var err error
	if hasLegacy {
		if legacy, err = parseBool("legacyrootprefix", legacyV); err != nil {
			return false, err
		}
	}
	if hasTrim {
		if trim, err = parseBool("trimlegacyrootprefix", trimV); err != nil {
			return false, err
		}
	}
	switch {
	case hasLegacy && hasTrim:
		if legacy == trim {
			return false, paramErr("legacyrootprefix", fmt.Sprintf("and trimlegacyrootprefix can not both be %v", legacy))
		}
		return legacy, nil
	case hasLegacy:
		return legacy, nil
	case hasTrim:
		return !trim, nil
	}
	return false, nil
}

func parseBool(name string, v any) (bool, error) {
	switch b := v.(type) {
	case bool:
		return b, nil
	case nil:
		return false, nil
	}
	b, err := strconv.ParseBool(strings.TrimSpace(fmt.Sprint(v)))
	if err != nil {
		return false, paramErr(name, fmt.Sprintf("%q is not true or false", fmt.Sprint(v)))
	}
	return b, nil
}

func paramErr(name, what string) error {
	return fmt.Errorf("%s: storage parameter %s %s", driverName, name, what)
}

// asMap accepts the map types YAML decoders produce.
func asMap(v any) map[string]any {
	switch m := v.(type) {
	case map[string]any:
		return m
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, v := range m {
			out[fmt.Sprint(k)] = v
		}
		return out
	}
	return nil
}

func lowerKeys(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}
