package integration

// Tool lookup, the lazily built regbackup binary, and small process helpers.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regbackup/regbackup/integration/servers"
)

// runDir is a per-process temp dir for things shared by all tests of one
// `go test` run (the regbackup binary). Removed by TestMain.
var runDir string

func TestMain(m *testing.M) {
	d, err := os.MkdirTemp("", "regbackup-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration: temp dir:", err)
		os.Exit(2)
	}
	runDir = d
	code := m.Run()
	servers.StopPostgres()
	os.RemoveAll(d)
	os.Exit(code)
}

// inCI reports whether missing tools must fail the tests instead of skipping them.
func inCI() bool { return os.Getenv("CI") == "true" }

// missing fails (CI=true) or skips the test because something it needs is absent.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if inCI() {
		t.Fatalf("CI=true and %s", msg)
	}
	t.Skip(msg)
}

var (
	repoRootOnce sync.Once
	repoRootDir  string
	repoRootErr  error
)

// repoRoot is the module root: the parent of this package's directory (go
// test runs tests in the package directory).
func repoRoot(t testing.TB) string {
	t.Helper()
	repoRootOnce.Do(func() {
		d, err := filepath.Abs("..")
		if err != nil {
			repoRootErr = err
			return
		}
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err != nil {
			repoRootErr = fmt.Errorf("repo root %s: %w", d, err)
			return
		}
		if !bytes.Contains(b, []byte("module github.com/regbackup/regbackup")) {
			repoRootErr = fmt.Errorf("%s/go.mod is not github.com/regbackup/regbackup", d)
			return
		}
		repoRootDir = d
	})
	if repoRootErr != nil {
		t.Fatalf("cannot find the repository root: %v", repoRootErr)
	}
	return repoRootDir
}

const installHint = "run `make test` or `integration/setup.sh` (as root) to install it"

// tool returns the absolute path of an external program the tests use:
//
//	crane, registry  <repo>/.tools/bin (pinned in integration/tools/go.mod)
//	docker-registry  Debian's Distribution 2.8 (apt-get install docker-registry)
//	regbackup        built once per test run from ./cmd/regbackup
//
// A missing tool skips the test, or fails it when CI=true.
func tool(t testing.TB, name string) string {
	t.Helper()
	switch name {
	case "crane", "registry":
		p := filepath.Join(repoRoot(t), ".tools", "bin", name)
		if !isExecutable(p) {
			missing(t, "%s not found at %s: %s (builds it from integration/tools/go.mod)", name, p, installHint)
		}
		return p
	case "docker-registry":
		p, err := exec.LookPath("docker-registry")
		if err != nil {
			if isExecutable("/usr/bin/docker-registry") {
				return "/usr/bin/docker-registry"
			}
			missing(t, "docker-registry (Distribution 2.8) not in PATH: %s (apt-get install -y docker-registry)", installHint)
		}
		return p
	case "regbackup":
		return regbackupBinary(t)
	default:
		p, err := exec.LookPath(name)
		if err != nil {
			missing(t, "%s not in PATH: %s", name, installHint)
		}
		return p
	}
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

var (
	regbackupOnce sync.Once
	regbackupPath string
	regbackupErr  error
	regbackupGo   bool // the go command itself is missing
)

// regbackupBinary builds ./cmd/regbackup once per test run, as make build
// does (static, -trimpath): the tests run what ships.
func regbackupBinary(t testing.TB) string {
	t.Helper()
	root := repoRoot(t)
	regbackupOnce.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			regbackupGo, regbackupErr = true, err
			return
		}
		out := filepath.Join(runDir, "regbackup")
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute) // a cold build on a loaded 2-core machine
		defer cancel()
		cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-o", out, "./cmd/regbackup")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		b, err := cmd.CombinedOutput()
		if err != nil {
			regbackupErr = fmt.Errorf("go build ./cmd/regbackup: %v\n%s", err, b)
			return
		}
		regbackupPath = out
	})
	if regbackupGo {
		missing(t, "cannot build regbackup: the go command is not in PATH (%v)", regbackupErr)
	}
	if regbackupErr != nil {
		// Product code that does not build is a failure, never a skip.
		t.Fatalf("%v", regbackupErr)
	}
	return regbackupPath
}

// RegbackupTimeout bounds one Regbackup call.
const RegbackupTimeout = 5 * time.Minute

// Regbackup runs the regbackup binary and returns its output and exit code.
// It fails the test only when the binary cannot run or times out; a non-zero
// exit code is for the caller to judge.
func Regbackup(t testing.TB, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	return RegbackupEnv(t, nil, args...)
}

// RegbackupEnv is Regbackup with extra environment variables ("K=V").
func RegbackupEnv(t testing.TB, env []string, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	bin := tool(t, "regbackup")
	ctx, cancel := context.WithTimeout(context.Background(), RegbackupTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	start := time.Now()
	err := cmd.Run()
	t.Logf("regbackup %s: %v in %s", strings.Join(args, " "), exitStatus(err), time.Since(start).Round(time.Millisecond))
	if ctx.Err() != nil {
		t.Fatalf("regbackup %s: timed out after %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), RegbackupTimeout, o.String(), e.String())
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return o.String(), e.String(), 0
	case errors.As(err, &ee):
		return o.String(), e.String(), ee.ExitCode()
	default:
		t.Fatalf("regbackup %s: %v\nstderr:\n%s", strings.Join(args, " "), err, e.String())
		return "", "", -1
	}
}

func exitStatus(err error) string {
	if err == nil {
		return "exit 0"
	}
	return err.Error()
}

// CraneTimeout bounds one crane call.
const CraneTimeout = 2 * time.Minute

// crane runs crane and returns its trimmed stdout; any error fails the test
// with crane's stderr.
func crane(t testing.TB, args ...string) string {
	t.Helper()
	out, err := craneErr(t, args...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return out
}

// craneErr runs crane and returns its trimmed stdout, or an error holding the
// command line and stderr.
func craneErr(t testing.TB, args ...string) (string, error) {
	t.Helper()
	bin := tool(t, "crane")
	ctx, cancel := context.WithTimeout(context.Background(), CraneTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		return strings.TrimSpace(o.String()), fmt.Errorf("crane %s: %v\n%s", strings.Join(args, " "), err, strings.TrimSpace(e.String()))
	}
	return strings.TrimSpace(o.String()), nil
}
