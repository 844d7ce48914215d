package regconfig

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// document holds the parts of a registry configuration regbackup reads,
// shaped like Distribution's Configuration so that overrides apply to it the
// same way: storage and auth are maps of a name to its parameters (values
// are params, or nil for a name without parameters); http.tls is a struct.
type document struct {
	storage map[string]any // nil: no storage section
	auth    map[string]any
	tls     tlsSection
	// database is GitLab's database section, the keys read here (see
	// databaseFields) and their values; nil: no section.
	database map[string]*yaml.Node
	// line is where a key of the file was, for messages ("storage.s3" -> 12);
	// keys an override created have none.
	line map[string]int
	// createdBy names the override that created a storage entry.
	createdBy map[string]string
}

// tlsSection is http.tls: Certificate, Key and ClientCAs of Distribution's
// Configuration.HTTP.TLS.
type tlsSection struct {
	certificate, key string
	clientCAs        []string
}

// decodeDocument reads the top-level mapping of a config file.
func decodeDocument(root *yaml.Node) (*document, error) {
	doc := &document{line: map[string]int{}, createdBy: map[string]string{}}
	if root == nil {
		return doc, nil
	}
	root = deref(root)
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: want a mapping of sections (version:, storage:, http:, ...), got %s", root.Line, kindName(root))
	}
	var err error
	for _, top := range pairs(root) {
		switch top.key {
		case "storage":
			doc.line["storage"] = top.line
			if doc.storage, err = section(top.val, "storage"); err != nil {
				return nil, err
			}
			if v := deref(top.val); v.Kind == yaml.MappingNode {
				for _, e := range pairs(v) {
					doc.line["storage."+e.key] = e.line
				}
			}
		case "auth":
			if doc.auth, err = section(top.val, "auth"); err != nil {
				return nil, err
			}
		case "http":
			if doc.tls, err = httpTLS(top.val, "http"); err != nil {
				return nil, err
			}
		case "database":
			if err = doc.readDatabase(top.val); err != nil {
				return nil, err
			}
		}
	}
	return doc, nil
}

// httpTLS reads the tls part of an http section.
func httpTLS(n *yaml.Node, key string) (tlsSection, error) {
	n = deref(n)
	if isNull(n) {
		return tlsSection{}, nil
	}
	if n.Kind != yaml.MappingNode {
		return tlsSection{}, fmt.Errorf("line %d: %s: want a mapping, got %s", n.Line, key, kindName(n))
	}
	for _, e := range pairs(n) {
		if e.key == "tls" {
			return tlsOf(e.val, key+".tls")
		}
	}
	return tlsSection{}, nil
}

// tlsOf reads an http.tls section.
func tlsOf(n *yaml.Node, key string) (tlsSection, error) {
	var t tlsSection
	n = deref(n)
	if isNull(n) {
		return t, nil
	}
	if n.Kind != yaml.MappingNode {
		return t, fmt.Errorf("line %d: %s: want a mapping, got %s", n.Line, key, kindName(n))
	}
	var err error
	for _, e := range pairs(n) {
		switch e.key {
		case "certificate":
			t.certificate, err = str(e.val, key+".certificate")
		case "key":
			t.key, err = str(e.val, key+".key")
		case "clientcas":
			t.clientCAs, err = strs(e.val, key+".clientcas")
		}
		if err != nil {
			return t, err
		}
	}
	return t, nil
}
