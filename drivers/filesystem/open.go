package filesystem

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"

	"github.com/regbackup/regbackup/drivers"
)

// DefaultRoot is the registry's rootdirectory when its config names none.
const DefaultRoot = "/var/lib/registry"

func init() {
	drivers.Register("file", open)
	drivers.RegisterParams("filesystem", openParams)
}

// open serves "file:///abs/path" and plain paths (which drivers.Open hands
// over as a file URL with only Path set). Relative paths are made absolute.
// A host, query or fragment is an error. Owner options use the defaults.
func open(_ context.Context, u *url.URL) (drivers.Driver, error) {
	switch {
	case u.Host != "":
		return nil, fmt.Errorf("%s: location %q: a host is not supported (use file:///absolute/path or a plain path)", driverName, u.Redacted())
	case u.Opaque != "", u.RawQuery != "", u.Fragment != "":
		return nil, fmt.Errorf("%s: location %q: only a path is supported", driverName, u.Redacted())
	case u.Path == "":
		return nil, fmt.Errorf("%s: location %q: empty path", driverName, u.Redacted())
	}
	abs, err := filepath.Abs(filepath.FromSlash(u.Path))
	if err != nil {
		return nil, fmt.Errorf("%s: location %q: %w", driverName, u.Path, err)
	}
	return New(abs, Options{})
}

// openParams serves a registry config's `storage: {filesystem: {...}}`.
// Only rootdirectory matters (maxthreads does not change where data lives).
func openParams(_ context.Context, params map[string]any) (drivers.Driver, error) {
	root, err := RootFromParams(params)
	if err != nil {
		return nil, err
	}
	return New(root, Options{})
}

// RootFromParams returns the root folder a registry's filesystem driver
// parameters name, made absolute: rootdirectory, or DefaultRoot when it is
// absent. Like the registry, a number or boolean is taken as its text; an
// empty value is an error (the registry would store data in its working
// directory).
func RootFromParams(params map[string]any) (string, error) {
	v, ok := params["rootdirectory"]
	if !ok {
		return DefaultRoot, nil
	}
	var root string
	switch v := v.(type) {
	case string:
		root = v
	case int, int64, uint64, float64, bool:
		root = fmt.Sprint(v)
	case nil:
	default:
		return "", fmt.Errorf("%s: rootdirectory: want a folder name, got %T", driverName, v)
	}
	if root == "" {
		return "", fmt.Errorf("%s: rootdirectory is empty; set it to the folder that holds docker/ (the registry's default is %s)", driverName, DefaultRoot)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("%s: rootdirectory %s: %w", driverName, root, err)
	}
	return abs, nil
}
