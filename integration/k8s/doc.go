// Package k8s tests the Kubernetes manifests in contrib/kubernetes: every
// document decodes strictly (no unknown or misspelled field) into its
// Kubernetes API type, and the regbackup command lines in them are ones
// regbackup accepts.
//
// It is a module of its own so that the main module does not carry the
// Kubernetes API types (k8s.io/api, k8s.io/apimachinery and their
// dependencies) for a test of YAML files. `make test` runs it.
package k8s
