package regconfig_test

import (
	"strings"
	"testing"

	"github.com/regbackup/regbackup/drivers/regconfig"
)

// FuzzParse feeds arbitrary config files to the registry config reader:
// it must never panic, its errors are one line, and a config it accepts
// describes itself without the secret planted in it.
func FuzzParse(f *testing.F) {
	const secret = "pl4nted-s3cret"
	for _, yml := range []string{
		"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /var/lib/registry\n",
		"version: 0.1\nstorage:\n  s3:\n    region: us-east-1\n    bucket: b\n    accesskey: AK\n    secretkey: " + secret + "\n    regionendpoint: http://127.0.0.1:9000\n",
		"version: 0.1\nstorage:\n  azure:\n    accountname: a\n    accountkey: " + secret + "\n    container: c\n",
		"version: 0.1\nstorage:\n  filesystem: {rootdirectory: /r}\ndatabase: {enabled: true, host: db, port: 5432, user: registry, password: " + secret + ", dbname: registry, sslmode: disable}\n",
		"version: 0.1\nstorage: {swift: {authurl: 'http://k/v3', username: u, password: " + secret + ", container: c}}\nauth: {htpasswd: {realm: r, path: ../htpasswd}}\n",
		"storage: [",
	} {
		f.Add([]byte(yml))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := regconfig.Parse("config.yml", data, regconfig.Options{WorkDir: "/srv/registry"})
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error shows the secret: %q", err)
			}
			return
		}
		if s := c.String(); strings.Contains(s, secret) {
			t.Fatalf("the config describes itself with the secret: %s", s)
		}
	})
}
