package main

import (
	"runtime/debug"
	"testing"
)

func TestBuildVersion(t *testing.T) {
	info := func(v string, settings ...debug.BuildSetting) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) {
			return &debug.BuildInfo{Main: debug.Module{Path: "github.com/regbackup/regbackup", Version: v}, Settings: settings}, true
		}
	}
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	rev := debug.BuildSetting{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"}
	dirty := debug.BuildSetting{Key: "vcs.modified", Value: "true"}
	for _, tc := range []struct {
		name                 string
		ldVersion, ldCommit  string
		read                 func() (*debug.BuildInfo, bool)
		wantVersion, wantCmt string
	}{
		{"make sets both", "v1.2.0-3-gabc", "abcdef", info("(devel)", rev), "v1.2.0-3-gabc", "abcdef"},
		{"go install of a tag", "", "", info("v1.4.0"), "v1.4.0", ""},
		{"go install @latest untagged", "", "", info("v0.0.0-20261202060000-0a1b2c3d4e5f"), "v0.0.0-20261202060000-0a1b2c3d4e5f", "0a1b2c3d4e5f"},
		{"go install after a tag", "", "", info("v1.4.1-0.20261202060000-0a1b2c3d4e5f"), "v1.4.1-0.20261202060000-0a1b2c3d4e5f", "0a1b2c3d4e5f"},
		{"go build in a clone", "", "", info("(devel)", rev, dirty), "dev", rev.Value + "-dirty"},
		{"no build info", "", "", none, "dev", ""},
	} {
		v, c := buildVersion(tc.ldVersion, tc.ldCommit, tc.read)
		if v != tc.wantVersion || c != tc.wantCmt {
			t.Errorf("%s: got %q, %q; want %q, %q", tc.name, v, c, tc.wantVersion, tc.wantCmt)
		}
	}
}
