package regconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Options tell Load what the registry process would see.
type Options struct {
	// Env is the registry's environment, "KEY=value" entries as
	// os.Environ returns them; its REGISTRY_* entries override the file.
	// Nil means no overrides.
	Env []string
	// WorkDir is the folder relative paths in the config are resolved
	// against. The registry resolves them against its own working
	// directory; regbackup cannot know it, so callers pass their own
	// (run regbackup where the registry runs: "/" for a systemd service or
	// the official image). Empty means the current directory.
	WorkDir string
}

// KeyFile is a file of key material the config names.
type KeyFile struct {
	Key  string // where the config names it, e.g. "auth.htpasswd.path", "http.tls.clientcas[1]"
	Path string // absolute
}

// Config is what regbackup needs from a registry's configuration.
type Config struct {
	// File is the config file read, as given.
	File string
	// Driver is the storage driver name, e.g. "filesystem", "s3", "azure_v2".
	Driver string
	// Params are the driver's parameters after overrides (never nil), with
	// local paths (filesystem rootdirectory, gcs keyfile) made absolute.
	// They may hold secrets: never print them.
	Params map[string]any
	// KeyFiles are the key material files the config names, in a fixed
	// order: http.tls.certificate, http.tls.key, http.tls.clientcas[i],
	// then the auth methods' files in name order.
	KeyFiles []KeyFile
	// Database is GitLab's metadata database section (Enabled DatabaseOff
	// when the config has none). Its Password is a secret.
	Database Database
	// Overrides lists the REGISTRY_* variables that changed what regbackup
	// reads (storage, auth, http.tls, database), and those the registry
	// ignores.
	Overrides []Override
}

// String describes the config without secrets, e.g. "s3 storage from
// /etc/docker/registry/config.yml". It keeps %v of a Config safe to print.
func (c *Config) String() string {
	return fmt.Sprintf("%s storage from %s", c.Driver, c.File)
}

// GoString is String, so that %#v does not print the parameters either.
func (c *Config) GoString() string { return c.String() }

// nonDrivers are the keys of the storage section that configure the
// registry, not a driver (Distribution's Storage.Type skips them).
var nonDrivers = map[string]bool{"delete": true, "redirect": true, "cache": true, "maintenance": true, "tag": true}

// localPaths are the driver parameters that name local files or folders,
// made absolute against Options.WorkDir.
var localPaths = map[string][]string{
	"filesystem": {"rootdirectory"},
	"gcs":        {"keyfile"},
}

// Load reads the registry config file and applies the overrides in
// opts.Env. Errors name the file, and the line when the file is at fault.
func Load(file string, opts Options) (*Config, error) {
	data, err := os.ReadFile(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("registry config %s does not exist (give the registry's config.yml, e.g. /etc/docker/registry/config.yml)", file)
	case err != nil:
		return nil, fmt.Errorf("registry config: %w", err)
	}
	return Parse(file, data, opts)
}

// Parse is Load for a config already read; name is used in messages.
func Parse(name string, data []byte, opts Options) (*Config, error) {
	fail := func(err error) (*Config, error) {
		return nil, fmt.Errorf("registry config %s: %w", name, err)
	}
	root, err := parseYAML(data)
	if err != nil {
		return fail(err)
	}
	doc, err := decodeDocument(root)
	if err != nil {
		return fail(err)
	}
	overrides, err := doc.overrides(opts.Env)
	if err != nil {
		return fail(err)
	}
	c := &Config{File: name, Overrides: overrides}
	if err := c.pickDriver(doc); err != nil {
		return fail(err)
	}
	wd := opts.WorkDir
	if wd == "" {
		if wd, err = os.Getwd(); err != nil {
			return fail(err)
		}
	}
	for _, k := range localPaths[c.Driver] {
		if s, ok := c.Params[k].(string); ok && s != "" {
			c.Params[k] = abs(wd, s)
		}
	}
	if c.KeyFiles, err = keyFiles(doc, wd); err != nil {
		return fail(err)
	}
	if c.Database, err = decodeDatabase(doc.database, wd); err != nil {
		return fail(err)
	}
	return c, nil
}

// pickDriver finds the one storage driver, as the registry does.
func (c *Config) pickDriver(doc *document) error {
	if doc.storage == nil {
		return fmt.Errorf("no storage section (storage:), so the registry would not start")
	}
	var names []string
	for _, k := range sortedKeys(doc.storage) {
		if !nonDrivers[k] {
			names = append(names, k)
		}
	}
	switch len(names) {
	case 0:
		return fmt.Errorf("storage names no driver (only %s), so the registry would not start", strings.Join(sortedKeys(doc.storage), ", "))
	case 1:
	default:
		return severalDrivers(doc, names)
	}
	c.Driver = names[0]
	c.Params = map[string]any{}
	if p, ok := doc.storage[c.Driver].(params); ok {
		c.Params = plainMap(p)
	}
	return nil
}

// severalDrivers explains a storage section with more than one driver,
// pointing at the overrides that added one.
func severalDrivers(doc *document, names []string) error {
	var where []string
	for _, n := range names {
		switch {
		case doc.createdBy[n] != "":
			where = append(where, fmt.Sprintf("%s from %s", n, doc.createdBy[n]))
		case doc.line[doc.key(n)] > 0:
			where = append(where, fmt.Sprintf("%s at line %d", n, doc.line[doc.key(n)]))
		default:
			where = append(where, n)
		}
	}
	msg := fmt.Sprintf("storage names several drivers (%s); the registry refuses that too", strings.Join(where, ", "))
	for _, n := range names {
		if !strings.Contains(n, "_") {
			continue
		}
		prefix := strings.SplitN(n, "_", 2)[0]
		if by := doc.createdBy[prefix]; by != "" {
			return fmt.Errorf("%s: the registry splits variable names at every \"_\", so %s sets storage.%s..., not a parameter of %s; put that parameter in the config file instead", msg, by, prefix, n)
		}
	}
	if len(doc.createdBy) > 0 {
		return fmt.Errorf("%s: unset the REGISTRY_STORAGE_* variables of the driver not in use, or set REGISTRY_STORAGE=<driver> to replace the section", msg)
	}
	return fmt.Errorf("%s: keep one", msg)
}

func (doc *document) key(name string) string { return "storage." + name }

// keyFiles lists the key material files doc names.
func keyFiles(doc *document, wd string) ([]KeyFile, error) {
	var out []KeyFile
	add := func(key, p string) {
		if p != "" {
			out = append(out, KeyFile{Key: key, Path: abs(wd, p)})
		}
	}
	add("http.tls.certificate", doc.tls.certificate)
	add("http.tls.key", doc.tls.key)
	for i, ca := range doc.tls.clientCAs {
		if ca == "" {
			return nil, fmt.Errorf("http.tls.clientcas[%d] is empty", i)
		}
		add(fmt.Sprintf("http.tls.clientcas[%d]", i), ca)
	}
	authFiles := map[string][]string{"htpasswd": {"path"}, "token": {"rootcertbundle", "jwks"}}
	for _, method := range sortedKeys(doc.auth) {
		p, _ := doc.auth[method].(params)
		for _, name := range authFiles[method] {
			key := "auth." + method + "." + name
			switch v := p[name].(type) {
			case nil:
			case string:
				add(key, v)
			default:
				return nil, fmt.Errorf("%s: want a file name, got %s", key, typeName(v))
			}
		}
	}
	return out, nil
}

// Check reports whether the file can be read, naming the config key.
func (k KeyFile) Check() error {
	f, err := os.Open(k.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s names %s, which does not exist", k.Key, k.Path)
	case err != nil:
		return fmt.Errorf("%s names %s: %w", k.Key, k.Path, errors.Unwrap(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s names %s: %w", k.Key, k.Path, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s names %s, which is not a regular file", k.Key, k.Path)
	}
	return nil
}

func abs(wd, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(wd, p)
}

func typeName(v any) string {
	switch v.(type) {
	case bool:
		return "true/false"
	case int, int64, uint64, float64:
		return "a number"
	case []any:
		return "a list"
	case yamlMap, params, map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}
