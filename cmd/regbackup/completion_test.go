package main

import (
	"os"
	"testing"
)

// TestManPageUpToDate: docs/man/regbackup.1 is what the CLI's definitions
// make (run make man after changing a command).
func TestManPageUpToDate(t *testing.T) {
	app := newApp()
	app.Setup() // as Run does: the help command and flags
	want, err := app.ToMan()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../docs/man/regbackup.1")
	if err != nil {
		t.Fatalf("%v: run make man", err)
	}
	if string(got) != want {
		t.Errorf("docs/man/regbackup.1 is out of date: run make man")
	}
}
