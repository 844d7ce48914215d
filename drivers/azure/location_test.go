package azure

import (
	"net/url"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigFromURL(t *testing.T) {
	const key = "a2V5a2V5a2V5a2V5"
	for _, tc := range []struct {
		loc  string
		env  map[string]string
		want Config // compared field by field below
		str  string // Driver.String() of the result
	}{
		{
			loc:  "azure://registry/prefix?account=myaccount",
			env:  map[string]string{EnvKey: key},
			want: Config{Container: "registry", RootDirectory: "prefix", Account: "myaccount", AccountKey: key, Credential: SharedKey, ServiceURL: "https://myaccount.blob.core.windows.net"},
			str:  "azure://registry/prefix?account=myaccount",
		},
		{
			loc:  "azure://registry/reg?account=devstoreaccount1&endpoint=http://127.0.0.1:10000/devstoreaccount1",
			env:  map[string]string{EnvKey: key},
			want: Config{Container: "registry", RootDirectory: "reg", Account: "devstoreaccount1", Credential: SharedKey, ServiceURL: "http://127.0.0.1:10000/devstoreaccount1"},
			str:  "azure://registry/reg?account=devstoreaccount1&endpoint=http://127.0.0.1:10000/devstoreaccount1",
		},
		{
			loc:  "azure://registry//a/b/?endpoint=http://127.0.0.1:10000/devstoreaccount1/&legacy-root-prefix=true",
			env:  map[string]string{EnvSAS: "?sv=2024&sig=abc"},
			want: Config{Container: "registry", RootDirectory: "a/b", Account: "devstoreaccount1", Credential: SAS, SAS: "sv=2024&sig=abc", LegacyRootPrefix: true, ServiceURL: "http://127.0.0.1:10000/devstoreaccount1"},
			str:  "azure://registry/a/b?account=devstoreaccount1&endpoint=http://127.0.0.1:10000/devstoreaccount1&legacy-root-prefix=true",
		},
		{
			loc:  "azure://registry?account=gov&realm=core.usgovcloudapi.net",
			env:  map[string]string{},
			want: Config{Container: "registry", Account: "gov", Credential: DefaultCredentials, ServiceURL: "https://gov.blob.core.usgovcloudapi.net"},
			str:  "azure://registry?account=gov&realm=core.usgovcloudapi.net",
		},
		{
			loc:  "azure://registry",
			env:  map[string]string{EnvConnectionString: "DefaultEndpointsProtocol=https;AccountName=fromcs;AccountKey=" + key + ";EndpointSuffix=core.windows.net"},
			want: Config{Container: "registry", Account: "fromcs", AccountKey: key, Credential: SharedKey, ServiceURL: "https://fromcs.blob.core.windows.net"},
			str:  "azure://registry?account=fromcs",
		},
		{
			loc:  "azure://registry?endpoint=https://acct.blob.core.windows.net",
			env:  map[string]string{EnvAccount: ""},
			want: Config{Container: "registry", Account: "acct", Credential: DefaultCredentials, ServiceURL: "https://acct.blob.core.windows.net"},
			str:  "azure://registry?account=acct",
		},
		{
			loc:  "azure://registry",
			env:  map[string]string{EnvAccount: "fromenv", EnvKey: key},
			want: Config{Container: "registry", Account: "fromenv", Credential: SharedKey, ServiceURL: "https://fromenv.blob.core.windows.net"},
			str:  "azure://registry?account=fromenv",
		},
	} {
		u, err := url.Parse(tc.loc)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := ConfigFromURL(u, env(tc.env))
		if err != nil {
			t.Errorf("%s: %v", tc.loc, err)
			continue
		}
		got, err := cfg.withDefaults()
		if err != nil {
			t.Errorf("%s: withDefaults: %v", tc.loc, err)
			continue
		}
		w := tc.want
		if got.Container != w.Container || got.RootDirectory != w.RootDirectory || got.Account != w.Account ||
			got.Credential != w.Credential || got.ServiceURL != w.ServiceURL || got.LegacyRootPrefix != w.LegacyRootPrefix ||
			(w.SAS != "" && got.SAS != w.SAS) || (w.AccountKey != "" && got.AccountKey != w.AccountKey) {
			t.Errorf("%s:\n got  %+v\n want %+v", tc.loc, got, w)
		}
		if s := location(got); s != tc.str {
			t.Errorf("%s: String() = %q, want %q", tc.loc, s, tc.str)
		}
	}
}

func TestConfigFromURLRejects(t *testing.T) {
	const secret = "c2VjcmV0c2VjcmV0"
	for _, tc := range []struct{ loc, want string }{
		{"azure://registry?account=a&key=" + secret, "do not belong in the location"},
		{"azure://registry?account=a&sv=2024&sig=" + secret, "do not belong in the location"},
		{"azure://user:" + secret + "@registry?account=a", "do not belong in the location"},
		{"azure://registry?account=a&endpoint=https://a.blob.core.windows.net/?sig=" + secret, "without credentials"},
		{"azure://registry?account=a&endpoint=" + url.QueryEscape("https://a.blob.core.windows.net/?sig="+secret), "without credentials"},
		{"azure://registry?account=a&bogus=1", `unknown option "bogus"`},
		{"azure://registry?account=a&legacy-root-prefix=maybe", "not true or false"},
		{"azure://Registry?account=a", "not valid"},
		{"azure://ab?account=a", "not valid"},
		{"azure://registry/a/../b?account=a", "root directory"},
		{"azure:registry", "azure://CONTAINER"},
		{"azure://registry", "no account"},
		{"azure://registry?endpoint=ftp://x", "not an http(s) URL"},
		{"azure://registry?endpoint=http://127.0.0.1:10000/devstoreaccount1", "only sent over https"},
	} {
		u, err := url.Parse(tc.loc)
		if err != nil {
			t.Fatalf("%s: %v", tc.loc, err)
		}
		_, err = ConfigFromURL(u, env(nil))
		switch {
		case err == nil:
			t.Errorf("%s: accepted", tc.loc)
		case !strings.Contains(err.Error(), tc.want):
			t.Errorf("%s: error %q does not say %q", tc.loc, err, tc.want)
		case strings.Contains(err.Error(), secret):
			t.Errorf("%s: error %q repeats the secret", tc.loc, err)
		case strings.Contains(err.Error(), "\n"):
			t.Errorf("%s: error has several lines: %q", tc.loc, err)
		}
	}
}

func TestConnectionString(t *testing.T) {
	for _, tc := range []struct {
		cs   string
		want connString
	}{
		{"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=k==;EndpointSuffix=core.chinacloudapi.cn",
			connString{account: "acct", key: "k==", serviceURL: "https://acct.blob.core.chinacloudapi.cn"}},
		{"BlobEndpoint=https://acct.blob.core.windows.net/;SharedAccessSignature=sv=2024&sig=x%3D",
			connString{sas: "sv=2024&sig=x%3D", serviceURL: "https://acct.blob.core.windows.net/"}},
		{"UseDevelopmentStorage=true", connString{account: devAccount, key: devKey, serviceURL: devEndpoint}},
		{"AccountName=acct;AccountKey=k;BlobEndpoint=http://127.0.0.1:10000/acct;",
			connString{account: "acct", key: "k", serviceURL: "http://127.0.0.1:10000/acct"}},
	} {
		got, err := parseConnectionString(tc.cs)
		if err != nil || got != tc.want {
			t.Errorf("%q: %+v, %v; want %+v", tc.cs, got, err, tc.want)
		}
	}
	for _, bad := range []string{"AccountKey=SECRETKEY", "garbage-SECRETKEY"} {
		_, err := parseConnectionString(bad)
		if err == nil || strings.Contains(err.Error(), "SECRETKEY") {
			t.Errorf("%q: error %v; want one that does not quote the string", bad, err)
		}
	}
}

func TestRootPrefix(t *testing.T) {
	const p = "docker/registry/v2/blobs/sha256/aa/aa/data"
	for _, tc := range []struct {
		root   string
		legacy bool
		want   string
	}{
		{"", false, p},
		{"/", false, p},
		{"/reg", false, "reg/" + p},
		{"reg/", false, "reg/" + p},
		{"/a/b/", false, "a/b/" + p},
		{"", true, "/" + p},
		{"/", true, "/" + p},
		{"/reg/", true, "/reg/" + p},
	} {
		d := &Driver{prefix: rootPrefix(tc.root, tc.legacy)}
		if got := d.blobName(p); got != tc.want {
			t.Errorf("root %q legacy %v: blob name %q, want %q", tc.root, tc.legacy, got, tc.want)
		}
	}
}
