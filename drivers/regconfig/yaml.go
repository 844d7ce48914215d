package regconfig

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// params is a string-keyed map that REGISTRY_* overrides descend into: a
// storage driver's or auth method's parameters (Distribution's Parameters
// type), or a map an override created on its way down.
type params map[string]any

// yamlMap is a mapping nested inside parameters, as read from YAML (the file
// or an override's value). Distribution decodes these with yaml v2 into
// map[interface{}]interface{}, and its overrides ignore maps whose keys are
// not strings: an override below a yamlMap changes nothing.
type yamlMap map[string]any

// parseYAML parses one YAML document. An empty document gives nil. Errors
// carry the line ("line 7: did not find expected key") and never the text.
func parseYAML(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, cleanYAMLError(err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// cleanYAMLError turns "yaml: line 7: ..." into one line "line 7: ...".
func cleanYAMLError(err error) error {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	s = strings.Join(strings.Fields(s), " ")
	return fmt.Errorf("%s", s)
}

// deref follows aliases.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// isNull reports whether n is absent or a YAML null.
func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

type pair struct {
	key  string
	line int
	val  *yaml.Node
}

// pairs lists a mapping's entries in document order, merge keys ("<<")
// expanded. A key given twice keeps its last value, as yaml v2 (which
// Distribution uses) does; explicit keys win over merged ones.
func pairs(n *yaml.Node) []pair {
	n = deref(n)
	var explicit, merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			mv := deref(v)
			switch mv.Kind {
			case yaml.MappingNode:
				merged = append(merged, pairs(mv)...)
			case yaml.SequenceNode:
				for _, m := range mv.Content {
					if deref(m).Kind == yaml.MappingNode {
						merged = append(merged, pairs(m)...)
					}
				}
			}
			continue
		}
		explicit = append(explicit, pair{key: k.Value, line: k.Line, val: v})
	}
	seen := map[string]int{}
	var out []pair
	add := func(p pair, override bool) {
		if i, ok := seen[p.key]; ok {
			if override {
				out[i] = p
			}
			return
		}
		seen[p.key] = len(out)
		out = append(out, p)
	}
	for _, p := range explicit {
		add(p, true)
	}
	for _, p := range merged {
		add(p, false) // earlier merged maps take precedence over later ones
	}
	return out
}

// yaml11Bools are the plain scalars yaml v2 (YAML 1.1) reads as booleans
// and yaml v3 (YAML 1.2) as strings. Distribution uses v2, so `secure: no`
// is false for the registry; it must be for us too.
var yaml11Bools = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true, "on": true, "On": true, "ON": true,
	"n": false, "N": false, "no": false, "No": false, "NO": false, "off": false, "Off": false, "OFF": false,
}

// value decodes a node the way yaml v2 decodes into interface{}: mappings
// become yamlMap, sequences []any, scalars string, int, float64, bool or
// nil. Timestamps stay strings, as with v2.
func value(n *yaml.Node) (any, error) {
	n = deref(n)
	if n == nil {
		return nil, nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := yamlMap{}
		for _, p := range pairs(n) {
			v, err := value(p.val)
			if err != nil {
				return nil, err
			}
			m[p.key] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := value(c)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case yaml.ScalarNode:
		if n.Style == 0 {
			if b, ok := yaml11Bools[n.Value]; ok {
				return b, nil
			}
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: cannot read this value (%s)", n.Line, n.Tag)
		}
		if _, isTime := v.(time.Time); isTime {
			return n.Value, nil
		}
		return v, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// paramsOf decodes a driver's or auth method's parameters: a mapping, or
// null (no parameters).
func paramsOf(n *yaml.Node, key string) (params, error) {
	n = deref(n)
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: %s: want a mapping of parameters, got %s", n.Line, key, kindName(n))
	}
	p := params{}
	for _, e := range pairs(n) {
		v, err := value(e.val)
		if err != nil {
			return nil, err
		}
		p[e.key] = v
	}
	return p, nil
}

// section decodes Distribution's Storage and Auth types: a mapping of names
// to parameters, or a bare name (`storage: inmemory`). Null gives nil.
func section(n *yaml.Node, key string) (map[string]any, error) {
	n = deref(n)
	switch {
	case isNull(n):
		return nil, nil
	case n.Kind == yaml.ScalarNode:
		return map[string]any{n.Value: params{}}, nil
	case n.Kind != yaml.MappingNode:
		return nil, fmt.Errorf("line %d: %s: want a name or a mapping, got %s", n.Line, key, kindName(n))
	}
	out := map[string]any{}
	for _, e := range pairs(n) {
		p, err := paramsOf(e.val, key+"."+e.key)
		if err != nil {
			return nil, err
		}
		if p == nil {
			out[e.key] = nil
		} else {
			out[e.key] = p
		}
	}
	return out, nil
}

// str decodes a file name: any scalar, null as "".
func str(n *yaml.Node, key string) (string, error) { return scalarAs(n, key, "a file name") }

// scalarAs decodes a string field: any scalar, null as "". The error says
// the field wants what.
func scalarAs(n *yaml.Node, key, what string) (string, error) {
	n = deref(n)
	if isNull(n) {
		return "", nil
	}
	if n.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("line %d: %s: want %s, got %s", n.Line, key, what, kindName(n))
	}
	return n.Value, nil
}

// strs decodes a list of strings; null gives nil.
func strs(n *yaml.Node, key string) ([]string, error) {
	n = deref(n)
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("line %d: %s: want a list of file names, got %s", n.Line, key, kindName(n))
	}
	var out []string
	for i, c := range n.Content {
		s, err := str(c, fmt.Sprintf("%s[%d]", key, i))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a single value"
	}
	return "something else"
}

// plain turns params and yamlMap values into map[string]any, recursively,
// for the drivers.
func plain(v any) any {
	switch v := v.(type) {
	case params:
		return plainMap(v)
	case yamlMap:
		return plainMap(v)
	case map[string]any:
		return plainMap(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = plain(e)
		}
		return out
	}
	return v
}

func plainMap[M ~map[string]any](m M) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = plain(v)
	}
	return out
}

// sortedKeys returns m's keys in order, so that results never depend on map
// iteration order.
func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
