package regconfig_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/regbackup/regbackup/drivers/inmemory"
	"github.com/regbackup/regbackup/drivers/regconfig"
)

const gitlabConfig = `version: 0.1
storage:
  filesystem: {rootdirectory: /var/opt/gitlab/gitlab-rails/shared/registry}
database:
  enabled: prefer
  host: /var/opt/gitlab/postgresql
  port: 5432
  user: registry
  password: "db-secret-value"
  dbname: registry
  sslmode: verify-full
  sslcert: certs/client.crt
  sslkey: /etc/gitlab/ssl/client.key
  sslrootcert: certs/ca.crt
  connecttimeout: 5s
  pool: {maxopen: 10}
`

func TestDatabaseSection(t *testing.T) {
	c := parse(t, gitlabConfig)
	want := regconfig.Database{Enabled: regconfig.DatabasePrefer, Host: "/var/opt/gitlab/postgresql", Port: 5432,
		User: "registry", Password: "db-secret-value", DBName: "registry", SSLMode: "verify-full",
		SSLCert: "/srv/registry/certs/client.crt", SSLKey: "/etc/gitlab/ssl/client.key",
		SSLRootCert: "/srv/registry/certs/ca.crt", ConnectTimeout: 5 * time.Second}
	if c.Database != want {
		t.Errorf("database %#v\nwant     %#v", c.Database, want)
	}
	for _, s := range []string{c.Database.String(), fmt.Sprintf("%v %+v %#v %s", c.Database, c.Database, c.Database, c)} {
		if strings.Contains(s, "db-secret-value") {
			t.Errorf("the password is printed: %s", s)
		}
	}
	if got := c.Database.String(); got != "postgres://registry@/var/opt/gitlab/postgresql:5432/registry?sslmode=verify-full" {
		t.Errorf("String() = %s", got)
	}
	// Distribution's config has no database section: off.
	if c := parse(t, fsConfig); c.Database != (regconfig.Database{}) || c.Database.Enabled != regconfig.DatabaseOff {
		t.Errorf("no database section: %#v", c.Database)
	}
}

func TestDatabaseEnabledValues(t *testing.T) {
	for v, want := range map[string]regconfig.DatabaseEnabled{
		"true": regconfig.DatabaseOn, "false": regconfig.DatabaseOff, "prefer": regconfig.DatabasePrefer,
		`"true"`: regconfig.DatabaseOn, "yes": regconfig.DatabaseOn, "off": regconfig.DatabaseOff, "~": regconfig.DatabaseOff,
		"True": regconfig.DatabaseOn,
	} {
		c := parse(t, fsConfig+"database: {enabled: "+v+"}\n")
		if c.Database.Enabled != want {
			t.Errorf("enabled: %s = %v, want %v", v, c.Database.Enabled, want)
		}
	}
	for _, v := range []string{"sometimes", `"Prefer"`, "[true]"} {
		msg := parseErr(t, fsConfig+"database: {enabled: "+v+"}\n")
		if !strings.Contains(msg, "database.enabled") {
			t.Errorf("enabled: %s: %s", v, msg)
		}
	}
	if msg := parseErr(t, fsConfig+"database: {port: fivefour}\n"); !strings.Contains(msg, "database.port: want a number") {
		t.Errorf("bad port: %s", msg)
	}
}

func TestDatabaseOverrides(t *testing.T) {
	// As the registry reads them: sorted, REGISTRY_DATABASE (the whole
	// section) first, then one field each; field names are the upper-cased
	// Go names (DBNAME, SSLMODE).
	c := parse(t, gitlabConfig,
		"REGISTRY_DATABASE_PASSWORD=env-secret-pw",
		"REGISTRY_DATABASE_ENABLED=true",
		"REGISTRY_DATABASE_DBNAME=other",
		"REGISTRY_DATABASE_PORT=6432",
		"REGISTRY_DATABASE_POOL_MAXOPEN=3",
	)
	d := c.Database
	if d.Enabled != regconfig.DatabaseOn || d.DBName != "other" || d.Port != 6432 || d.Password != "env-secret-pw" || d.User != "registry" {
		t.Errorf("after overrides: %#v (enabled %v)", d, d.Enabled)
	}
	names := overrideNames(c)
	if strings.Join(names, " ") != "REGISTRY_DATABASE_DBNAME REGISTRY_DATABASE_ENABLED REGISTRY_DATABASE_PASSWORD REGISTRY_DATABASE_PORT" {
		t.Errorf("overrides %v", names)
	}
	c = parse(t, gitlabConfig, "REGISTRY_DATABASE_HOST=db2", "REGISTRY_DATABASE={enabled: true, host: db1, dbname: reg}")
	if d := c.Database; d.Host != "db2" || d.DBName != "reg" || d.User != "" || d.Password != "" {
		t.Errorf("REGISTRY_DATABASE then _HOST: %#v", d)
	}
	msg := parseErr(t, gitlabConfig, "REGISTRY_DATABASE_PASSWORD=[unclosed-secret")
	if strings.Contains(msg, "unclosed-secret") || !strings.Contains(msg, "REGISTRY_DATABASE_PASSWORD") {
		t.Errorf("bad password override: %s", msg)
	}
}

func TestLockfilesAndMetadata(t *testing.T) {
	ctx := context.Background()
	d := inmemory.New()
	put := func(p string) {
		if err := d.Put(ctx, p, strings.NewReader(regconfig.LockfileContent), -1); err != nil {
			t.Fatal(err)
		}
	}
	on := parse(t, fsConfig+"database: {enabled: true}\n")
	prefer := parse(t, fsConfig+"database: {enabled: prefer}\n")
	off := parse(t, fsConfig)
	mode := func(c *regconfig.Config) string {
		lf, err := regconfig.ReadLockfiles(ctx, d)
		if err != nil {
			return "error"
		}
		m, err := c.Metadata(lf)
		if err != nil {
			return "error: " + err.Error()
		}
		return m.String()
	}
	if a, b, c := mode(on), mode(prefer), mode(off); a != "database" || b != "database" || c != "filesystem" {
		t.Errorf("no lockfiles: on %s, prefer %s, off %s", a, b, c)
	}
	put(regconfig.LockfileFilesystem)
	if a, b, c := mode(on), mode(prefer), mode(off); !strings.HasPrefix(a, "error: ") || !strings.Contains(a, "database import") || b != "filesystem" || c != "filesystem" {
		t.Errorf("filesystem-in-use: on %s, prefer %s, off %s", a, b, c)
	}
	put(regconfig.LockfileDatabase)
	if _, err := regconfig.ReadLockfiles(ctx, d); !errors.Is(err, regconfig.ErrBothLockfiles) {
		t.Errorf("both lockfiles: %v", err)
	}
	if err := d.Delete(ctx, regconfig.LockfileFilesystem); err != nil {
		t.Fatal(err)
	}
	if a, b, c := mode(on), mode(prefer), mode(off); a != "database" || b != "database" || !strings.Contains(c, "database: enabled: true") {
		t.Errorf("database-in-use: on %s, prefer %s, off %s", a, b, c)
	}
}
