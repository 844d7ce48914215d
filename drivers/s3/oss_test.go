package s3

import (
	"net/url"
	"strings"
	"testing"
)

func TestFromOSSParameters(t *testing.T) {
	base := func() map[string]any {
		return map[string]any{"accesskeyid": "LTAIkey", "accesskeysecret": "osssecretvalue", "region": "oss-cn-hangzhou",
			"bucket": "reg", "rootdirectory": "/registry/"}
	}
	for _, tc := range []struct {
		name     string
		set      map[string]any
		endpoint string
	}{
		{"public", nil, "https://s3.oss-cn-hangzhou.aliyuncs.com"},
		{"internal", map[string]any{"internal": true}, "https://s3.oss-cn-hangzhou-internal.aliyuncs.com"},
		{"plain http", map[string]any{"secure": false}, "http://s3.oss-cn-hangzhou.aliyuncs.com"},
		{"oss endpoint", map[string]any{"endpoint": "oss-cn-shanghai.aliyuncs.com"}, "https://s3.oss-cn-shanghai.aliyuncs.com"},
		{"custom domain", map[string]any{"endpoint": "oss.example.com"}, "https://oss.example.com"},
		{"endpoint with scheme", map[string]any{"endpoint": "http://127.0.0.1:7070", "secure": true}, "http://127.0.0.1:7070"},
	} {
		p := base()
		for k, v := range tc.set {
			p[k] = v
		}
		c, err := FromOSSParameters(p)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if c.Endpoint != tc.endpoint || c.Region != "cn-hangzhou" || c.PathStyle || c.Bucket != "reg" || c.RootDirectory != "/registry/" ||
			c.AccessKey != "LTAIkey" || c.SecretKey != "osssecretvalue" {
			t.Errorf("%s: %+v", tc.name, c)
		}
		// Object names: rootdirectory + path, as the registry's oss driver.
		if c, err = c.withDefaults(); err != nil || c.RootDirectory != "registry" {
			t.Errorf("%s: root %q, %v", tc.name, c.RootDirectory, err)
		}
	}
	p := base()
	p["encrypt"], p["chunksize"] = true, 8<<20
	if c, err := FromOSSParameters(p); err != nil || c.SSE != SSES3 || c.PartSize != 8<<20 {
		t.Errorf("encrypt, chunksize: %+v, %v", c, err)
	}
	for _, tc := range []struct {
		del, want string
		set       map[string]any
	}{
		{del: "region", want: "no region parameter"},
		{del: "bucket", want: "no bucket parameter"},
		{set: map[string]any{"internal": "perhaps"}, want: "internal parameter should be a boolean"},
		{set: map[string]any{"chunksize": 1024}, want: "chunksize parameter 1024"},
	} {
		p := base()
		delete(p, tc.del)
		for k, v := range tc.set {
			p[k] = v
		}
		_, err := FromOSSParameters(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "osssecretvalue") {
			t.Errorf("%v: %v, want %q", tc, err, tc.want)
		}
	}
}

func TestParseOSSLocation(t *testing.T) {
	u, _ := url.Parse("oss://reg/registry?region=oss-cn-beijing&internal=true&part-size=16MiB")
	c, err := ParseOSSLocation(u)
	if err != nil {
		t.Fatal(err)
	}
	if c.Bucket != "reg" || c.RootDirectory != "registry" || c.Region != "cn-beijing" || c.PartSize != 16<<20 ||
		c.Endpoint != "https://s3.oss-cn-beijing-internal.aliyuncs.com" || c.PathStyle {
		t.Errorf("%+v", c)
	}
	for loc, want := range map[string]string{
		"oss://reg/registry":                       "give the bucket's region",
		"oss://reg?region=cn-beijing&secretkey=x":  "credentials do not belong",
		"oss://reg?region=cn-beijing&internal=yes": "option internal",
	} {
		u, _ := url.Parse(loc)
		if _, err := ParseOSSLocation(u); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", loc, err, want)
		}
	}
}
