package servers

import (
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Pushgateway is a Prometheus Pushgateway (Debian's prometheus-pushgateway)
// on loopback, keeping what is pushed in memory only, stopped by t.Cleanup.
type Pushgateway struct {
	URL     string // "http://127.0.0.1:PORT"
	Process *Process
}

// StartPushgateway starts prometheus-pushgateway from PATH or /usr/bin
// (missing: skip, or fail under CI=true) on a free loopback port. The
// persistence file is off: Debian's default is a file under /var/lib.
func StartPushgateway(t testing.TB) *Pushgateway {
	t.Helper()
	bin, err := exec.LookPath("prometheus-pushgateway")
	if err != nil {
		Missing(t, "prometheus-pushgateway not in PATH: %s (apt-get install -y prometheus-pushgateway)", InstallHint)
	}
	var pg *Pushgateway
	StartOnFreePort(t, "prometheus-pushgateway", func(port int) *Process {
		addr := "127.0.0.1:" + strconv.Itoa(port)
		p := Start(t, nil, bin, "--web.listen-address="+addr, "--persistence.file=", "--log.level=warn")
		pg = &Pushgateway{URL: "http://" + addr, Process: p}
		return p
	}, func(port int, p *Process) bool { return pg.waitReady(15*time.Second) == nil })
	return pg
}

// waitReady polls /-/ready until it answers 200, the process exits, or
// timeout passes.
func (pg *Pushgateway) waitReady(timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-pg.Process.Exited:
			return fmt.Errorf("exited before it served requests (log %s)", pg.Process.LogFile)
		default:
		}
		resp, err := client.Get(pg.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s: %v", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Metrics is everything the Pushgateway serves to Prometheus at /metrics:
// every pushed sample with its group's labels (job, instance, ...), and
// the Pushgateway's own metrics.
func (pg *Pushgateway) Metrics(t testing.TB) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(pg.URL + "/metrics")
	if err != nil {
		t.Fatalf("pushgateway /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("pushgateway /metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("pushgateway /metrics does not parse: %v", err)
	}
	return fams
}
