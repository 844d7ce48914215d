package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/urfave/cli/v2"

	"github.com/regbackup/regbackup/internal/atomicfile"
)

// metricsFlag is --metrics-file, for the commands a scheduler runs.
func metricsFlag() cli.Flag {
	return &cli.StringFlag{Name: "metrics-file", Usage: "write Prometheus metrics of this run to `FILE` (node_exporter textfile collector), atomically, also when it fails"}
}

// metric is one sample of a run's outcome. Every sample is labelled by
// command and location; labels adds more (severity).
type metric struct {
	name, help string
	labels     map[string]string
	value      float64
}

const lastSuccess = "regbackup_last_success_timestamp_seconds"

// outcomeMetrics are the samples for o, a run that ended at now.
func outcomeMetrics(o *outcome, now time.Time) []metric {
	ts := float64(now.UnixMilli()) / 1000
	ms := []metric{
		{"regbackup_last_run_timestamp_seconds", "Unix time the last run ended, successful or not.", nil, ts},
		{"regbackup_duration_seconds", "How long the last run took.", nil, o.DurationSeconds},
		{"regbackup_exit_code", "Exit code of the last run: " + exitCodesNames() + ".", nil, float64(o.ExitCode)},
		{"regbackup_blobs", "Blobs the last run wrote (backup), restored (restore), verified (verify) or found in storage (check).", nil, float64(o.Blobs)},
		{"regbackup_bytes", "Bytes of those blobs.", nil, float64(o.Bytes)},
		{"regbackup_problems", "Problems the last run found, by severity (damage: data a registry fails to serve).", map[string]string{"severity": "damage"}, float64(o.Damage)},
		{"regbackup_problems", "Problems the last run found, by severity (damage: data a registry fails to serve).", map[string]string{"severity": "notice"}, float64(o.Notices)},
	}
	if o.OK {
		ms = append(ms, metric{lastSuccess, "Unix time the last successful run (exit code 0) ended.", nil, ts})
	}
	if o.ArchiveBytes > 0 {
		ms = append(ms, metric{"regbackup_archive_bytes", "Size of the archive the last backup wrote.", nil, float64(o.ArchiveBytes)})
	}
	return append(ms, o.extra...)
}

// writeMetrics writes o's metrics into the Prometheus textfile path (for
// node_exporter's textfile collector), atomically: a temp file in the same
// folder, renamed over path. Samples of other commands and locations found
// in the file are kept; so is this command's last success time when this
// run failed.
func writeMetrics(path string, o *outcome, now time.Time) error {
	fams, err := readMetrics(path)
	if err != nil {
		return err
	}
	mine := map[string]string{"command": o.Command, "location": o.location}
	// Drop this command's and location's earlier samples (but remember
	// its last success), so nothing from an earlier run lingers.
	var kept *dto.Metric
	for name, f := range fams {
		var rest []*dto.Metric
		for _, m := range f.Metric {
			if hasLabels(m, mine) {
				if name == lastSuccess {
					kept = m
				}
				continue
			}
			rest = append(rest, m)
		}
		f.Metric = rest
	}
	addOutcome(fams, o, now)
	if !o.OK && kept != nil {
		f := fams[lastSuccess]
		if f == nil {
			f = &dto.MetricFamily{Name: ptr(lastSuccess), Help: ptr("Unix time the last successful run (exit code 0) ended."), Type: dto.MetricType_GAUGE.Enum()}
			fams[lastSuccess] = f
		}
		f.Metric = append(f.Metric, kept)
	}
	text, err := metricsText(fams)
	if err != nil {
		return err
	}
	// Through a temp file whose name does not end in .prom (the textfile
	// collector ignores it) and a rename: node_exporter reads the old file
	// or the new one, never half of one.
	return atomicfile.WriteFile(path, text, 0o644)
}

// addOutcome adds o's samples, labelled by command and location, to fams.
func addOutcome(fams map[string]*dto.MetricFamily, o *outcome, now time.Time) {
	for _, m := range outcomeMetrics(o, now) {
		f := fams[m.name]
		if f == nil {
			f = &dto.MetricFamily{Name: ptr(m.name), Help: ptr(m.help), Type: dto.MetricType_GAUGE.Enum()}
			fams[m.name] = f
		}
		labels := map[string]string{"command": o.Command, "location": o.location}
		for k, v := range m.labels {
			labels[k] = v
		}
		f.Metric = append(f.Metric, gauge(labels, m.value))
	}
}

// metricsText is fams in the Prometheus text format, families by name and
// samples by labels, so that the same metrics give the same bytes.
func metricsText(fams map[string]*dto.MetricFamily) ([]byte, error) {
	var buf bytes.Buffer
	names := make([]string, 0, len(fams))
	for n := range fams {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := fams[n]
		if len(f.Metric) == 0 {
			continue
		}
		sort.SliceStable(f.Metric, func(i, j int) bool { return labelKey(f.Metric[i]) < labelKey(f.Metric[j]) })
		if _, err := expfmt.MetricFamilyToText(&buf, f); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
	}
	return buf.Bytes(), nil
}

// readMetrics parses an earlier metrics file; a missing one is empty. A
// file that does not parse is replaced, not merged.
func readMetrics(path string) (map[string]*dto.MetricFamily, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]*dto.MetricFamily{}, nil
	}
	if err != nil {
		return nil, err
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		return map[string]*dto.MetricFamily{}, nil
	}
	for _, f := range fams {
		if f.GetType() != dto.MetricType_GAUGE && f.GetType() != dto.MetricType_UNTYPED {
			delete(fams, f.GetName()) // not ours: regbackup writes gauges only
		}
	}
	return fams, nil
}

func gauge(labels map[string]string, v float64) *dto.Metric {
	m := &dto.Metric{Gauge: &dto.Gauge{Value: ptr(v)}}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		m.Label = append(m.Label, &dto.LabelPair{Name: ptr(k), Value: ptr(labels[k])})
	}
	return m
}

// hasLabels reports whether m carries every label of want.
func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.Label {
		if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
			n++
		}
	}
	return n == len(want)
}

func labelKey(m *dto.Metric) string {
	var b bytes.Buffer
	for _, l := range m.Label {
		fmt.Fprintf(&b, "%s=%q,", l.GetName(), l.GetValue())
	}
	return b.String()
}

func ptr[T any](v T) *T { return &v }
