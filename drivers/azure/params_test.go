package azure

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// storageSection decodes the body of `storage: azure:` as the registry's
// YAML would give it.
func storageSection(t *testing.T, y string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(y), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFromParams(t *testing.T) {
	const key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
	for _, tc := range []struct {
		name, yaml string
		want       Config
	}{
		{"distribution 3.x (test-stack.md)", `
accountname: devstoreaccount1
accountkey: ` + key + `
container: registry
serviceurl: http://127.0.0.1:10000/devstoreaccount1
rootdirectory: /reg
credentials: {type: shared_key}`,
			Config{Account: "devstoreaccount1", AccountKey: key, Container: "registry", ServiceURL: "http://127.0.0.1:10000/devstoreaccount1",
				RootDirectory: "/reg", Credential: SharedKey}},
		{"3.x client_secret", `
accountname: acct
container: registry
realm: core.chinacloudapi.cn
credentials: {type: client_secret, clientid: cid, tenantid: tid, secret: s3cr3t}`,
			Config{Account: "acct", Container: "registry", Realm: "core.chinacloudapi.cn", Credential: ClientSecret,
				ClientID: "cid", TenantID: "tid", ClientSecret: "s3cr3t"}},
		{"3.x default credentials", `
accountname: acct
container: registry
credentials: {type: default_credentials}`,
			Config{Account: "acct", Container: "registry", Credential: DefaultCredentials}},
		{"3.x key wins over the type", `
accountname: acct
accountkey: k
container: registry
credentials: {type: default_credentials}`,
			Config{Account: "acct", AccountKey: "k", Container: "registry", Credential: SharedKey}},
		{"gitlab azure_v2 client_secret", `
credentials_type: client_secret
accountname: acct
tenant_id: tid
client_id: cid
secret: s3cr3t
container: registry
rootdirectory: /gitlab/
legacyrootprefix: true
max_retries: 7`,
			Config{Account: "acct", Container: "registry", RootDirectory: "/gitlab/", Credential: ClientSecret,
				ClientID: "cid", TenantID: "tid", ClientSecret: "s3cr3t", LegacyRootPrefix: true, MaxRetries: 7}},
		{"gitlab docs spelling", `
credentialstype: client_secret
accountname: acct
tenantid: tid
clientid: cid
secret: s3cr3t
container: registry`,
			Config{Account: "acct", Container: "registry", Credential: ClientSecret, ClientID: "cid", TenantID: "tid", ClientSecret: "s3cr3t"}},
		{"gitlab trimlegacyrootprefix false means legacy", `
accountname: acct
accountkey: k
container: registry
trimlegacyrootprefix: false`,
			Config{Account: "acct", AccountKey: "k", Container: "registry", Credential: SharedKey, LegacyRootPrefix: true}},
		{"strings from REGISTRY_* environment", `
AccountName: acct
accountkey: k
container: registry
legacyrootprefix: "true"
trimlegacyrootprefix: "false"`,
			Config{Account: "acct", AccountKey: "k", Container: "registry", Credential: SharedKey, LegacyRootPrefix: true}},
		{"numbers as names", `
accountname: 12345
accountkey: k
container: 1234`,
			Config{Account: "12345", AccountKey: "k", Container: "1234", Credential: SharedKey}},
	} {
		got, err := FromParams(storageSection(t, tc.yaml))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s:\n got  %+v\n want %+v", tc.name, got, tc.want)
		}
	}
}

func TestFromParamsLegacyInference(t *testing.T) {
	for _, tc := range []struct {
		legacy, trim any // nil: absent
		want         bool
		err          bool
	}{
		{nil, nil, false, false},
		{true, nil, true, false},
		{false, nil, false, false},
		{nil, true, false, false},
		{nil, false, true, false},
		{true, false, true, false},
		{false, true, false, false},
		{true, true, false, true},
		{false, false, false, true},
		{"yes", nil, false, true},
	} {
		p := map[string]any{"accountname": "a", "accountkey": "k", "container": "registry"}
		if tc.legacy != nil {
			p["legacyrootprefix"] = tc.legacy
		}
		if tc.trim != nil {
			p["trimlegacyrootprefix"] = tc.trim
		}
		got, err := FromParams(p)
		if (err != nil) != tc.err || (err == nil && got.LegacyRootPrefix != tc.want) {
			t.Errorf("legacyrootprefix=%v trimlegacyrootprefix=%v: legacy %v, err %v; want %v, error %v",
				tc.legacy, tc.trim, got.LegacyRootPrefix, err, tc.want, tc.err)
		}
	}
}

func TestFromParamsErrors(t *testing.T) {
	for _, tc := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"accountname": "a", "accountkey": "SECRETKEY"}, "container is missing"},
		{map[string]any{"container": "registry", "accountkey": "SECRETKEY"}, "accountname"},
		{map[string]any{"accountname": "a", "container": "registry", "credentials": map[any]any{"type": "client_secret", "clientid": "c", "secret": "SECRETKEY"}}, "credentials.tenantid"},
		{map[string]any{"accountname": "a", "container": "registry", "credentials": map[string]any{"type": "password"}}, "credentials.type"},
		{map[string]any{"accountname": "a", "container": "registry", "max_retries": "many"}, "max_retries"},
	} {
		_, err := FromParams(tc.params)
		switch {
		case err == nil:
			t.Errorf("%v: accepted", tc.params)
		case !strings.Contains(err.Error(), tc.want):
			t.Errorf("%v: error %q does not name %q", tc.params, err, tc.want)
		case strings.Contains(err.Error(), "SECRETKEY"):
			t.Errorf("%v: error %q holds a secret", tc.params, err)
		}
	}
}
