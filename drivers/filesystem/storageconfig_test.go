package filesystem

import (
	"testing"

	"github.com/regbackup/regbackup/drivers"
)

// TestStorageConfigRoundTrip: the section StorageConfig gives opens the
// same folder through the registry-params opener.
func TestStorageConfigRoundTrip(t *testing.T) {
	dir := t.TempDir()
	d, err := New(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	name, params := d.StorageConfig()
	if name != "filesystem" || len(params) != 1 || params["rootdirectory"] != dir {
		t.Fatalf("StorageConfig() = %q, %v; want filesystem, {rootdirectory: %s}", name, params, dir)
	}
	back, ok, err := drivers.OpenParams(t.Context(), name, params)
	if !ok || err != nil {
		t.Fatalf("OpenParams(%q, %v) = %v, %v", name, params, ok, err)
	}
	if back.String() != d.String() {
		t.Errorf("reopened as %s, want %s", back, d)
	}
}
