package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/urfave/cli/v2"
)

// metricsPushFlag is --metrics-push, for the commands a scheduler runs
// where no node_exporter reads a textfile (a Kubernetes CronJob).
func metricsPushFlag() cli.Flag {
	return &cli.StringFlag{Name: "metrics-push", Usage: "push this run's metrics (those of --metrics-file) to the Prometheus Pushgateway at `URL` " +
		"(http://HOST:9091, or a group: http://HOST:9091/metrics/job/JOB/instance/INSTANCE), also when it fails; a failed push only warns", Action: checkPushURL}
}

// pushTimeout bounds a push: the run is over, and a Pushgateway that does
// not answer must not hold up the next one.
const pushTimeout = 15 * time.Second

// pushMetrics pushes o's metrics (the samples writeMetrics writes) to the
// Pushgateway at base, in the text format, with POST to
// /metrics/job/JOB/instance/INSTANCE/command/COMMAND. POST replaces only
// the metric families pushed, so a failed run, which pushes no
// regbackup_last_success_timestamp_seconds, leaves the last success time
// of its group as the Pushgateway holds it. The command is part of the
// group so that a check does not replace a backup's samples. It ignores
// ctx's cancellation (an interrupted run is reported too) but not its
// values. Errors name the URL without its password.
func pushMetrics(ctx context.Context, base string, o *outcome, now time.Time) error {
	u, err := pushURL(base, o.Command)
	if err != nil {
		return err
	}
	fams := map[string]*dto.MetricFamily{}
	addOutcome(fams, o, now)
	body, err := metricsText(fams)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pushTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("push to %s: %w", u.Redacted(), err)
	}
	if u.User != nil {
		pw, _ := u.User.Password()
		req.SetBasicAuth(u.User.Username(), pw)
		req.URL.User = nil
	}
	req.Header.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// The error text holds the URL; drop its password.
		return fmt.Errorf("push to %s: %w", u.Redacted(), unwrapURLError(err))
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("push to %s: %s: %s", u.Redacted(), resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// pushURL is the grouping URL for command: base as given when its path
// names a group (/metrics/job/JOB[/LABEL/VALUE...]), else base with
// /metrics/job/regbackup/instance/HOSTNAME; then /command/COMMAND.
func pushURL(base, command string) (*url.URL, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usagef("--metrics-push %q: want the Pushgateway's http:// or https:// URL, e.g. http://pushgateway:9091", redactLocation(base))
	}
	p := strings.TrimSuffix(u.EscapedPath(), "/")
	switch {
	case strings.HasPrefix(p, "/metrics/job/") && len(p) > len("/metrics/job/"):
		if strings.Contains(p+"/", "/command/") {
			return nil, usagef("--metrics-push %s: leave out /command/: regbackup adds the command to the group", u.Redacted())
		}
	case p == "":
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "unknown"
		}
		p = "/metrics/job/regbackup/instance/" + url.PathEscape(host)
	default:
		return nil, usagef("--metrics-push %s: want the Pushgateway's address (http://HOST:9091) or a group in it (http://HOST:9091/metrics/job/JOB/instance/INSTANCE)", u.Redacted())
	}
	g, err := url.Parse(p + "/command/" + url.PathEscape(command))
	if err != nil {
		return nil, usagef("--metrics-push %s: %v", u.Redacted(), err)
	}
	u.Path, u.RawPath, u.RawQuery, u.Fragment = g.Path, g.RawPath, "", ""
	return u, nil
}

// checkPushURL is --metrics-push's flag action: a URL that cannot be
// pushed to is a usage error before the run starts, not a warning after it.
func checkPushURL(c *cli.Context, base string) error {
	_, err := pushURL(base, c.Command.Name)
	return err
}

// unwrapURLError is the cause inside a *url.Error, whose text repeats the
// URL (with its password).
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
