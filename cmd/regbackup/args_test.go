package main

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/check"
	"github.com/regbackup/regbackup/lock"
	"github.com/regbackup/regbackup/snapshot"
)

func TestInterspersedFlags(t *testing.T) {
	app := newApp()
	cases := []struct{ in, want []string }{
		{[]string{"rb", "restore", "a.tar", "--to", "/r", "--files-to", "/c"},
			[]string{"rb", "restore", "--to", "/r", "--files-to", "/c", "--", "a.tar"}},
		{[]string{"rb", "restore", "-", "--to=/r", "--clean"},
			[]string{"rb", "restore", "--to=/r", "--clean", "--", "-"}},
		{[]string{"rb", "verify", "--quiet", "a.tar"},
			[]string{"rb", "verify", "--quiet", "--", "a.tar"}},
		{[]string{"rb", "backup", "--from", "/r", "-o", "-"},
			[]string{"rb", "backup", "--from", "/r", "-o", "-"}},
		{[]string{"rb", "--help"}, []string{"rb", "--help"}},
	}
	for _, c := range cases {
		if got := interspersed(app, c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("interspersed(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestExitCodes(t *testing.T) {
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	cases := []struct {
		ctx  context.Context
		err  error
		want int
	}{
		{ctx, nil, exitOK},
		{ctx, errors.New("disk full"), exitError},
		{ctx, usagef("no --from"), exitUsage},
		{ctx, fmt.Errorf("x: %w", archive.ErrIncomplete), exitIntegrity},
		{ctx, &archive.DigestError{Path: "p", Want: "a", Got: "b"}, exitIntegrity},
		{ctx, fmt.Errorf("x: %w", snapshot.ErrDamagedSource), exitIntegrity},
		{ctx, fmt.Errorf("x: %w", check.ErrDamagedStorage), exitIntegrity},
		{ctx, &lock.HeldError{Location: "file:///r"}, exitLocked},
		{cancelled, &lock.HeldError{Location: "file:///r"}, exitInterrupted},
		{cancelled, fmt.Errorf("x: %w", archive.ErrIncomplete), exitInterrupted},
	}
	for _, c := range cases {
		if got := exitCode(c.ctx, c.err); got != c.want {
			t.Errorf("exitCode(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}
