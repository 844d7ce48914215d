package main

import (
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"
)

// version and commit are set by make (-ldflags "-X main.version=...
// -X main.commit=..."). A plain `go build` or `go install ...@version`
// leaves them empty, and buildVersion fills them in from the build
// information the go command puts into every binary.
var (
	version string
	commit  string
)

func init() {
	version, commit = buildVersion(version, commit, debug.ReadBuildInfo)
	cli.VersionPrinter = func(c *cli.Context) {
		fmt.Fprintf(c.App.Writer, "%s version %s\n", c.App.Name, versionLine())
	}
}

// versionLine is what --version prints after "regbackup version ": the
// version, then the commit and the Go toolchain and platform it was built
// with, e.g. "v1.4.0 (commit 0a1b2c3d4e5f, go1.26.8, linux/amd64)".
func versionLine() string {
	c := commit
	if c == "" {
		c = "unknown"
	}
	return fmt.Sprintf("%s (commit %s, %s, %s/%s)", version, c, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// pseudoCommit is the commit at the end of a Go pseudo-version
// (v0.0.0-20261202060000-0a1b2c3d4e5f): what `go install ...@latest`
// records for a module without a tagged release.
var pseudoCommit = regexp.MustCompile(`[0-9]{14}-([0-9a-f]{12})(\+incompatible)?$`)

// buildVersion resolves the version and commit: the ones make set (ldVersion,
// ldCommit) win; otherwise the main module's version (a release tag, or a
// pseudo-version naming its commit) and the vcs.revision stamp from read.
// With neither, the version is "dev".
func buildVersion(ldVersion, ldCommit string, read func() (*debug.BuildInfo, bool)) (string, string) {
	v, c := ldVersion, ldCommit
	if bi, ok := read(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		if c == "" {
			if m := pseudoCommit.FindStringSubmatch(bi.Main.Version); m != nil {
				c = m[1]
			}
		}
		dirty := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if c == "" {
					c = s.Value
				}
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if dirty && ldCommit == "" && c != "" && !strings.HasSuffix(c, "-dirty") {
			c += "-dirty"
		}
	}
	if v == "" {
		v = "dev"
	}
	return v, c
}
