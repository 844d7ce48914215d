package swift

import (
	"net/url"
	"strings"
	"testing"
)

func TestFromParameters(t *testing.T) {
	c, err := FromParameters(map[string]any{
		"authurl": "https://keystone.example.com/v3", "username": "reg", "password": "s3cret-pass",
		"Tenant": "proj", "tenantid": "p1", "domain": "Default", "domainid": "d1", "tenantdomain": "td", "tenantdomainid": "td1",
		"trustid": "tr", "region": "RegionOne", "authversion": 3, "endpointtype": "internal", "insecureskipverify": "true",
		"container": "registry", "prefix": "/reg", "chunksize": "5242880", "tempurlmethods": []any{"GET"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{AuthURL: "https://keystone.example.com/v3", Username: "reg", Password: "s3cret-pass", Tenant: "proj", TenantID: "p1",
		Domain: "Default", DomainID: "d1", TenantDomain: "td", TenantDomainID: "td1", TrustID: "tr", Region: "RegionOne", AuthVersion: 3,
		EndpointType: "internal", InsecureSkipVerify: true, Container: "registry", Prefix: "/reg", ChunkSize: 5 << 20}
	if c != want {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
	for _, tc := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"authurl": "x"}, "no container parameter"},
		{map[string]any{"container": "c", "chunksize": 1000}, "chunksize parameter 1000 should be at least 1048576"},
		{map[string]any{"container": "c", "authversion": 4}, "authversion parameter 4"},
		{map[string]any{"container": "c", "insecureskipverify": "maybe"}, "insecureskipverify parameter should be a boolean"},
	} {
		if _, err := FromParameters(tc.params); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.params, err, tc.want)
		}
	}
}

func TestParseLocation(t *testing.T) {
	u, _ := url.Parse("swift://registry/reg/?auth=https://ks.example.com/v3&region=RegionOne&tenant=proj&domain=Default&endpoint-type=internal&chunk-size=5MiB&skip-verify=true&auth-version=3")
	c, err := ParseLocation(u)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Container: "registry", Prefix: "reg", AuthURL: "https://ks.example.com/v3", Region: "RegionOne", Tenant: "proj",
		Domain: "Default", EndpointType: "internal", ChunkSize: 5 << 20, InsecureSkipVerify: true, AuthVersion: 3}
	if c != want {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
	if got := c.location(); got != "swift://registry/reg?auth=https://ks.example.com/v3&auth-version=3&region=RegionOne&tenant=proj&domain=Default&endpoint-type=internal" {
		t.Errorf("location() = %s", got)
	}
	for _, tc := range []struct{ loc, want string }{
		{"swift://user:pw@registry/reg", "credentials do not belong in the location"},
		{"swift://registry?password=pw", "option password: credentials do not belong"},
		{"swift://registry?user=u", "option user: credentials do not belong"},
		{"swift://registry?colour=red", `unknown option "colour"`},
		{"swift://registry?auth-version=7", "want 1, 2 or 3"},
		{"swift:///reg", "want swift://CONTAINER"},
	} {
		u, err := url.Parse(tc.loc)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ParseLocation(u)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.loc, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("%s: error shows the password: %v", tc.loc, err)
		}
	}
}

func TestStorageConfig(t *testing.T) {
	d := &Driver{cfg: Config{AuthURL: "http://127.0.0.1:8080/auth/v1.0", Username: "test:tester", Password: "testing",
		Container: "registry", Prefix: "reg", ChunkSize: 5 << 20, Region: "R1"}}
	name, p := d.StorageConfig()
	if name != "swift" {
		t.Errorf("driver %q", name)
	}
	want := map[string]any{"authurl": "http://127.0.0.1:8080/auth/v1.0", "username": "test:tester", "password": passwordPlaceholder,
		"container": "registry", "prefix": "/reg", "chunksize": int64(5 << 20), "region": "R1"}
	if len(p) != len(want) {
		t.Errorf("params %v, want %v", p, want)
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s = %v (%T), want %v", k, p[k], p[k], v)
		}
	}
	// What the section says is read back to the same location.
	back, err := FromParameters(p)
	if err != nil || back.Container != "registry" || back.Prefix != "/reg" || back.ChunkSize != 5<<20 {
		t.Errorf("FromParameters(StorageConfig()) = %+v, %v", back, err)
	}
}
