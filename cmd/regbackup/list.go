package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/restore"
)

func listCommand() *cli.Command {
	return &cli.Command{
		Name:      "list",
		Usage:     "show the repositories, tags, digests and sizes an archive holds",
		UsageText: "regbackup list [--json] [--parent FILE]... [--identity FILE] ARCHIVE",
		Description: `Reads only the archive's catalog (the first entry), so it is fast whatever the archive's
size. It does not check the data: use verify for that. GitLab's own backups
(<id>_gitlab_backup.tar, registry.tar.gz, or the folder extracted) hold no catalog: list
reads the whole stream once, checking every digest as verify does. For an incremental archive it also
checks that every parent it needs is there (exit 5 when one is missing, after the listing).

` + archiveURLHelp + `

Example:
  regbackup list /backups/registry-2026-11-23.tar.zst
  regbackup list --json /backups/registry-2026-11-23.tar.zst | jq '.images[].digest'
  regbackup list 'gs://backups/registry/registry-2026-11-23.tar.zst'`,
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print JSON"},
		}, parentFlags()...),
		Action: func(c *cli.Context) error {
			name, err := oneArchiveArg(c.Args().Slice(), "list")
			if err != nil {
				return err
			}
			scan := restore.NewListScan()
			in, err := openInput(c, name, scan)
			if err != nil {
				return err
			}
			defer in.Close()
			var l *restore.Listing
			var chainErr error
			if in.gl != nil {
				// No catalog: the whole stream is read, and checked.
				var cat *archive.Catalog
				_, cat, chainErr = restore.VerifyGitLab(c.Context, in.gl, nil)
				if cat == nil {
					return chainErr
				}
				l = restore.ListCatalog(cat)
				if info := in.gl.Info(); info != nil {
					l.Created = info.CreatedAt
				}
			} else {
				l = restore.ListScan(in.ar, scan)
				// The listing comes from this catalog alone; a missing parent is
				// still an error, since the archive cannot be restored without it.
				_, chainErr = in.parents()
			}
			if c.Bool("json") {
				if err := l.WriteJSON(os.Stdout); err != nil {
					return err
				}
				return chainErr
			}
			fmt.Printf("archive of %s taken %s: %d repositories, %d blobs (%s)\n",
				l.Source, l.Created, len(l.Repositories), l.Blobs, human(l.BlobBytes))
			if db := l.Database; db != nil {
				fmt.Printf("metadata: GitLab's metadata database %s, PostgreSQL %s, schema %s; the archive holds its dump (%s, %s)\n",
					db.Source, db.ServerVersion, db.SchemaVersion, db.DumpFormat, db.DumpTool)
			}
			if len(l.Parents) > 0 {
				fmt.Printf("incremental: holds %d blobs (%s) itself, the rest in %d parent archive(s):\n",
					l.OwnBlobs, human(l.OwnBlobBytes), len(l.Parents))
				for _, p := range l.Parents {
					fmt.Printf("  %s (taken %s)\n", p.Name, p.Created.Local().Format("2006-01-02 15:04:05"))
				}
			}
			fmt.Println()
			if err := writeImageTable(os.Stdout, l); err != nil {
				return err
			}
			if len(l.Files) > 0 {
				fmt.Printf("\nincluded files:\n")
				for _, f := range l.Files {
					fmt.Printf("  %s\n", f)
				}
			}
			return chainErr
		},
	}
}
