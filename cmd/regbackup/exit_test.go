package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/regbackup/regbackup/drivers"
)

// TestExitCodeByType: exit 2 is for mistakes in the command line as
// urfave/cli reports them (a bad flag value, an unknown flag, help for an
// unknown command) and usagef, never for another error whose text
// happens to say "invalid value" (a driver's, a server's).
func TestExitCodeByType(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		err  error
		want int
	}{
		{errors.New(`s3: list docker/registry/v2: InvalidArgument: invalid value for max-keys (HTTP 400)`), exitError},
		{fmt.Errorf("registry config: storage.s3.region: invalid value %q", "x"), exitError},
		{fmt.Errorf("reading x: %w", drivers.ErrNotFound), exitError},
		{usagef("--keep-last must be positive"), exitUsage},
	} {
		if got := exitCode(ctx, tc.err); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
	for _, args := range [][]string{
		{"regbackup", "backup", "--concurrency", "many", "--from", "/nonexistent", "-o", "/nonexistent/a.tar.zst"},
		{"regbackup", "backup", "--no-such-flag"},
		{"regbackup", "help", "nosuchcommand"},
	} {
		app := newApp()
		app.Writer, app.ErrWriter = io.Discard, io.Discard
		err := app.RunContext(ctx, interspersed(app, args))
		if got := exitCode(ctx, err); got != exitUsage {
			t.Errorf("%q: %v: exit %d, want %d", args[1:], err, got, exitUsage)
		}
	}
}
