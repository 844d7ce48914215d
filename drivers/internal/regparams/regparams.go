// Package regparams reads the parameters of a registry's storage driver
// section (config.yml, REGISTRY_* overrides) as the registry's drivers
// decode them: any YAML type for a scalar, names matched exactly or
// without regard to case (as mapstructure matches them), errors that name the parameter and never
// its value when it may be a secret.
package regparams

import (
	"fmt"
	"strconv"
	"strings"
)

// Reader reads one storage section's parameters. Make it with New or
// Folded.
type Reader map[string]any

// New returns a Reader over params whose names are matched exactly, as
// the registry's s3 driver looks them up.
func New(params map[string]any) Reader { return Reader(params) }

// Folded returns a Reader over params whose names match in any case, as
// mapstructure decodes them (the registry's swift and oss drivers).
func Folded(params map[string]any) Reader {
	r := Reader{}
	for k, v := range params {
		r[strings.ToLower(k)] = v
	}
	return r
}

// Has reports whether name is set (to anything but null).
func (p Reader) Has(name string) bool { return p[name] != nil }

// Str is name's value as a string ("" when not set).
func (p Reader) Str(name string) string {
	if v := p[name]; v != nil {
		return fmt.Sprint(v)
	}
	return ""
}

// Bool is name's value as a boolean, def when not set.
func (p Reader) Bool(name string, def bool) (bool, error) {
	switch v := p[name].(type) {
	case nil:
		return def, nil
	case bool:
		return v, nil
	case string:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("the %s parameter should be a boolean, not %q", name, v)
		}
		return b, nil
	default:
		return false, fmt.Errorf("the %s parameter should be a boolean", name)
	}
}

// Int is name's value as a whole number (0 when not set); floats from
// JSON-like decoders are accepted when whole.
func (p Reader) Int(name string) (int64, error) {
	if !p.Has(name) {
		return 0, nil
	}
	var n int64
	s := strings.TrimSpace(p.Str(name))
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil || strconv.FormatInt(n, 10) != s {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != float64(int64(f)) {
			return 0, fmt.Errorf("the %s parameter should be an integer, not %q", name, s)
		}
		n = int64(f)
	}
	return n, nil
}
