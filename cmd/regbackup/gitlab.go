package main

// --gitlab: a GitLab install's registry storage and key material
// (gitlabinstall), and GitLab's own backups as restore, verify and list
// input (gitlabbackup).

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/filesystem"
	"github.com/regbackup/regbackup/drivers/regconfig"
	"github.com/regbackup/regbackup/gitlabbackup"
	"github.com/regbackup/regbackup/gitlabinstall"
	"github.com/regbackup/regbackup/restore"
)

// gitlabHelp describes --gitlab for --help.
const gitlabHelp = `--gitlab finds the GitLab install on this machine (or under --gitlab-root DIR, e.g. its disk
mounted elsewhere) and prints what it picked: Omnibus (/var/opt/gitlab/registry/config.yml,
the storage it names, the token signing key /var/opt/gitlab/gitlab-rails/etc/gitlab-registry.key
and the certificate auth.token.rootcertbundle names) or docker-gitlab (GITLAB_REGISTRY_DIR,
GITLAB_REGISTRY_KEY_PATH, REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE). For the Helm chart add
--gitlab-helm and give the storage (--from/--to) and the key and certificate copied out of
the <release>-registry-secret Secret (--gitlab-key, --gitlab-cert).`

// gitlabFlags are the flags of --gitlab.
func gitlabFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "gitlab", Usage: "use the GitLab install's registry storage and key material (see above)"},
		&cli.StringFlag{Name: "gitlab-root", Usage: "with --gitlab: GitLab's paths are under `DIR` (a mounted disk)"},
		&cli.BoolFlag{Name: "gitlab-helm", Usage: "with --gitlab: the install is the Helm chart (storage from --from/--to)"},
		&cli.StringFlag{Name: "gitlab-key", Usage: "with --gitlab: the token signing key is this `FILE` (GitLab's path; Helm: registry-auth.key)"},
		&cli.StringFlag{Name: "gitlab-cert", Usage: "with --gitlab: the token certificate is this `FILE` (Helm: registry-auth.crt)"},
	}
}

// findGitLab finds the install when --gitlab is given (nil when not);
// storage is the --from/--to given beside it, "" for none. It prints what
// it picked on stderr unless --quiet.
func findGitLab(c *cli.Context, storage string) (*gitlabinstall.Install, error) {
	if !c.Bool("gitlab") {
		for _, f := range []string{"gitlab-root", "gitlab-helm", "gitlab-key", "gitlab-cert"} {
			if c.IsSet(f) {
				return nil, usagef("--%s goes with --gitlab", f)
			}
		}
		return nil, nil
	}
	in, err := gitlabinstall.Find(gitlabinstall.Options{Root: c.String("gitlab-root"), Env: os.Environ(),
		Storage: storage, Key: c.String("gitlab-key"), Cert: c.String("gitlab-cert"), Helm: c.Bool("gitlab-helm")})
	if err != nil {
		return nil, err
	}
	if !c.Bool("quiet") {
		for _, l := range in.Describe() {
			fmt.Fprintln(os.Stderr, l)
		}
	}
	return in, nil
}

// gitlabStorage opens the install's registry storage. A restore target
// (create) that is a missing folder is created, as openTarget does.
func gitlabStorage(ctx context.Context, in *gitlabinstall.Install, create, dryRun bool) (drivers.Driver, bool, error) {
	if in.Config != nil {
		if err := in.Config.Supported(); err != nil {
			return nil, false, err
		}
		if in.Config.Driver != "filesystem" {
			d, err := in.Config.Open(ctx)
			return d, false, err
		}
		root, err := filesystem.RootFromParams(in.Config.Params)
		if err != nil {
			return nil, false, fmt.Errorf("registry config %s: %w", in.Config.File, err)
		}
		if create {
			return openTarget(ctx, root, dryRun)
		}
		d, err := drivers.Open(ctx, root)
		return d, false, err
	}
	if create {
		return openTarget(ctx, in.Storage, dryRun)
	}
	d, err := drivers.Open(ctx, in.Storage)
	return d, false, err
}

// gitlabKeyFiles are the install's key material files to back up: every
// one must exist.
func gitlabKeyFiles(in *gitlabinstall.Install) ([]string, error) {
	var out []string
	for _, f := range in.Files {
		fi, err := os.Stat(f.Local)
		if err != nil || !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("gitlab: %s %s (%s) cannot be read: %v; without it a restored registry rejects every docker login (give it with --gitlab-key/--gitlab-cert)",
				f.Role, f.Local, f.From, errOrNotRegular(err))
		}
		out = append(out, f.Local)
	}
	return out, nil
}

func errOrNotRegular(err error) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("not a regular file")
}

// gitlabFileTarget maps an included file of an archive to the install's
// place for it: the file of the install whose GitLab path the archive's
// path ends with (a backup taken under another --gitlab-root), by role.
// "" leaves the file's original path.
func gitlabFileTarget(in *gitlabinstall.Install, archived string) string {
	for _, f := range in.Files {
		if archived == f.Local || archived == f.Path || strings.HasSuffix(archived, f.Path) {
			return f.Local
		}
	}
	return ""
}

// openGitLabInput opens a GitLab backup given as a folder (the outer tar
// extracted). ok false: name is not one.
func openGitLabFolder(name string) (*gitlabbackup.Reader, bool, error) {
	if name == "-" {
		return nil, false, nil
	}
	fi, err := os.Stat(name)
	if err != nil || !fi.IsDir() || !gitlabbackup.IsFolder(name) {
		return nil, false, nil
	}
	gl, err := gitlabbackup.OpenFolder(filepath.Clean(name), gitlabbackup.Options{SpoolDatabase: true})
	return gl, true, err
}

// describeGitLab prints what backup_information.yml says, when it has been
// read, and what the backup holds besides the registry.
func describeGitLab(w io.Writer, gl *gitlabbackup.Reader) {
	if info := gl.Info(); info != nil {
		fmt.Fprintf(w, "%s: %s\n", gl.Form(), info)
	} else if gl.Form() == gitlabbackup.FormRegistry {
		fmt.Fprintf(w, "%s (%s; no backup_information.yml)\n", gl.Form(), gl.Compression())
	}
}

// describeGitLabEnd prints, after the stream, what only its end told: the
// information when it came last, and the registry database dump.
func describeGitLabEnd(w io.Writer, gl *gitlabbackup.Reader, infoBefore, restoring bool) {
	if !infoBefore && gl.Info() != nil {
		describeGitLab(w, gl)
	}
	if db := gl.Database(); db != nil && !restoring {
		fmt.Fprintf(w, "the backup holds %s (the registry's metadata database, %s); not restored: "+
			"restore with --to-registry-config FILE (the config naming the registry's database) or --gitlab\n", db.Name, human(db.Size))
	}
}

// verifyGitLab is verify of one of GitLab's backups.
func verifyGitLab(c *cli.Context, r *run, in *input) error {
	rep := r.rep
	quiet := c.Bool("quiet") || c.Bool("json")
	infoBefore := in.gl.Info() != nil
	if !quiet {
		describeGitLab(os.Stderr, in.gl)
	}
	result, _, err := restore.VerifyGitLab(c.Context, in.gl, &rep.prog)
	if !quiet {
		describeGitLabEnd(os.Stderr, in.gl, infoBefore, false)
	}
	r.report("verify", result, restoreSummary(result))
	if err != nil {
		return err
	}
	if !quiet {
		rep.printf("%s %s is complete and every digest matches\n", in.gl.Form(), in.name)
	}
	return nil
}

// restoreGitLab is restore of one of GitLab's backups into d.
func restoreGitLab(c *cli.Context, r *run, in *input, d drivers.Driver, opts restore.Options, inst *gitlabinstall.Install, cfg *regconfig.Config) error {
	rep := r.rep
	loud := !c.Bool("quiet")
	infoBefore := in.gl.Info() != nil
	if loud {
		describeGitLab(os.Stderr, in.gl)
	}
	result, err := restore.RestoreGitLab(c.Context, in.gl, d, opts)
	if loud {
		describeGitLabEnd(os.Stderr, in.gl, infoBefore, cfg != nil && cfg.Database.Enabled != regconfig.DatabaseOff)
	}
	verb := "restore"
	if opts.DryRun {
		verb = "restore --dry-run (nothing written)"
	}
	r.report(verb, result, restoreSummary(result))
	if err != nil {
		return err
	}
	if err := restoreGitLabDatabase(c, r, in.gl, d, cfg, opts.DryRun); err != nil {
		return err
	}
	if loud && (opts.FilesTo != "" || opts.FilesToOriginal || inst != nil) {
		// gitlab-backup leaves the key material out on purpose.
		fmt.Fprintf(os.Stderr, "GitLab's backup holds no key material (token signing key, certificate): nothing to write with --files-to*; "+
			"keep them with regbackup backup --gitlab%s\n", keptNote(inst))
	}
	if loud && !c.Bool("json") && !opts.DryRun {
		rep.printf("restored into %s; %s\n", d, restartHint(inst))
	}
	return nil
}

// keptNote says whether the install's key material is where it belongs.
func keptNote(inst *gitlabinstall.Install) string {
	if inst == nil {
		return ""
	}
	var parts []string
	for _, f := range inst.Files {
		state := "present, left as it is"
		if _, err := os.Stat(f.Local); err != nil {
			state = "MISSING: every docker login fails until it is back"
		}
		parts = append(parts, fmt.Sprintf("%s %s %s", f.Role, f.Local, state))
	}
	return "; " + strings.Join(parts, "; ")
}
