// Package servers starts the real storage servers the tests run against —
// versitygw (S3), Azurite (Azure Blob) and fake-gcs-server (GCS) — on
// loopback, one per test (or per package), stopped and removed by t.Cleanup;
// and PostgreSQL (one cluster per test run, StartPostgres/StopPostgres) with
// GitLab's container registry on it (StartGitLabRegistry, MigratedTemplate).
//
// The servers are installed by integration/setup.sh (`make test` runs it):
// the Go ones are built into <repo>/.tools/bin, Azurite into
// <repo>/node_modules. A missing server skips the test, or fails it when
// CI=true, so that green CI means every test ran.
package servers

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// InCI reports whether a missing component must fail the test instead of
// skipping it.
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing fails (CI=true) or skips the test because something it needs is absent.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("CI=true and %s", msg)
	}
	t.Skip(msg)
}

// InstallHint says how to get a missing tool.
const InstallHint = "run `make test` or `bash integration/setup.sh` (as root) to install it"

var (
	rootOnce sync.Once
	rootDir  string
)

// RepoRoot is the module root: the nearest folder above the test's working
// directory whose go.mod declares github.com/regbackup/regbackup.
func RepoRoot(t testing.TB) string {
	t.Helper()
	rootOnce.Do(func() {
		d, err := os.Getwd()
		if err != nil {
			return
		}
		for {
			b, err := os.ReadFile(filepath.Join(d, "go.mod"))
			if err == nil && bytes.Contains(b, []byte("module github.com/regbackup/regbackup\n")) {
				rootDir = d
				return
			}
			parent := filepath.Dir(d)
			if parent == d {
				return
			}
			d = parent
		}
	})
	if rootDir == "" {
		t.Fatalf("cannot find the regbackup repository root above the working directory")
	}
	return rootDir
}

// Tool returns the path of a program installed by setup.sh: first
// <repo>/.tools/bin/name, then <repo>/node_modules/.bin/name. Missing: skip
// or (CI=true) fail.
func Tool(t testing.TB, name string) string {
	t.Helper()
	root := RepoRoot(t)
	for _, p := range []string{
		filepath.Join(root, ".tools", "bin", name),
		filepath.Join(root, "node_modules", ".bin", name),
	} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o111 != 0 {
			return p
		}
	}
	Missing(t, "%s not found in .tools/bin or node_modules/.bin: %s", name, InstallHint)
	return ""
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Listening waits until something accepts connections on 127.0.0.1:port.
// It returns false when exited becomes readable (the server process is gone)
// or timeout passes first.
func Listening(port int, timeout time.Duration, exited <-chan struct{}) bool {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// StartOnFreePort starts a server on a free loopback port and waits until
// ready says it serves. A port can be taken between probing and binding, and
// a server can die at start: that is retried twice with another port before
// the test fails with the server's last log.
func StartOnFreePort(t testing.TB, name string, start func(port int) *Process, ready func(port int, p *Process) bool) (int, *Process) {
	t.Helper()
	var lastLog string
	for attempt := 0; attempt < 3; attempt++ {
		port := FreePort(t)
		p := start(port)
		if ready(port, p) {
			return port, p
		}
		lastLog = p.LogFile
	}
	b, _ := os.ReadFile(lastLog)
	t.Fatalf("%s did not start serving in 3 attempts; its last log:\n%s", name, b)
	return 0, nil
}
