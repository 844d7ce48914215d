package inmemory_test

import (
	"bytes"
	"testing"

	"github.com/regbackup/regbackup/drivers"
	_ "github.com/regbackup/regbackup/drivers/inmemory"
)

func TestOpenNamedStoresAreShared(t *testing.T) {
	ctx := t.Context()
	a, err := drivers.Open(ctx, "inmemory://shared-test")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Put(ctx, "x/y", bytes.NewReader([]byte("hi")), 2); err != nil {
		t.Fatal(err)
	}
	b, err := drivers.Open(ctx, "inmemory://shared-test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Stat(ctx, "x/y"); err != nil {
		t.Fatalf("second Open of the same name does not see the first's file: %v", err)
	}
	if got := b.String(); got != "inmemory://shared-test" {
		t.Errorf("String() = %q", got)
	}
}

func TestOpenUnnamedStoresAreFresh(t *testing.T) {
	ctx := t.Context()
	a, err := drivers.Open(ctx, "inmemory://")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Put(ctx, "x", bytes.NewReader(nil), 0); err != nil {
		t.Fatal(err)
	}
	b, err := drivers.Open(ctx, "inmemory://")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Stat(ctx, "x"); err == nil {
		t.Fatal("two unnamed stores share files")
	}
}

func TestOpenRejectsExtras(t *testing.T) {
	for _, loc := range []string{"inmemory://name/sub", "inmemory://name?x=1", "inmemory://u@name"} {
		if _, err := drivers.Open(t.Context(), loc); err == nil {
			t.Errorf("Open(%q) succeeded, want an error", loc)
		}
	}
}
