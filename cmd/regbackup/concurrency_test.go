package main

import (
	"errors"
	"strings"
	"testing"
)

func TestConcurrencyFlag(t *testing.T) {
	for _, cmd := range []string{"backup", "restore"} {
		c := newApp().Command(cmd)
		var help string
		for _, f := range c.Flags {
			if s := f.String(); strings.Contains(s, "--concurrency") {
				help = s
			}
		}
		if !strings.Contains(help, "16 for object stores, 4 for the filesystem") {
			t.Errorf("%s --help: --concurrency reads %q, want its defaults", cmd, help)
		}
		for _, bad := range []string{"0", "-3"} {
			args := []string{"regbackup", cmd, "--concurrency", bad}
			if cmd == "backup" {
				args = append(args, "--from", "/nonexistent", "-o", "/nonexistent/x.tar")
			} else {
				args = append(args, "--to", "/nonexistent", "/nonexistent/x.tar")
			}
			app := newApp()
			err := app.Run(interspersed(app, args))
			var u usageError
			if !errors.As(err, &u) || !strings.Contains(err.Error(), "--concurrency must be at least 1") {
				t.Errorf("%s --concurrency %s: err = %v, want a usage error", cmd, bad, err)
			}
		}
	}
}
