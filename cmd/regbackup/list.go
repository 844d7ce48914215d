package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/regbackup/regbackup/backup"
)

func listCommand() *cli.Command {
	return &cli.Command{
		Name:      "list",
		Usage:     "show the repositories, tags, digests and sizes an archive holds",
		UsageText: "regbackup list [--json] ARCHIVE",
		Description: `Reads only the archive's catalog (the first entry), so it is fast whatever the archive's
size. It does not check the data: use verify for that.

Example:
  regbackup list /backups/registry-2026-11-23.tar.zst
  regbackup list --json /backups/registry-2026-11-23.tar.zst | jq '.images[].digest'`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print JSON"},
		},
		Action: func(c *cli.Context) error {
			_, in, err := archiveArg(c, "list")
			if err != nil {
				return err
			}
			defer in.Close()
			l, err := backup.List(in)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(l)
			}
			fmt.Printf("archive of %s taken %s: %d repositories, %d blobs (%s)\n\n",
				l.Source, l.Created, len(l.Repositories), l.Blobs, human(l.BlobBytes))
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "REPOSITORY\tTAG\tDIGEST\tSIZE")
			for _, im := range l.Images {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", im.Repository, im.Tag, im.Digest, human(im.Size))
			}
			for _, r := range l.Repositories {
				if r.Tags == 0 {
					fmt.Fprintf(tw, "%s\t(no tags)\t%d manifests\t\n", r.Name, r.Manifests)
				}
			}
			tw.Flush()
			if len(l.Files) > 0 {
				fmt.Printf("\nincluded files:\n")
				for _, f := range l.Files {
					fmt.Printf("  %s\n", f)
				}
			}
			return nil
		},
	}
}
