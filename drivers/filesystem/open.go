package filesystem

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"

	"github.com/regbackup/regbackup/drivers"
)

func init() {
	drivers.Register("file", open)
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
