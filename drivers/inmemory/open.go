package inmemory

import (
	"context"
	"fmt"
	"net/url"
	"sync"

	"github.com/regbackup/regbackup/drivers"
)

// named holds the stores opened as "inmemory://name", for the process's life.
var named struct {
	mu     sync.Mutex
	stores map[string]*Driver
}

func init() {
	drivers.Register("inmemory", open)
}

// open serves "inmemory://" (a fresh store) and "inmemory://name" (the shared
// store called name). Anything after the name is an error.
func open(_ context.Context, u *url.URL) (drivers.Driver, error) {
	if (u.Path != "" && u.Path != "/") || u.Opaque != "" || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("%s: location %q: only inmemory:// or inmemory://name is supported", driverName, u.Redacted())
	}
	if u.Host == "" {
		return New(), nil
	}
	named.mu.Lock()
	defer named.mu.Unlock()
	d, ok := named.stores[u.Host]
	if !ok {
		d = New()
		d.name = u.Host
		if named.stores == nil {
			named.stores = map[string]*Driver{}
		}
		named.stores[u.Host] = d
	}
	return d, nil
}
