package azure

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestStorageConfigRoundTrip: the section StorageConfig gives reads back,
// through the registry-params reader, as the same location and credential
// type (secrets replaced by placeholders).
func TestStorageConfigRoundTrip(t *testing.T) {
	for _, c := range []Config{
		{Account: devAccount, AccountKey: devKey, ServiceURL: devEndpoint, Container: "registry", RootDirectory: "/reg/"},
		{ConnectionString: "UseDevelopmentStorage=true", Container: "registry", LegacyRootPrefix: true},
		{Account: "acct", Container: "ccc", Credential: DefaultCredentials, Realm: "core.chinacloudapi.cn"},
		{Account: "acct", Container: "ccc", Credential: ClientSecret, TenantID: "t", ClientID: "i", ClientSecret: "topsecret", RootDirectory: "a/b"},
		{Account: "acct", Container: "ccc", SAS: "sv=1&sig=sigsecret"},
	} {
		want, err := c.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		name, params := (&Driver{cfg: want}).StorageConfig()
		if s := fmt.Sprint(params); strings.Contains(s, "topsecret") ||
			strings.Contains(s, "sigsecret") || strings.Contains(s, devKey) {
			t.Errorf("StorageConfig shows a secret: %s", s)
		}
		back, err := FromParams(params)
		if err != nil {
			t.Fatalf("%v: %v", params, err)
		}
		got, err := back.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		if name != "azure" || got.Account != want.Account || got.Container != want.Container || got.ServiceURL != want.ServiceURL ||
			rootPrefix(got.RootDirectory, got.LegacyRootPrefix) != rootPrefix(want.RootDirectory, want.LegacyRootPrefix) ||
			got.TenantID != want.TenantID || got.ClientID != want.ClientID {
			t.Errorf("%v reads back as %s, want %s", params, location(got), location(want))
		}
		wantCred := want.Credential
		if wantCred == SAS {
			wantCred = SharedKey
		}
		if got.Credential != wantCred {
			t.Errorf("%v: credential %s, want %s", params, got.Credential, wantCred)
		}
	}
}

// TestStorageConfigAzurite is the exact section for the test stack.
func TestStorageConfigAzurite(t *testing.T) {
	c, _ := Config{Account: devAccount, AccountKey: devKey, ServiceURL: devEndpoint + "/", Container: "registry", RootDirectory: "reg"}.withDefaults()
	_, got := (&Driver{cfg: c}).StorageConfig()
	want := map[string]any{"accountname": devAccount, "container": "registry", "rootdirectory": "/reg", "serviceurl": devEndpoint,
		"accountkey": accountKeyPlaceholder, "credentials": map[string]any{"type": "shared_key"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("StorageConfig() =\n %v\nwant\n %v", got, want)
	}
}
