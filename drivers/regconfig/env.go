package regconfig

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// envPrefix starts every variable the registry reads as an override.
const envPrefix = "REGISTRY_"

// Override is a REGISTRY_* variable and what it did. Only names are kept:
// values may be secrets.
type Override struct {
	Name string // e.g. "REGISTRY_STORAGE_S3_BUCKET"
	// Ignored, when not empty, says why the registry ignores this variable
	// (and so does regbackup), e.g. it reaches below a list.
	Ignored string
}

// overrides applies the REGISTRY_* entries of env to doc the way
// Distribution's configuration.Parser does: sorted by name (so
// REGISTRY_STORAGE comes before REGISTRY_STORAGE_S3_BUCKET), the name after
// the prefix split at every "_" into a path matched against upper-cased
// keys, each value parsed as YAML. Variables for parts regbackup does not
// read (log, redis, notifications, ...) are skipped and not reported.
func (doc *document) overrides(env []string) ([]Override, error) {
	type kv struct{ name, value string }
	var vars []kv
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		if strings.HasPrefix(k, envPrefix) {
			vars = append(vars, kv{k, v})
		}
	}
	sort.SliceStable(vars, func(i, j int) bool { return vars[i].name < vars[j].name })
	var out []Override
	for _, v := range vars {
		path := strings.Split(v.name, "_")[1:]
		ignored, relevant, err := doc.override(v.name, path, v.value)
		if err != nil {
			// The value is never quoted: it may be a secret.
			return out, fmt.Errorf("environment variable %s: %w", v.name, err)
		}
		if relevant {
			out = append(out, Override{Name: v.name, Ignored: ignored})
		}
	}
	return out, nil
}

// override applies one variable. relevant is false for variables about
// parts of the configuration regbackup does not read.
func (doc *document) override(name string, path []string, payload string) (ignored string, relevant bool, err error) {
	switch path[0] {
	case "STORAGE", "AUTH":
		sec := &doc.storage
		if path[0] == "AUTH" {
			sec = &doc.auth
		}
		if len(path) == 1 {
			// The whole section: a name (REGISTRY_STORAGE=s3) or a mapping.
			n, err := parsePayload(payload)
			if err != nil {
				return "", true, err
			}
			s, err := section(n, strings.ToLower(path[0]))
			if err != nil {
				return "", true, err
			}
			*sec = s
			if path[0] == "STORAGE" {
				doc.line = map[string]int{}
				for k := range s {
					doc.createdBy[k] = name
				}
			}
			return "", true, nil
		}
		if *sec == nil {
			*sec = map[string]any{}
		}
		before := map[string]bool{}
		for k := range *sec {
			before[k] = true
		}
		ignored, err = overwriteMap(*sec, path[1:], payload, true)
		if path[0] == "STORAGE" {
			for k := range *sec {
				if !before[k] {
					doc.createdBy[k] = name
				}
			}
		}
		return ignored, true, err
	case "HTTP":
		return doc.overrideHTTP(path[1:], payload)
	case "DATABASE":
		return doc.overrideDatabase(path[1:], payload)
	}
	return "", false, nil
}

// overrideHTTP applies REGISTRY_HTTP, REGISTRY_HTTP_TLS and
// REGISTRY_HTTP_TLS_{CERTIFICATE,KEY,CLIENTCAS}: struct fields in
// Distribution, matched by their upper-cased Go names.
func (doc *document) overrideHTTP(path []string, payload string) (ignored string, relevant bool, err error) {
	switch {
	case len(path) == 0: // REGISTRY_HTTP: the whole http struct
		n, err := parsePayload(payload)
		if err != nil {
			return "", true, err
		}
		doc.tls, err = httpTLS(n, "http")
		return "", true, err
	case path[0] != "TLS":
		return "", false, nil
	case len(path) == 1:
		n, err := parsePayload(payload)
		if err != nil {
			return "", true, err
		}
		doc.tls, err = tlsOf(n, "http.tls")
		return "", true, err
	}
	field := path[1]
	if field != "CERTIFICATE" && field != "KEY" && field != "CLIENTCAS" {
		return "", false, nil
	}
	if len(path) > 2 {
		if field == "CLIENTCAS" {
			return "Distribution does not set single list entries of strings from the environment; set REGISTRY_HTTP_TLS_CLIENTCAS='[a.pem, b.pem]'", true, nil
		}
		return "it reaches below a single value", true, nil
	}
	n, err := parsePayload(payload)
	if err != nil {
		return "", true, err
	}
	switch field {
	case "CERTIFICATE":
		doc.tls.certificate, err = str(n, "http.tls.certificate")
	case "KEY":
		doc.tls.key, err = str(n, "http.tls.key")
	case "CLIENTCAS":
		doc.tls.clientCAs, err = strs(n, "http.tls.clientcas")
	}
	return "", true, err
}

// overwriteMap is Distribution's Parser.overwriteMap: below m (string
// keys), follow path[0] to an existing entry whose upper-cased key equals
// it, or (re)create the entry under the lower-cased name. paramsLevel is
// true when m's values are Parameters (storage or auth): a new entry is
// then a map, and a whole value must be a mapping.
func overwriteMap(m map[string]any, path []string, payload string, paramsLevel bool) (ignored string, err error) {
	if len(path) > 1 {
		for _, k := range sortedKeys(m) {
			if strings.ToUpper(k) != path[0] {
				continue
			}
			cur := m[k]
			if isNilValue(cur) {
				break // recreated below, as Distribution does
			}
			return overwriteValue(cur, path[1:], payload)
		}
	}
	var nv any
	switch {
	case len(path) > 1:
		var base any
		if paramsLevel {
			base = params{}
		}
		nv, ignored, err = overwriteNew(base, path[1:], payload)
	case paramsLevel:
		var n *yaml.Node
		if n, err = parsePayload(payload); err == nil {
			var p params
			if p, err = paramsOf(n, strings.ToLower(path[0])); p == nil {
				p = params{}
			}
			nv = p
		}
	default:
		var n *yaml.Node
		if n, err = parsePayload(payload); err == nil {
			nv, err = value(n)
		}
	}
	if err != nil {
		return "", err
	}
	m[strings.ToLower(path[0])] = nv
	return ignored, nil
}

// overwriteNew is overwriteValue for a fresh entry, which may be nil.
func overwriteNew(base any, path []string, payload string) (any, string, error) {
	if base == nil {
		base = params{} // Distribution's "implicit map" for an empty interface
	}
	ignored, err := overwriteValue(base, path, payload)
	return base, ignored, err
}

// overwriteValue is Distribution's Parser.overwriteFields for the values
// found below parameters.
func overwriteValue(v any, path []string, payload string) (ignored string, err error) {
	switch v := v.(type) {
	case params:
		return overwriteMap(v, path, payload, false)
	case map[string]any:
		return overwriteMap(v, path, payload, false)
	case yamlMap:
		return "it reaches into a mapping read from YAML, which Distribution's overrides do not descend into (map with non-string keys); set the whole mapping, or change config.yml", nil
	case []any:
		if _, err := strconv.Atoi(path[0]); err != nil {
			return "", fmt.Errorf("non-numeric index %q into a list", path[0])
		}
		return "it reaches into a list; set the whole list, or change config.yml", nil
	}
	return "it reaches below a single value", nil
}

// isNilValue reports a missing or null entry, or nil parameters.
func isNilValue(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case params:
		return v == nil
	}
	return false
}

// parsePayload parses a variable's value as one YAML document. Errors never
// quote the value.
func parsePayload(payload string) (*yaml.Node, error) {
	n, err := parseYAML([]byte(payload))
	if err != nil {
		return nil, fmt.Errorf("its value is not valid YAML (%s)", redact(err.Error(), payload))
	}
	return n, nil
}

// redact removes secret from s, in case an error quoted it.
func redact(s, secret string) string {
	secret = strings.TrimSpace(secret)
	if len(secret) < 3 {
		return s
	}
	return strings.ReplaceAll(s, secret, "<redacted>")
}
