package main

import (
	"github.com/regbackup/regbackup/restore"
	"github.com/urfave/cli/v2"
)

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "check a whole archive: every digest, every link, the trailer",
		UsageText: "regbackup verify [--quiet] [--json] [--parent FILE]... [--identity FILE] ARCHIVE",
		Description: `Reads the whole archive and checks every blob's sha256, that every link file names a
blob the archive holds, that the entries match the catalog, and that the trailer marking
the archive complete is there. Writes nothing. Exits 0 when a restore will succeed,
3 when the archive is corrupt, truncated or incomplete.

GitLab's own backups are checked the same way, with no extra flag: <id>_gitlab_backup.tar,
its registry.tar.gz (gzip or zstd) or the folder it was extracted into; every blob against
its digest, every link file against the blobs the backup holds.

An incremental archive is checked with its whole chain: every parent it needs is found
beside it (or given with --parent), must be the very archive it was made on (catalog
sha256), and is read whole too. A missing parent exits 5; an encrypted archive without
the right --identity exits 6.

` + archiveURLHelp + `

Example:
  regbackup verify /backups/registry-2026-11-23.tar.zst
  regbackup verify --identity key.txt /backups/registry-2026-11-23.tar.zst
  regbackup verify 's3://backups/registry/registry-2026-11-23.tar.zst?region=eu-west-1'
  regbackup verify /var/opt/gitlab/backups/1764555303_2026_12_01_18.6.1_gitlab_backup.tar`,
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only problems and errors"},
			&cli.BoolFlag{Name: "json", Usage: "print a JSON summary on stdout"},
		}, parentFlags()...),
		Action: func(c *cli.Context) (err error) {
			r := newRun(c, "verify")
			defer func() { err = r.finish(err) }()
			name, err := oneArchiveArg(c.Args().Slice(), "verify")
			if err != nil {
				return err
			}
			r.out.Archive = name
			scan, err := restore.NewScan(nil)
			if err != nil {
				return err
			}
			in, err := openInput(c, name, scan)
			if err != nil {
				return err
			}
			defer in.Close()
			rep := r.rep
			if in.gl != nil {
				return verifyGitLab(c, r, in)
			}
			parents, err := in.parents()
			if err != nil {
				return err
			}
			result, err := restore.VerifyScan(c.Context, in.ar, scan, restore.VerifyOptions{Progress: &rep.prog,
				Parents: parents, Identities: in.finder.Identities})
			if err != nil {
				return err
			}
			r.report("verify", result, verifySummary(result))
			if !c.Bool("quiet") && !c.Bool("json") {
				rep.printf("archive %s is complete and every digest matches\n", name)
			}
			return nil
		},
	}
}
