package main

import (
	"github.com/urfave/cli/v2"

	"github.com/regbackup/regbackup/backup"
)

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "check a whole archive: every digest, every link, the trailer",
		UsageText: "regbackup verify [--quiet] [--json] ARCHIVE",
		Description: `Reads the whole archive and checks every blob's sha256, that every link file names a
blob the archive holds, that the entries match the catalog, and that the trailer marking
the archive complete is there. Writes nothing. Exits 0 when a restore will succeed,
3 when the archive is corrupt, truncated or incomplete.

Example:
  regbackup verify /backups/registry-2026-11-23.tar.zst`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only problems and errors"},
			&cli.BoolFlag{Name: "json", Usage: "print a JSON summary on stdout"},
		},
		Action: func(c *cli.Context) (err error) {
			r := newRun(c, "verify")
			defer func() { err = r.finish(err) }()
			name, in, err := archiveArg(c, "verify")
			if err != nil {
				return err
			}
			r.out.Archive = name
			defer in.Close()
			rep := r.rep
			result, _, err := backup.Verify(c.Context, in, &rep.prog)
			if err != nil {
				return err
			}
			r.report("verify", result)
			if !c.Bool("quiet") && !c.Bool("json") {
				rep.printf("archive %s is complete and every digest matches\n", name)
			}
			return nil
		},
	}
}
