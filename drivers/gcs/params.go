package gcs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/regbackup/regbackup/drivers"
)

func init() {
	drivers.RegisterParams("gcs", openParams)
}

// openParams serves a registry config.yml `storage: {gcs: {...}}` section.
func openParams(ctx context.Context, params map[string]any) (drivers.Driver, error) {
	cfg, err := ParseParams(params)
	if err != nil {
		return nil, err
	}
	return New(ctx, cfg)
}

// ParseParams reads the registry gcs driver's parameters the way the
// registry does: bucket (required), rootdirectory, keyfile (a JSON key
// file) or else credentials (the JSON key as a YAML map), else Application
// Default Credentials; chunksize (a multiple of 256 KiB; regbackup's
// default when absent). Other parameters (useragent, maxconcurrency, ...)
// do not change where data lives and are ignored. Errors name the
// parameter, never a credential's value.
func ParseParams(params map[string]any) (Config, error) {
	bad := func(param, format string, args ...any) error {
		return fmt.Errorf("%s: registry storage parameter %s: %s", driverName, param, fmt.Sprintf(format, args...))
	}
	var cfg Config
	b, ok := params["bucket"]
	if !ok || b == nil || fmt.Sprint(b) == "" {
		return Config{}, bad("bucket", "missing (the bucket name is required)")
	}
	cfg.Bucket = fmt.Sprint(b)
	if r, ok := params["rootdirectory"]; ok && r != nil {
		cfg.RootDirectory = fmt.Sprint(r)
	}
	if kf, ok := params["keyfile"]; ok && kf != nil && fmt.Sprint(kf) != "" {
		cfg.KeyFile = fmt.Sprint(kf)
	} else if c, ok := params["credentials"]; ok && c != nil {
		m, err := stringMap(c)
		if err != nil {
			return Config{}, bad("credentials", "%v; want the service-account JSON key as a YAML map", err)
		}
		data, err := json.Marshal(m)
		if err != nil {
			return Config{}, bad("credentials", "cannot be turned into JSON; want the service-account JSON key as a YAML map")
		}
		cfg.CredentialsJSON = data
	}
	if cs, ok := params["chunksize"]; ok && cs != nil {
		n, err := intParam(cs)
		if err != nil || n < minChunkSize || n%minChunkSize != 0 {
			return Config{}, bad("chunksize", "%v is not a multiple of %d (256 KiB)", cs, minChunkSize)
		}
		cfg.ChunkSize = n
	}
	return cfg, nil
}

// stringMap converts a YAML map (string or any keys, nested maps and lists
// included) into one JSON can encode. Errors never quote values.
func stringMap(v any) (map[string]any, error) {
	out := map[string]any{}
	switch m := v.(type) {
	case map[string]any:
		for k, val := range m {
			c, err := jsonValue(val)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
	case map[any]any:
		for k, val := range m {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("a key is not a string")
			}
			c, err := jsonValue(val)
			if err != nil {
				return nil, err
			}
			out[ks] = c
		}
	default:
		return nil, fmt.Errorf("not a map (got a %T)", v)
	}
	return out, nil
}

func jsonValue(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any, map[any]any:
		return stringMap(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			c, err := jsonValue(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	return v, nil
}

// intParam reads an integer given as a number or a string, as YAML or a
// REGISTRY_* environment override gives it.
func intParam(v any) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case uint64:
		return int(x), nil
	case float64:
		if x != float64(int(x)) {
			return 0, fmt.Errorf("not an integer")
		}
		return int(x), nil
	case string:
		return strconv.Atoi(x)
	}
	return 0, fmt.Errorf("not an integer")
}
