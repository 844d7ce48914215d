package integration

// --metrics-push against a real Prometheus Pushgateway (Debian's
// prometheus-pushgateway, started on loopback): the metrics of
// --metrics-file arrive after every run, failed or not, grouped by job,
// instance and command; a failed run leaves the last success time as it
// was; a Pushgateway that cannot be reached is a warning, not a failure.

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/regbackup/regbackup/integration/sample"
	"github.com/regbackup/regbackup/integration/servers"
)

// pushed is the value of name in the Pushgateway's /metrics whose labels
// include every pair of labels (name, value, ...), or -1.
func pushed(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
outer:
	for _, m := range fams[name].GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if got[labels[i]] != labels[i+1] {
				continue outer
			}
		}
		return m.GetGauge().GetValue()
	}
	return -1
}

func TestMetricsPush(t *testing.T) {
	pg := servers.StartPushgateway(t)
	base := t.TempDir()
	src := filepath.Join(base, "src")
	genTree(t, src, sample.Options{Seed: 43, SmallFiles: 2})
	loc := "file://" + src
	t.Setenv("REGBACKUP_LOCK_DIR", filepath.Join(base, "locks"))
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	group := []string{"job", "regbackup", "instance", host, "command", "backup", "location", loc}

	// 1. A backup pushes to the default group: job regbackup, this host.
	stdout, stderr := expectExit(t, 0, "backup", "--from", src, "-o", filepath.Join(base, "a.tar.zst"), "--json", "--metrics-push", pg.URL)
	if strings.Contains(stderr, "warning") {
		t.Errorf("a push that worked warns:\n%s", stderr)
	}
	o := parseOutcome(t, stdout)
	m := pg.Metrics(t)
	success := pushed(m, "regbackup_last_success_timestamp_seconds", group...)
	if pushed(m, "regbackup_exit_code", group...) != 0 || pushed(m, "regbackup_blobs", group...) != float64(*o.Blobs) ||
		pushed(m, "regbackup_bytes", group...) != float64(*o.Bytes) || pushed(m, "regbackup_archive_bytes", group...) != float64(o.ArchiveBytes) ||
		pushed(m, "regbackup_problems", append(group, "severity", "damage")...) != 0 || success <= 0 {
		t.Fatalf("after a backup, the Pushgateway holds (want exit code 0, %d blobs, %d bytes, a last success):\n%v", *o.Blobs, *o.Bytes, m["regbackup_exit_code"])
	}
	time.Sleep(1100 * time.Millisecond) // the next run ends in a later second

	// 2. A failed backup (its archive folder is missing) pushes too: exit
	// code 1, a new last run time, the last success of run 1 kept.
	expectExit(t, 1, "backup", "--from", src, "-o", filepath.Join(base, "missing", "b.tar.zst"), "--metrics-push", pg.URL)
	m = pg.Metrics(t)
	if pushed(m, "regbackup_exit_code", group...) != 1 || pushed(m, "regbackup_last_success_timestamp_seconds", group...) != success ||
		pushed(m, "regbackup_last_run_timestamp_seconds", group...) <= success {
		t.Errorf("after a failed backup (want exit code 1, last success %v kept, a later last run):\n%v\n%v", success,
			m["regbackup_exit_code"], m["regbackup_last_success_timestamp_seconds"])
	}

	// 3. A check pushed to a group named in the URL; the backup's stay.
	expectExit(t, 0, "check", "--from", src, "--metrics-push", pg.URL+"/metrics/job/nightly/instance/registry-a")
	m = pg.Metrics(t)
	checkGroup := []string{"job", "nightly", "instance", "registry-a", "command", "check", "location", loc}
	if pushed(m, "regbackup_exit_code", checkGroup...) != 0 || pushed(m, "regbackup_orphan_blobs", checkGroup...) < 0 ||
		pushed(m, "regbackup_last_success_timestamp_seconds", checkGroup...) <= success {
		t.Errorf("check's group job=nightly instance=registry-a (want exit code 0, orphan blobs, a later last success):\n%v\n%v\n%v",
			m["regbackup_exit_code"], m["regbackup_orphan_blobs"], m["regbackup_last_success_timestamp_seconds"])
	}
	if pushed(m, "regbackup_exit_code", group...) != 1 {
		t.Errorf("the check replaced the backup's samples: %v", m["regbackup_exit_code"])
	}

	// 4. Restore, copy and prune push to their own groups.
	expectExit(t, 0, "restore", filepath.Join(base, "a.tar.zst"), "--to", filepath.Join(base, "restored"), "--metrics-push", pg.URL)
	expectExit(t, 0, "copy", "--from", src, "--to", filepath.Join(base, "copied"), "--metrics-push", pg.URL)
	expectExit(t, 0, "prune", base, "--keep-last", "1", "--metrics-push", pg.URL)
	m = pg.Metrics(t)
	for _, cmd := range []string{"restore", "copy", "prune"} {
		if got := pushed(m, "regbackup_exit_code", "job", "regbackup", "instance", host, "command", cmd); got != 0 {
			t.Errorf("%s: pushed exit code %v, want 0:\n%v", cmd, got, m["regbackup_exit_code"])
		}
	}

	// 5. Nothing listens: the backup succeeds and warns in one line.
	dead := "http://127.0.0.1:" + strconv.Itoa(servers.FreePort(t))
	_, stderr = expectExit(t, 0, "backup", "--from", src, "-o", filepath.Join(base, "c.tar.zst"), "--metrics-push", dead, "--quiet")
	if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 1 || !strings.Contains(stderr, "warning: --metrics-push") ||
		!strings.Contains(stderr, "not affected") {
		t.Errorf("a push to nothing: stderr %q; want one warning line", stderr)
	}

	// 6. A Pushgateway that refuses the push (a group it cannot take):
	// a warning with its answer, exit 0; the password never printed.
	u := strings.Replace(pg.URL, "http://", "http://ops:s3cret-pw@", 1) + "/metrics/job/regbackup/instance/x/0bad/v" // not a label name
	_, stderr = expectExit(t, 0, "backup", "--from", src, "-o", filepath.Join(base, "d.tar.zst"), "--metrics-push", u, "--quiet")
	if !strings.Contains(stderr, "warning: --metrics-push") || strings.Contains(stderr, "s3cret-pw") {
		t.Errorf("a refused push: stderr %q; want a warning without the password", stderr)
	}

	// 7. A URL that is no Pushgateway address is a usage error before the run.
	for _, bad := range []string{"ftp://pg:9091", "pushgateway:9091", "http://pg:9091/some/path", "http://pg:9091/metrics/job/j/command/backup"} {
		_, stderr = expectExit(t, 2, "backup", "--from", src, "-o", filepath.Join(base, "e.tar.zst"), "--metrics-push", bad)
		if !strings.Contains(stderr, "--metrics-push") {
			t.Errorf("--metrics-push %s: stderr %q", bad, stderr)
		}
		if _, err := os.Stat(filepath.Join(base, "e.tar.zst")); err == nil {
			t.Fatalf("--metrics-push %s: the backup ran", bad)
		}
	}
}
