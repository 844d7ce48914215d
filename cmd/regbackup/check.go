package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/regbackup/regbackup/check"
	"github.com/regbackup/regbackup/drivers"
)

// maxListed is how many orphans or stale uploads the report for people
// names; --json lists them all.
const maxListed = 20

func checkCommand() *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "check live registry storage for damage, like fsck; writes nothing",
		UsageText: "regbackup check --from LOCATION [--read-data] [--json] [options]",
		Description: `Reads the registry's storage as a backup would and reports what a registry would fail
to serve: malformed link files (empty, a trailing newline, garbage: the registry answers
HTTP 500), links to missing blobs, manifests that are corrupt or reference missing blobs,
and with --read-data blobs whose content does not match their digest (every blob is read
and hashed, in parallel). It also lists, as notices, the blobs no manifest revision reaches
(orphans: the registry's garbage collector would delete them) and uploads in progress older
than --stale-uploads, with their sizes.
Exit codes: 0 healthy (orphans and stale uploads are not damage), 3 damage found,
4 another run holds the storage (check takes a shared lock: checks run together, but not
beside a backup or restore), 1 error.
Examples:
  regbackup check --from /var/lib/registry
  regbackup check --from /var/lib/registry --read-data --json | jq '.problems'`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "from", Usage: "registry storage `LOCATION` to check"},
			&cli.BoolFlag{Name: "read-data", Usage: "read and hash every blob, not only manifests and links"},
			&cli.DurationFlag{Name: "stale-uploads", Value: check.DefaultStaleUploads, Usage: "report uploads in progress older than `DURATION`"},
			concurrencyFlag("files read (link files, manifests, and blobs with --read-data)"),
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only damage and errors"},
			&cli.BoolFlag{Name: "json", Usage: "print the report as JSON on stdout"},
			metricsFlag(),
		}, lockFlags()...),
		Action: runCheck,
	}
}

func runCheck(c *cli.Context) (err error) {
	r := newRun(c, "check")
	defer func() { err = r.finish(err) }()
	from := c.String("from")
	r.out.location = redactLocation(from)
	switch {
	case c.NArg() > 0:
		return usagef("check takes no arguments (got %q); use --from", c.Args().First())
	case from == "":
		return usagef("--from is required: the registry's storage root, e.g. /var/lib/registry")
	}
	concurrency, err := concurrencyOption(c)
	if err != nil {
		return err
	}
	d, err := drivers.Open(c.Context, from)
	if err != nil {
		return err
	}
	r.setLocation(&r.out.Source, d.String())
	if err := r.lockStorage(d, true); err != nil {
		return err
	}
	d = throttled(d)
	res, err := check.Check(c.Context, d, check.Options{Concurrency: concurrency,
		ReadData: c.Bool("read-data"), StaleUploads: c.Duration("stale-uploads"), Progress: &r.rep.prog})
	if res == nil {
		return err
	}
	r.out.Report = res
	r.out.Blobs, r.out.Bytes = res.Blobs, res.BlobBytes
	r.out.extra = checkMetrics(res)
	if !c.Bool("json") && !c.Bool("quiet") {
		r.rep.stop() // the report follows: no bar in between
		printCheck(r.rep, res, c.Duration("stale-uploads"), errors.Is(err, check.ErrDamagedStorage))
	}
	return err
}

// printCheck prints the orphans, the stale uploads and a closing line.
func printCheck(rep *reporter, res *check.Report, staleAge time.Duration, damaged bool) {
	if n := len(res.Orphans); n > 0 {
		rep.printf("notice: %d orphan blob(s), %s, that no manifest revision reaches (the registry's garbage collector would delete them):\n",
			n, human(res.OrphanBytes))
		for i, o := range res.Orphans {
			if i == maxListed {
				rep.printf("  ... and %d more (--json lists them all)\n", n-maxListed)
				break
			}
			rep.printf("  %s (%s)\n", o.Path, human(o.Size))
		}
	}
	if n := len(res.StaleUploads); n > 0 {
		rep.printf("notice: %d upload(s) in progress older than %s, %s (the registry's upload purger deletes them; safe to delete):\n",
			n, roughly(staleAge), human(res.StaleUploadBytes))
		for i, u := range res.StaleUploads {
			if i == maxListed {
				rep.printf("  ... and %d more (--json lists them all)\n", n-maxListed)
				break
			}
			started := "start unknown"
			if !u.Started.IsZero() {
				started = fmt.Sprintf("started %s, %s ago", u.Started.Format(time.RFC3339), roughly(time.Duration(u.AgeSeconds*float64(time.Second))))
			}
			rep.printf("  %s (%s; %s)\n", u.Path, human(u.Size), started)
		}
	}
	line := fmt.Sprintf("check: %d repositories, %d tags, %d manifests, %d links, %d blobs (%s)",
		res.Repositories, res.Tags, res.Manifests, res.Links, res.Blobs, human(res.BlobBytes))
	if res.ReadData {
		line += fmt.Sprintf(", all %d hashed", res.Hashed)
	} else {
		line += fmt.Sprintf(", %d manifests hashed (--read-data hashes every blob)", res.Hashed)
	}
	line += fmt.Sprintf(" in %s", res.Duration.Round(time.Millisecond))
	notices := len(res.Problems) - res.Damaged()
	switch {
	case damaged:
		line += fmt.Sprintf(": %d damage, %d notice(s)", res.Damaged(), notices)
	default:
		line += fmt.Sprintf(": no damage (%d notice(s), %d orphan blob(s), %d stale upload(s))", notices, len(res.Orphans), len(res.StaleUploads))
	}
	rep.printf("%s\n", line)
}

// checkMetrics are check's own metrics beside the common ones.
func checkMetrics(res *check.Report) []metric {
	return []metric{
		{"regbackup_orphan_blobs", "Blobs no manifest revision reaches (a garbage collection would delete them), at the last check.", nil, float64(len(res.Orphans))},
		{"regbackup_orphan_bytes", "Bytes of those orphan blobs.", nil, float64(res.OrphanBytes)},
		{"regbackup_stale_uploads", "Uploads in progress older than --stale-uploads, at the last check.", nil, float64(len(res.StaleUploads))},
		{"regbackup_stale_upload_bytes", "Bytes of those stale uploads.", nil, float64(res.StaleUploadBytes)},
	}
}

// roughly is a duration for people: "3 days", "5h20m", "42s".
func roughly(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= time.Hour:
		return strings.TrimSuffix(fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60), "00m")
	case d >= time.Minute:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return d.Round(time.Second).String()
}
