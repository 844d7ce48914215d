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
