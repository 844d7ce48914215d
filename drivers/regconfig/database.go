package regconfig

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// DatabaseEnabled is the database section's enabled setting in GitLab's
// container registry: false, true, or "prefer" (Omnibus's default: the
// database unless the storage says its metadata is on the filesystem).
type DatabaseEnabled int

const (
	DatabaseOff    DatabaseEnabled = iota // enabled: false, or no database section
	DatabaseOn                            // enabled: true
	DatabasePrefer                        // enabled: prefer
)

func (e DatabaseEnabled) String() string {
	switch e {
	case DatabaseOn:
		return "true"
	case DatabasePrefer:
		return "prefer"
	}
	return "false"
}

// Database is the database section of a GitLab container registry's config
// (registry configuration.Database), after REGISTRY_DATABASE_* overrides.
// Distribution's own registry has no such section: it is then the zero
// value, Enabled DatabaseOff.
type Database struct {
	Enabled     DatabaseEnabled
	Host        string
	Port        int // 0: the libpq default, 5432
	User        string
	Password    string // a secret: never print it
	DBName      string
	SSLMode     string
	SSLCert     string // absolute, like every local path of the config
	SSLKey      string
	SSLRootCert string
	// ConnectTimeout is database.connecttimeout; zero means none set.
	ConnectTimeout time.Duration
}

// String describes the database without the password, e.g.
// "postgres://registry@db.internal:5432/registry" ("?sslmode=..." when set).
func (d Database) String() string {
	host := d.Host
	if host == "" {
		host = "localhost"
	}
	s := "postgres://"
	if d.User != "" {
		s += d.User + "@"
	}
	s += host
	if d.Port != 0 {
		s += ":" + strconv.Itoa(d.Port)
	}
	s += "/" + d.DBName
	if d.SSLMode != "" {
		s += "?sslmode=" + d.SSLMode
	}
	return s
}

// GoString is String, so that %#v does not print the password either.
func (d Database) GoString() string { return d.String() }

// databaseFields are the database keys read here: the yaml key is the
// lower-cased Go field name of GitLab's configuration.Database, so an
// override's upper-cased path element (REGISTRY_DATABASE_DBNAME) matches
// strings.ToUpper of the key, as the registry's parser matches struct
// fields. Other keys (pool, loadbalancing, ...) are left alone.
var databaseFields = map[string]bool{
	"enabled": true, "host": true, "port": true, "user": true, "password": true, "dbname": true,
	"sslmode": true, "sslcert": true, "sslkey": true, "sslrootcert": true, "connecttimeout": true,
}

// readDatabase records the file's database section in doc.
func (doc *document) readDatabase(n *yaml.Node) error {
	n = deref(n)
	doc.database = map[string]*yaml.Node{}
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: database: want a mapping, got %s", n.Line, kindName(n))
	}
	for _, e := range pairs(n) {
		if databaseFields[e.key] {
			doc.database[e.key] = e.val
		}
	}
	return nil
}

// overrideDatabase applies REGISTRY_DATABASE (the whole section, a YAML
// mapping) or REGISTRY_DATABASE_<FIELD>. Fields below those (pool, ...) are
// not read here and so not relevant.
func (doc *document) overrideDatabase(path []string, payload string) (ignored string, relevant bool, err error) {
	if len(path) == 0 {
		n, err := parsePayload(payload)
		if err != nil {
			return "", true, err
		}
		doc.database = nil
		return "", true, doc.readDatabase(n)
	}
	key := strings.ToLower(path[0])
	if !databaseFields[key] || len(path) > 1 {
		return "", false, nil
	}
	n, err := parsePayload(payload)
	if err != nil {
		return "", true, err
	}
	if doc.database == nil {
		doc.database = map[string]*yaml.Node{}
	}
	doc.database[key] = n
	return "", true, nil
}

// decodeDatabase turns the recorded section into a Database; wd makes the
// certificate paths absolute. Errors never quote the password.
func decodeDatabase(fields map[string]*yaml.Node, wd string) (Database, error) {
	var d Database
	var err error
	for _, k := range sortedKeys(fields) {
		n := fields[k]
		key := "database." + k
		switch k {
		case "enabled":
			d.Enabled, err = databaseEnabled(n)
		case "port":
			d.Port, err = intField(n, key)
		case "connecttimeout":
			d.ConnectTimeout, err = durationField(n, key)
		case "password":
			if d.Password, err = scalar(n, key); err != nil {
				err = fmt.Errorf("database.password: want a single value")
			}
		default:
			var s string
			if s, err = scalar(n, key); err != nil {
				break
			}
			switch k {
			case "host":
				d.Host = s
			case "user":
				d.User = s
			case "dbname":
				d.DBName = s
			case "sslmode":
				d.SSLMode = s
			case "sslcert", "sslkey", "sslrootcert":
				if s != "" {
					s = abs(wd, s)
				}
				*map[string]*string{"sslcert": &d.SSLCert, "sslkey": &d.SSLKey, "sslrootcert": &d.SSLRootCert}[k] = s
			}
		}
		if err != nil {
			return Database{}, err
		}
	}
	return d, nil
}

// databaseEnabled reads enabled as the registry's DatabaseEnabled does
// (yaml v2): "false", "true" or "prefer", else any YAML 1.1 boolean; null is
// false.
func databaseEnabled(n *yaml.Node) (DatabaseEnabled, error) {
	n = deref(n)
	if isNull(n) {
		return DatabaseOff, nil
	}
	if n.Kind == yaml.ScalarNode {
		switch n.Value {
		case "false":
			return DatabaseOff, nil
		case "true":
			return DatabaseOn, nil
		case "prefer":
			return DatabasePrefer, nil
		}
		if n.Style == 0 || n.Tag == "!!bool" {
			if b, ok := yaml11Bools[n.Value]; ok {
				if b {
					return DatabaseOn, nil
				}
				return DatabaseOff, nil
			}
			var b bool
			if n.Decode(&b) == nil {
				if b {
					return DatabaseOn, nil
				}
				return DatabaseOff, nil
			}
		}
		return 0, fmt.Errorf("line %d: database.enabled: invalid value %q, valid values: false, true, prefer", n.Line, n.Value)
	}
	return 0, fmt.Errorf("line %d: database.enabled: want false, true or prefer, got %s", n.Line, kindName(n))
}

// scalar reads a string field: any single value, null as "".
func scalar(n *yaml.Node, key string) (string, error) { return scalarAs(n, key, "a single value") }

// intField reads a number; null is 0.
func intField(n *yaml.Node, key string) (int, error) {
	s, err := scalar(n, key)
	if err != nil || s == "" {
		return 0, err
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("line %d: %s: want a number, got %q", deref(n).Line, key, s)
	}
	return v, nil
}

// durationField reads a Go duration ("5s") or a number of nanoseconds, as
// yaml v2 does for time.Duration; null is 0.
func durationField(n *yaml.Node, key string) (time.Duration, error) {
	s, err := scalar(n, key)
	if err != nil || s == "" {
		return 0, err
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Duration(v), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("line %d: %s: want a duration like 5s, got %q", deref(n).Line, key, s)
	}
	return v, nil
}
