package azure

import "testing"

// TestCopySameService: the service copies only within one account at one
// endpoint, and only when the source's credentials can sign its read.
func TestCopySameService(t *testing.T) {
	base := Config{Account: "acct", ServiceURL: "https://acct.blob.core.windows.net", Credential: SharedKey, AccountKey: "a2V5"}
	for _, tc := range []struct {
		name   string
		adjust func(*Config)
		want   string
	}{
		{"other container and root", func(c *Config) { c.Container, c.RootDirectory, c.LegacyRootPrefix = "b", "r", true }, ""},
		{"SAS source", func(c *Config) { c.Credential, c.AccountKey, c.SAS = SAS, "", "sv=x&sig=y" }, ""},
		{"other account", func(c *Config) { c.Account, c.ServiceURL = "other", "https://other.blob.core.windows.net" }, "it is in another account or at another endpoint"},
		{"other endpoint", func(c *Config) { c.ServiceURL = "http://127.0.0.1:10000/acct" }, "it is in another account or at another endpoint"},
		{"Entra ID source", func(c *Config) { c.Credential, c.AccountKey = DefaultCredentials, "" },
			"its credentials (default_credentials) cannot sign the read the service makes (an account key or a SAS token can)"},
	} {
		other := base
		tc.adjust(&other)
		if got := (&Driver{cfg: base}).sameService(&Driver{cfg: other}); got != tc.want {
			t.Errorf("%s: sameService = %q, want %q", tc.name, got, tc.want)
		}
	}
}
