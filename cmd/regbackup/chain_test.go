package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/store"
)

func TestChainExitCodes(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		err  error
		want int
		says string
	}{
		{fmt.Errorf("parent archive x.tar.zst of y is missing: %w", archive.ErrParentMissing), exitParent, "x.tar.zst"},
		{fmt.Errorf("x.tar.zst is not the parent: %w", archive.ErrParentMismatch), exitIntegrity, "x.tar.zst"},
		{hinted{"archive a is encrypted: pass --identity FILE", archive.ErrEncrypted}, exitKey, "pass --identity FILE"},
		{fmt.Errorf("parent archive p: %w", archive.ErrEncrypted), exitKey, "pass --identity FILE"},
		{fmt.Errorf("parent archive p: %w", archive.ErrNoIdentityMatch), exitKey, "with a key it was encrypted to"},
		{fmt.Errorf("decrypting: %w: bad chunk", archive.ErrCorrupt), exitIntegrity, "cannot be trusted"},
		{fmt.Errorf("--incremental-from: %w", &store.SidecarError{Sidecar: "/b/x.tar.zst.meta.json",
			Err: fmt.Errorf("sidecar: bad manifest entry [9]: %w", archive.ErrCorrupt)}), exitIntegrity, "delete /b/x.tar.zst.meta.json"},
	} {
		if got := exitCode(ctx, c.err); got != c.want {
			t.Errorf("exitCode(%v) = %d, want %d", c.err, got, c.want)
		}
		if m := message(ctx, c.err); !strings.Contains(m, c.says) || strings.Contains(m, "\n") {
			t.Errorf("message(%v) = %q, want one line saying %q", c.err, m, c.says)
		}
	}
}

func TestRegbackupNow(t *testing.T) {
	t.Setenv("REGBACKUP_NOW", "2026-11-23T02:00:00Z")
	got, err := now()
	if err != nil || got.UTC().Format("2006-01-02 15:04") != "2026-11-23 02:00" {
		t.Errorf("now() = %v, %v", got, err)
	}
	t.Setenv("REGBACKUP_NOW", "yesterday")
	if _, err := now(); exitCode(context.Background(), err) != exitUsage {
		t.Errorf("a bad REGBACKUP_NOW: err = %v, want a usage error", err)
	}
}
