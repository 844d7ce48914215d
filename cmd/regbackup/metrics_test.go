package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func parseMetrics(t *testing.T, path string) map[string]*dto.MetricFamily {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("metrics file does not parse: %v", err)
	}
	return fams
}

// value is the sample of name labelled command and location, or -1.
func value(fams map[string]*dto.MetricFamily, name, command, location string) float64 {
	for _, m := range fams[name].GetMetric() {
		if hasLabels(m, map[string]string{"command": command, "location": location}) {
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

// TestMetricsKeepLastSuccess: a failed run updates everything but the last
// success time, which it keeps from the previous file; other commands' and
// locations' samples survive; no temp file is left.
func TestMetricsKeepLastSuccess(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "regbackup.prom")
	t0 := time.Unix(1_700_000_000, 0)
	ok := &outcome{Command: "backup", location: "file:///r", OK: true, Blobs: 7, Bytes: 700, DurationSeconds: 2}
	if err := writeMetrics(path, ok, t0); err != nil {
		t.Fatal(err)
	}
	other := &outcome{Command: "check", location: "s3://b/r", OK: true, extra: []metric{{"regbackup_orphan_blobs", "h", nil, 3}}}
	if err := writeMetrics(path, other, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	failed := &outcome{Command: "backup", location: "file:///r", ExitCode: 1, Damage: 2, DurationSeconds: 1}
	if err := writeMetrics(path, failed, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	fams := parseMetrics(t, path)
	checks := []struct {
		name, cmd, loc string
		want           float64
	}{
		{"regbackup_last_success_timestamp_seconds", "backup", "file:///r", 1_700_000_000},
		{"regbackup_last_run_timestamp_seconds", "backup", "file:///r", 1_700_003_600},
		{"regbackup_exit_code", "backup", "file:///r", 1},
		{"regbackup_blobs", "backup", "file:///r", 0},
		{"regbackup_duration_seconds", "backup", "file:///r", 1},
		{"regbackup_last_success_timestamp_seconds", "check", "s3://b/r", 1_700_000_060},
		{"regbackup_orphan_blobs", "check", "s3://b/r", 3},
	}
	for _, c := range checks {
		if got := value(fams, c.name, c.cmd, c.loc); got != c.want {
			t.Errorf("%s{command=%q,location=%q} = %v, want %v", c.name, c.cmd, c.loc, got, c.want)
		}
	}
	for _, m := range fams["regbackup_problems"].GetMetric() {
		if hasLabels(m, map[string]string{"command": "backup", "severity": "damage"}) && m.GetGauge().GetValue() != 2 {
			t.Errorf("damage problems = %v, want 2", m.GetGauge().GetValue())
		}
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), "# HELP regbackup_exit_code ") || !strings.Contains(string(b), "# TYPE regbackup_exit_code gauge") {
		t.Errorf("no HELP/TYPE lines:\n%s", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("folder holds %d files, want only the metrics file", len(ents))
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("metrics file mode %v, want 0644 (node_exporter must read it)", fi.Mode().Perm())
	}
}

// TestBarLine: the bar shows phase, percentage, bytes and blobs of their
// totals, rate and ETA, and never exceeds the terminal width.
func TestBarLine(t *testing.T) {
	r := newReporterTo(os.Stderr, true, false)
	defer r.stop()
	b := &bar{prog: &r.prog}
	b.setPhase("blobs", "10 blobs")
	b.since = time.Now().Add(-2 * time.Second)
	r.prog.BlobsTotal.Store(10)
	r.prog.BytesTotal.Store(100 << 20)
	r.prog.Blobs.Store(4)
	r.prog.Bytes.Store(40 << 20)
	line := b.line(time.Now(), 119)
	for _, want := range []string{"blobs [", "40%", "40.0 MiB/100.0 MiB", "4/10 blobs", "MiB/s", "ETA "} {
		if !strings.Contains(line, want) {
			t.Errorf("bar %q lacks %q", line, want)
		}
	}
	for _, w := range []int{119, 60, 30} {
		if l := b.line(time.Now(), w); len(l) > w {
			t.Errorf("at width %d the bar is %d wide: %q", w, len(l), l)
		}
	}
	b.setPhase("snapshot", "reading link files")
	r.prog.BlobsTotal.Store(0)
	r.prog.BytesTotal.Store(0)
	if l := b.line(time.Now(), 119); !strings.HasPrefix(l, "snapshot: reading link files") {
		t.Errorf("phase without totals: %q", l)
	}
}

func TestRedactLocation(t *testing.T) {
	for in, want := range map[string]string{
		"/var/lib/registry":                        "/var/lib/registry",
		"s3://AKIA:secret@bucket/reg?secret_key=x": "s3://bucket/reg",
		"azure://acct/c?sig=abc":                   "azure://acct/c",
	} {
		if got := redactLocation(in); got != want {
			t.Errorf("redactLocation(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestReporterStopWhileTicking: stop clears the bar while tick redraws it
// every microsecond; tick must never see the bar half gone (run with
// -race, as make unit does: the unlocked read of r.bar was a data race and,
// under load, a nil dereference in bar.draw before the outcome was
// written).
func TestReporterStopWhileTicking(t *testing.T) {
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	for i := 0; i < 300; i++ {
		r := newReporterTo(devnull, false, true)
		r.prog.BytesTotal.Store(100)
		go r.tick(time.Microsecond)
		time.Sleep(time.Duration(i%7) * 10 * time.Microsecond)
		r.stop()
	}
}
