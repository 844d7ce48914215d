package drivers

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// Opener builds a Driver from a parsed location URL. Scheme-specific query
// parameters are the Opener's to read.
type Opener func(ctx context.Context, u *url.URL) (Driver, error)

var (
	openersMu sync.RWMutex
	openers   = map[string]Opener{}
)

// Register makes a backend available under a URL scheme ("file", "s3", ...).
// Backends call it from init; registering a scheme twice panics.
func Register(scheme string, open Opener) {
	openersMu.Lock()
	defer openersMu.Unlock()
	if _, dup := openers[scheme]; dup {
		panic("drivers: scheme registered twice: " + scheme)
	}
	openers[scheme] = open
}

// Open turns a user's location into a Driver. A location is either a plain
// path (absolute or relative), taken as "file://" + its absolute form, or a
// URL whose scheme a backend registered.
func Open(ctx context.Context, location string) (Driver, error) {
	if location == "" {
		return nil, fmt.Errorf("empty storage location")
	}
	scheme := "file"
	u := &url.URL{Scheme: "file", Path: location}
	if i := strings.Index(location, "://"); i > 0 {
		parsed, err := url.Parse(location)
		if err != nil {
			return nil, fmt.Errorf("storage location %q: %w", location, err)
		}
		u, scheme = parsed, parsed.Scheme
	}
	openersMu.RLock()
	open, ok := openers[scheme]
	openersMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("storage location %q: unknown scheme %q (supported: %s)",
			location, scheme, strings.Join(Schemes(), ", "))
	}
	return open(ctx, u)
}

// Schemes lists the registered URL schemes, sorted.
func Schemes() []string {
	openersMu.RLock()
	defer openersMu.RUnlock()
	var s []string
	for k := range openers {
		s = append(s, k+"://")
	}
	sort.Strings(s)
	return s
}

// ParamsOpener builds a Driver from the parameters of one storage driver in a
// registry's config.yml, e.g. the map under `storage: {s3: {...}}`, read the
// way that registry driver reads them (same names, same defaults; values may
// be strings, bools or numbers, as YAML or a REGISTRY_* environment override
// gives them). Unknown parameters that do not change where data lives are
// ignored. Errors name the parameter that is wrong and never contain secrets.
type ParamsOpener func(ctx context.Context, params map[string]any) (Driver, error)

var paramOpeners = map[string]ParamsOpener{}

// RegisterParams makes a backend available under a registry storage driver
// name ("filesystem", "s3", "s3aws", "gcs", "azure", ...). Backends call it
// from init, once per name they accept; registering a name twice panics.
func RegisterParams(registryDriver string, open ParamsOpener) {
	openersMu.Lock()
	defer openersMu.Unlock()
	if _, dup := paramOpeners[registryDriver]; dup {
		panic("drivers: registry driver registered twice: " + registryDriver)
	}
	paramOpeners[registryDriver] = open
}

// OpenParams builds the Driver for a registry config's storage driver name
// and its parameters. ok is false when no backend handles that name.
func OpenParams(ctx context.Context, registryDriver string, params map[string]any) (d Driver, ok bool, err error) {
	openersMu.RLock()
	open, ok := paramOpeners[registryDriver]
	openersMu.RUnlock()
	if !ok {
		return nil, false, nil
	}
	d, err = open(ctx, params)
	return d, true, err
}

// ParamsDrivers lists the registry storage driver names backends registered, sorted.
func ParamsDrivers() []string {
	openersMu.RLock()
	defer openersMu.RUnlock()
	var s []string
	for k := range paramOpeners {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}
