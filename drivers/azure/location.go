package azure

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/regbackup/regbackup/drivers"
)

func init() {
	drivers.Register("azure", openURL)
	drivers.RegisterParams("azure", openParams)
	drivers.RegisterParams("azure_v2", openParams)
}

// Environment variables the azure:// scheme reads credentials from (the
// names the Azure CLI uses).
const (
	EnvAccount          = "AZURE_STORAGE_ACCOUNT"
	EnvKey              = "AZURE_STORAGE_KEY"
	EnvConnectionString = "AZURE_STORAGE_CONNECTION_STRING"
	EnvSAS              = "AZURE_STORAGE_SAS_TOKEN"
)

// urlOptions are the query parameters an azure:// location may carry.
var urlOptions = []string{"account", "endpoint", "realm", "legacy-root-prefix"}

// secretParams are query parameters that would put a credential into a
// location (and so into logs, shell history and archive catalogs).
var secretParams = []string{"key", "accountkey", "account-key", "sas", "sig", "connectionstring",
	"connection-string", "secret", "client-secret", "token"}

func openURL(ctx context.Context, u *url.URL) (drivers.Driver, error) {
	cfg, err := ConfigFromURL(u, os.Getenv)
	if err != nil {
		return nil, err
	}
	return New(ctx, cfg)
}

// ConfigFromURL reads azure://CONTAINER[/ROOTDIR]?account=NAME&endpoint=URL
// &realm=SUFFIX&legacy-root-prefix=BOOL, with credentials and a missing
// account from getenv: AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_KEY,
// AZURE_STORAGE_SAS_TOKEN, AZURE_STORAGE_ACCOUNT. Without an account, it is
// taken from the endpoint (https://NAME.blob... or http://host:port/NAME).
// Credentials in the URL itself are refused; errors never repeat them.
func ConfigFromURL(u *url.URL, getenv func(string) string) (Config, error) {
	loc := "azure://" + u.Host + u.EscapedPath()
	bad := func(format string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("%s: location %s: %s", driverName, loc, fmt.Sprintf(format, args...))
	}
	switch {
	case u.Opaque != "":
		return bad("write it as azure://CONTAINER[/ROOTDIR]?account=NAME")
	case u.User != nil:
		return bad("credentials do not belong in the location (they end up in logs and archive catalogs); set %s, %s or %s instead", EnvKey, EnvSAS, EnvConnectionString)
	case u.Host == "":
		return bad("no container: write azure://CONTAINER[/ROOTDIR]?account=NAME")
	case u.Fragment != "":
		return bad("a #fragment is not supported")
	}
	root := strings.Trim(u.Path, "/")
	if root != "" {
		if err := drivers.CheckPath(root); err != nil {
			return bad("root directory %q: %v", root, err)
		}
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return bad("the query is malformed")
	}
	for k := range q {
		switch lk := strings.ToLower(k); {
		case slices.Contains(secretParams, lk) || strings.HasPrefix(lk, "s") && len(lk) == 2:
			// sv, sp, se, st, sr, ss, srt... are SAS token fields.
			return bad("credentials do not belong in the location (they end up in logs and archive catalogs); set %s, %s or %s instead", EnvKey, EnvSAS, EnvConnectionString)
		case !slices.Contains(urlOptions, k):
			return bad("unknown option %q (supported: %s)", k, strings.Join(urlOptions, ", "))
		}
	}
	cfg := Config{
		Container:        u.Host,
		RootDirectory:    root,
		Account:          q.Get("account"),
		ServiceURL:       q.Get("endpoint"),
		Realm:            q.Get("realm"),
		ConnectionString: getenv(EnvConnectionString),
		AccountKey:       getenv(EnvKey),
		SAS:              getenv(EnvSAS),
	}
	if v := q.Get("legacy-root-prefix"); v != "" {
		if cfg.LegacyRootPrefix, err = strconv.ParseBool(v); err != nil {
			return bad("legacy-root-prefix=%q is not true or false", v)
		}
	}
	if cfg.ServiceURL != "" {
		if eu, err := url.Parse(cfg.ServiceURL); err != nil || eu.User != nil || eu.RawQuery != "" {
			return bad("endpoint must be a plain http(s) URL without credentials or query")
		}
	}
	if cfg.Account == "" {
		cfg.Account = getenv(EnvAccount)
	}
	if cfg.Account == "" && cfg.ConnectionString == "" {
		cfg.Account = accountFromEndpoint(cfg.ServiceURL)
	}
	if cfg.Account == "" && cfg.ServiceURL == "" && cfg.ConnectionString == "" {
		return bad("no account: add ?account=NAME (or endpoint=URL), or set %s", EnvAccount)
	}
	if _, err := cfg.withDefaults(); err != nil {
		return Config{}, fmt.Errorf("%s: location %s: %s", driverName, location(cfg), scrubSecrets(err.Error(), (&Driver{cfg: cfg}).secrets()))
	}
	return cfg, nil
}

// accountFromEndpoint guesses the account name from a service URL:
// https://NAME.blob.core.windows.net or Azurite's http://host:port/NAME.
func accountFromEndpoint(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return ""
	}
	if first, rest, ok := strings.Cut(u.Hostname(), "."); ok && strings.HasPrefix(rest, "blob.") {
		return first
	}
	seg, _, _ := strings.Cut(strings.Trim(u.Path, "/"), "/")
	return seg
}
