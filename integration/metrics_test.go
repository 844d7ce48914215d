package integration

// --json and --metrics-file, as cron and monitoring use them: the JSON
// outcome is complete whether a run succeeds, finds damage or fails; the
// Prometheus textfile is replaced atomically after every run, parses, and
// keeps the last success time across failed runs.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/regbackup/regbackup/integration/sample"
)

// outcomeJSON is a command's --json outcome.
type outcomeJSON struct {
	Command         string          `json:"command"`
	Status          string          `json:"status"`
	ExitCode        *int            `json:"exit_code"`
	OK              bool            `json:"ok"`
	Error           string          `json:"error"`
	Started         time.Time       `json:"started"`
	DurationSeconds float64         `json:"duration_seconds"`
	Source          string          `json:"source"`
	Target          string          `json:"target"`
	Archive         string          `json:"archive"`
	ArchiveBytes    int64           `json:"archive_bytes"`
	Blobs           *int            `json:"blobs"`
	Bytes           *int64          `json:"bytes"`
	Damage          int             `json:"damage"`
	Notices         int             `json:"notices"`
	Problems        []problemJSON   `json:"problems"`
	Report          json.RawMessage `json:"report"`
}

type problemJSON struct {
	Severity string `json:"severity"`
	Path     string `json:"path"`
	Digest   string `json:"digest"`
	Message  string `json:"message"`
}

func parseOutcome(t *testing.T, stdout string) outcomeJSON {
	t.Helper()
	var o outcomeJSON
	if err := json.Unmarshal([]byte(stdout), &o); err != nil {
		t.Fatalf("--json output does not parse: %v\n%s", err, stdout)
	}
	if o.ExitCode == nil || o.Blobs == nil || o.Bytes == nil || o.Problems == nil || o.Started.IsZero() || o.Command == "" || o.Status == "" {
		t.Errorf("--json outcome lacks exit_code, blobs, bytes, problems, started, command or status:\n%s", stdout)
	}
	return o
}

// promFile is a parsed metrics file.
type promFile map[string]*dto.MetricFamily

func readProm(t *testing.T, path string) promFile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("metrics file: %v", err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("metrics file %s does not parse: %v", path, err)
	}
	b, _ := os.ReadFile(path)
	for name := range fams {
		if !strings.Contains(string(b), "# HELP "+name+" ") || !strings.Contains(string(b), "# TYPE "+name+" gauge") {
			t.Errorf("%s has no HELP or TYPE line", name)
		}
	}
	return fams
}

// get is the value of name for command and location (and extra labels),
// or NaN-like -1 when absent.
func (p promFile) get(name, command, location string, extra ...string) float64 {
	want := map[string]string{"command": command, "location": location}
	for i := 0; i+1 < len(extra); i += 2 {
		want[extra[i]] = extra[i+1]
	}
outer:
	for _, m := range p[name].GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue outer
			}
		}
		return m.GetGauge().GetValue()
	}
	return -1
}

func TestMetricsFileAndJSON(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "src")
	reg := genTree(t, src, sample.Options{Seed: 41, SmallFiles: 4})
	loc := "file://" + src
	textfile := filepath.Join(base, "textfile")
	if err := os.Mkdir(textfile, 0o755); err != nil {
		t.Fatal(err)
	}
	prom := filepath.Join(textfile, "regbackup.prom")
	t.Setenv("REGBACKUP_LOCK_DIR", filepath.Join(base, "locks"))

	// 1. A successful backup.
	arch := filepath.Join(base, "ok.tar.zst")
	stdout, _ := expectExit(t, 0, "backup", "--from", src, "-o", arch, "--json", "--metrics-file", prom)
	o := parseOutcome(t, stdout)
	fi, err := os.Stat(arch)
	if err != nil {
		t.Fatal(err)
	}
	if o.Command != "backup" || o.Status != "ok" || *o.ExitCode != 0 || !o.OK || o.Error != "" || o.DurationSeconds <= 0 ||
		o.Source != loc || o.Archive != arch || o.ArchiveBytes != fi.Size() || *o.Blobs == 0 || *o.Bytes == 0 ||
		o.Damage != 0 || len(o.Report) < 10 {
		t.Errorf("backup --json: %+v", o)
	}
	m := readProm(t, prom)
	if m.get("regbackup_exit_code", "backup", loc) != 0 || m.get("regbackup_blobs", "backup", loc) != float64(*o.Blobs) ||
		m.get("regbackup_bytes", "backup", loc) != float64(*o.Bytes) || m.get("regbackup_archive_bytes", "backup", loc) != float64(fi.Size()) ||
		m.get("regbackup_problems", "backup", loc, "severity", "damage") != 0 || m.get("regbackup_duration_seconds", "backup", loc) <= 0 {
		t.Errorf("metrics after a successful backup:\n%s", fileText(t, prom))
	}
	success := m.get("regbackup_last_success_timestamp_seconds", "backup", loc)
	if run := m.get("regbackup_last_run_timestamp_seconds", "backup", loc); success <= 0 || success != run || time.Since(time.Unix(int64(run), 0)) > time.Minute {
		t.Errorf("last success %v, last run %v: want both now", success, run)
	}
	onlyProm(t, textfile)
	time.Sleep(1100 * time.Millisecond) // later runs end in a later second

	// 2. Damage in the source: exit 3, the last success stays.
	tools := findTag(t, reg, "alpha/tools", "latest")
	_, layers := manifestLayers(t, src, tools.Digest)
	if err := sample.Corrupt(t.Context(), fsDriver(t, src), layers[0]); err != nil {
		t.Fatal(err)
	}
	stdout, _ = expectExit(t, 3, "backup", "--from", src, "-o", filepath.Join(base, "damaged.tar.zst"), "--json", "--metrics-file", prom)
	o = parseOutcome(t, stdout)
	if o.Status != "damaged" || *o.ExitCode != 3 || o.OK || o.Damage == 0 || !strings.Contains(o.Error, "damaged") || len(o.Report) < 10 {
		t.Errorf("damaged backup --json: %+v", o)
	}
	named := false
	for _, p := range o.Problems {
		named = named || (p.Severity == "damage" && strings.Contains(p.Path, strings.TrimPrefix(layers[0], "sha256:")))
	}
	if !named {
		t.Errorf("--json problems do not name the corrupt blob %s: %+v", layers[0], o.Problems)
	}
	m = readProm(t, prom)
	if m.get("regbackup_exit_code", "backup", loc) != 3 || m.get("regbackup_problems", "backup", loc, "severity", "damage") < 1 ||
		m.get("regbackup_last_success_timestamp_seconds", "backup", loc) != success ||
		m.get("regbackup_last_run_timestamp_seconds", "backup", loc) <= success {
		t.Errorf("metrics after a damaged backup (last success must stay %v):\n%s", success, fileText(t, prom))
	}

	// 3. An error before anything is read: the JSON and the metrics still come.
	stdout, _ = expectExit(t, 1, "backup", "--from", src, "-o", filepath.Join(base, "no-such-folder", "x.tar.zst"), "--json", "--metrics-file", prom)
	o = parseOutcome(t, stdout)
	if o.Status != "error" || *o.ExitCode != 1 || o.Error == "" || string(o.Report) != "null" {
		t.Errorf("failed backup --json: %+v", o)
	}
	m = readProm(t, prom)
	if m.get("regbackup_exit_code", "backup", loc) != 1 || m.get("regbackup_last_success_timestamp_seconds", "backup", loc) != success {
		t.Errorf("metrics after a failed backup:\n%s", fileText(t, prom))
	}
	stdout, _ = expectExit(t, 1, "backup", "--from", filepath.Join(base, "missing"), "-o", filepath.Join(base, "y.tar.zst"), "--json", "--metrics-file", prom)
	if o = parseOutcome(t, stdout); o.Status != "error" || !strings.Contains(o.Error, "does not exist") {
		t.Errorf("backup of a missing root --json: %+v", o)
	}

	// 4. check and restore add their own series; the backup's stay.
	stdout, _ = expectExit(t, 3, "check", "--from", src, "--read-data", "--json", "--metrics-file", prom)
	o = parseOutcome(t, stdout)
	if o.Command != "check" || o.Status != "damaged" || o.Source != loc || *o.Blobs != len(reg.Blobs) {
		t.Errorf("check --json: %+v", o)
	}
	target := filepath.Join(base, "restored")
	stdout, _ = expectExit(t, 0, "restore", arch, "--to", target, "--json", "--metrics-file", prom)
	o = parseOutcome(t, stdout)
	if o.Command != "restore" || o.Status != "ok" || o.Target != "file://"+target || o.Archive != arch || *o.Blobs == 0 {
		t.Errorf("restore --json: %+v", o)
	}
	m = readProm(t, prom)
	if m.get("regbackup_exit_code", "check", loc) != 3 || m.get("regbackup_orphan_blobs", "check", loc) < 1 ||
		m.get("regbackup_stale_uploads", "check", loc) != 1 || m.get("regbackup_exit_code", "restore", "file://"+target) != 0 ||
		m.get("regbackup_last_success_timestamp_seconds", "backup", loc) != success {
		t.Errorf("metrics after check and restore:\n%s", fileText(t, prom))
	}
	onlyProm(t, textfile)

	// 5. A locked run reports exit 4.
	holder := startRegbackup(t, slowEnv, "blobs:", "restore", arch, "--to", target)
	expectExit(t, 4, "restore", arch, "--to", target, "--metrics-file", prom, "-q")
	if m = readProm(t, prom); m.get("regbackup_exit_code", "restore", "file://"+target) != 4 {
		t.Errorf("metrics after a locked restore:\n%s", fileText(t, prom))
	}
	holder.wait(t)
}

func fileText(t *testing.T, p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

// onlyProm fails unless dir holds only regbackup.prom: no temp file left.
func onlyProm(t *testing.T, dir string) {
	t.Helper()
	if names := dirEntries(t, dir); len(names) != 1 || names[0] != "regbackup.prom" {
		t.Errorf("textfile folder holds %v, want only regbackup.prom", names)
	}
}
