package main

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/regbackup/regbackup/drivers"
)

// storageSection is the storage section of the config.yml a registry
// serving d needs, as {driver: params}, or nil when d cannot say
// (drivers.StorageConfiger).
func storageSection(d drivers.Driver) map[string]any {
	sc, ok := d.(drivers.StorageConfiger)
	if !ok {
		return nil
	}
	name, params := sc.StorageConfig()
	if params == nil {
		params = map[string]any{}
	}
	return map[string]any{name: params}
}

// formatStorageSection writes section as the YAML of a config.yml:
// "storage:" and the driver's parameters below it, keys sorted, indented
// by two spaces.
func formatStorageSection(section map[string]any) (string, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(map[string]any{"storage": section}); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return b.String(), nil
}

// printStorageSection prints, on stdout, the storage section a registry on
// the target needs, or where the target is (name) when its driver cannot
// say.
func printStorageSection(name string, section map[string]any) {
	text, err := formatStorageSection(section)
	if section == nil || err != nil {
		fmt.Printf("a registry serving the copy needs a storage section for %s\n", name)
		return
	}
	fmt.Printf("a registry serving the copy needs this storage section in its config.yml:\n%s", text)
}
