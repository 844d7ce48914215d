package integration

// The files operators copy from contrib/: the systemd units pass
// systemd-analyze verify and their regbackup command lines are ones
// regbackup accepts; the Prometheus alerting rules pass promtool's check
// and its unit tests (regbackup-alerts.test.yml), and name only metrics
// regbackup writes. (The Kubernetes manifests are decoded by the module
// in integration/k8s, which carries the Kubernetes API types.)

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/integration/sample"
)

// installedPath is where the units expect the binary.
const installedPath = "/usr/local/bin/regbackup"

// TestContribSystemd: systemd-analyze verify of the units (with ExecStart
// pointing at the binary under test, as it checks that it exists), every
// service with a timer, and every ExecStart's flags known to regbackup.
func TestContribSystemd(t *testing.T) {
	analyze := tool(t, "systemd-analyze")
	bin := tool(t, "regbackup")
	src := filepath.Join(repoRoot(t), "contrib", "systemd")
	units, err := filepath.Glob(filepath.Join(src, "regbackup-*"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, u := range units {
		names[filepath.Base(u)] = true
	}
	for _, want := range []string{"regbackup-nightly.service", "regbackup-nightly.timer", "regbackup-check.service", "regbackup-check.timer"} {
		if !names[want] {
			t.Errorf("contrib/systemd has no %s", want)
		}
	}
	dir := t.TempDir()
	var copies []string
	for _, u := range units {
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if strings.HasSuffix(u, ".service") {
			if !names[strings.TrimSuffix(filepath.Base(u), ".service")+".timer"] {
				t.Errorf("%s has no timer", filepath.Base(u))
			}
			args := execStart(t, filepath.Base(u), text)
			checkCommandLine(t, bin, filepath.Base(u), args)
		}
		c := filepath.Join(dir, filepath.Base(u))
		if err := os.WriteFile(c, []byte(strings.ReplaceAll(text, installedPath, bin)), 0o644); err != nil {
			t.Fatal(err)
		}
		copies = append(copies, c)
	}
	out, err := exec.Command(analyze, append([]string{"verify"}, copies...)...).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// execStart is the arguments of a unit's ExecStart line (continuations
// joined), after the binary, which must be installedPath.
func execStart(t *testing.T, name, unit string) []string {
	t.Helper()
	joined := strings.ReplaceAll(unit, "\\\n", " ")
	var line string
	for _, l := range strings.Split(joined, "\n") {
		if strings.HasPrefix(l, "ExecStart=") {
			if line != "" {
				t.Fatalf("%s: more than one ExecStart", name)
			}
			line = strings.TrimPrefix(l, "ExecStart=")
		}
	}
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != installedPath {
		t.Fatalf("%s: ExecStart %q: want %s and its arguments", name, line, installedPath)
	}
	return f[1:]
}

// checkCommandLine runs regbackup args --help: flags and commands it does
// not know are a usage error (exit 2).
func checkCommandLine(t *testing.T, bin, name string, args []string) {
	t.Helper()
	out, err := exec.Command(bin, append(append([]string(nil), args...), "--help")...).CombinedOutput()
	if err != nil {
		t.Errorf("%s: regbackup %s --help: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// TestContribAlertRules: promtool check rules and test rules pass, and
// every regbackup_* metric the rules name is one that a backup or a check
// writes into --metrics-file.
func TestContribAlertRules(t *testing.T) {
	promtool := tool(t, "promtool")
	dir := filepath.Join(repoRoot(t), "contrib", "prometheus")
	rules := filepath.Join(dir, "regbackup-alerts.yml")
	for _, args := range [][]string{{"check", "rules", rules}, {"test", "rules", filepath.Join(dir, "regbackup-alerts.test.yml")}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}

	// What regbackup writes: the families of a backup and a check.
	base := t.TempDir()
	src := filepath.Join(base, "src")
	genTree(t, src, sample.Options{Seed: 47, SmallFiles: 1})
	t.Setenv("REGBACKUP_LOCK_DIR", filepath.Join(base, "locks"))
	prom := filepath.Join(base, "regbackup.prom")
	expectExit(t, 0, "backup", "--from", src, "-o", filepath.Join(base, "a.tar.zst"), "--metrics-file", prom, "--quiet")
	expectExit(t, 0, "check", "--from", src, "--metrics-file", prom, "--quiet")
	written := map[string]bool{}
	for name := range readProm(t, prom) {
		written[name] = true
	}
	b, err := os.ReadFile(rules)
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]bool{}
	for _, m := range regexp.MustCompile(`\bregbackup_[a-z_]+\b`).FindAllString(string(b), -1) {
		named[m] = true
	}
	if len(named) < 4 {
		t.Fatalf("the rules name %d regbackup metrics: %v", len(named), named)
	}
	var unknown []string
	for n := range named {
		if !written[n] {
			unknown = append(unknown, n)
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		t.Errorf("the rules name metrics regbackup does not write: %v (it writes %v)", unknown, written)
	}
}
