package regconfig

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/regbackup/regbackup/drivers"
)

// ErrUnsupported is wrapped by Open's error when regbackup cannot read the
// config's storage driver (inmemory, or a name it does not know).
var ErrUnsupported = errors.New("unsupported storage driver")

// knownDrivers are the registry driver names regbackup has a backend for,
// whether or not this build registered it.
var knownDrivers = map[string]bool{
	"filesystem": true, "s3": true, "s3aws": true, "s3_v2": true,
	"gcs": true, "azure": true, "azure_v2": true, "swift": true, "oss": true,
}

// unsupported says what to do instead for drivers regbackup never reads.
var unsupported = map[string]string{
	"inmemory": "inmemory storage disappears when the registry stops: there is nothing on disk to back up",
}

// Supported reports, as an error wrapping ErrUnsupported, a driver that
// Open cannot open; nil when a backend registered the driver name.
func (c *Config) Supported() error {
	if msg, ok := unsupported[c.Driver]; ok {
		return fmt.Errorf("registry config %s: %w: %s", c.File, ErrUnsupported, msg)
	}
	for _, name := range drivers.ParamsDrivers() {
		if name == c.Driver {
			return nil
		}
	}
	readable := strings.Join(drivers.ParamsDrivers(), ", ")
	if knownDrivers[c.Driver] {
		return fmt.Errorf("registry config %s: %w: storage driver %s is not built into this regbackup (it reads: %s)", c.File, ErrUnsupported, c.Driver, readable)
	}
	return fmt.Errorf("registry config %s: %w %q (regbackup reads: %s)", c.File, ErrUnsupported, c.Driver, readable)
}

// Open opens the config's storage through the backend registered for its
// driver name (drivers.RegisterParams). Errors name the config file and
// never contain a secret, even if a backend's error quoted one.
func (c *Config) Open(ctx context.Context) (drivers.Driver, error) {
	if err := c.Supported(); err != nil {
		return nil, err
	}
	d, ok, err := drivers.OpenParams(ctx, c.Driver, c.Params)
	switch {
	case !ok:
		return nil, c.Supported()
	case err != nil:
		return nil, redactedError{
			// Backends' errors start with their own name ("s3: bucket ...").
			msg: fmt.Sprintf("registry config %s: %s", c.File, RedactSecrets(err.Error(), c.Params)),
			err: err,
		}
	}
	return d, nil
}

// redactedError keeps the wrapped error for errors.Is but prints msg.
type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }
