package gitlabinstall

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/regbackup/regbackup/drivers/regconfig"
)

// Kind names a way of installing GitLab.
type Kind string

const (
	Omnibus      Kind = "Omnibus"
	DockerGitLab Kind = "docker-gitlab"
	Helm         Kind = "Helm chart"
)

// Roles of the key material files.
const (
	RoleKey  = "token signing key"
	RoleCert = "token certificate"
)

// File is a file of key material the install keeps.
type File struct {
	Role string // RoleKey or RoleCert
	// Path is where the install names it (GitLab's path, on the GitLab
	// host), Local where it is on this machine: Path under Options.Root.
	Path  string
	Local string
	// From says how it was found, e.g. "auth.token.rootcertbundle in
	// /var/opt/gitlab/registry/config.yml".
	From string
}

// Install is what Find picked.
type Install struct {
	Kind Kind
	Root string // Options.Root ("" for /)
	// Config is the registry's config, when the install writes one
	// (Omnibus), with a filesystem root moved under Root. Nil otherwise.
	Config *regconfig.Config
	// Storage is the registry storage location: a local folder (under
	// Root), or whatever Options.Storage said. "" when Config names it.
	Storage string
	Files   []File
	// Restart is the command that makes GitLab and its registry load what
	// a restore wrote.
	Restart string
}

// Options configure Find.
type Options struct {
	// Root is the folder GitLab's paths are under ("" or "/": this
	// machine), e.g. a disk of the GitLab host mounted elsewhere.
	Root string
	// Env is the environment ("KEY=value"), where docker-gitlab's
	// variables are looked for.
	Env []string
	// Storage, Key and Cert name what Find cannot find (the Helm chart's
	// Secrets copied out) or override what it finds. Key and Cert are GitLab's
	// paths, read under Root like the rest.
	Storage, Key, Cert string
	// Helm says the install is the Helm chart: nothing is looked for on
	// disk, Storage is required.
	Helm bool
}

// Omnibus's paths.
const (
	OmnibusConfig   = "/var/opt/gitlab/registry/config.yml"
	OmnibusKey      = "/var/opt/gitlab/gitlab-rails/etc/gitlab-registry.key"
	OmnibusCert     = "/var/opt/gitlab/registry/gitlab-registry.crt"
	OmnibusGitLabRB = "/etc/gitlab/gitlab.rb"
	OmnibusEnvDir   = "/opt/gitlab/etc/registry/env"
)

// docker-gitlab's defaults.
const (
	DockerRegistryDir = "/home/git/data/shared/registry"
	DockerKey         = "/certs/registry.key"
)

// ErrNotFound: no GitLab install was found.
var ErrNotFound = errors.New("no GitLab install found")

// Find looks for a GitLab install: with opts.Helm, it takes what opts
// names; else docker-gitlab when its variables are set, else Omnibus when
// its registry config exists, else docker-gitlab when its registry folder
// does. Every file of key material must exist (a restore puts it back, but
// Find does not know that: the caller checks Local when it reads them).
func Find(opts Options) (*Install, error) {
	root := filepath.Clean(opts.Root)
	if opts.Root == "" || root == "/" {
		root = ""
	}
	in := &Install{Root: root}
	env := envMap(opts.Env)
	var err error
	switch {
	case opts.Helm:
		err = in.helm(opts)
	case env["GITLAB_REGISTRY_DIR"] != "" || env["GITLAB_REGISTRY_KEY_PATH"] != "":
		err = in.docker(env)
	case exists(in.local(OmnibusConfig)):
		err = in.omnibus()
	case isDir(in.local(DockerRegistryDir)):
		err = in.docker(env)
	default:
		where := "this machine"
		if root != "" {
			where = root
		}
		return nil, fmt.Errorf("%w on %s: no %s (Omnibus), no GITLAB_REGISTRY_DIR or %s (docker-gitlab); "+
			"for the Helm chart pass --gitlab-helm with --from/--to and the key and certificate copied out of its Secrets",
			ErrNotFound, where, in.local(OmnibusConfig), in.local(DockerRegistryDir))
	}
	if err != nil {
		return nil, err
	}
	if opts.Storage != "" {
		in.Storage, in.Config = opts.Storage, nil
	}
	in.override(RoleKey, opts.Key)
	in.override(RoleCert, opts.Cert)
	return in, nil
}

// local is where GitLab's path p is on this machine.
func (in *Install) local(p string) string {
	if in.Root == "" {
		return p
	}
	return filepath.Join(in.Root, p)
}

func (in *Install) addFile(role, p, from string) {
	in.Files = append(in.Files, File{Role: role, Path: p, Local: in.local(p), From: from})
}

// override replaces (or adds) the file of role with GitLab's path p.
func (in *Install) override(role, p string) {
	if p == "" {
		return
	}
	for i := range in.Files {
		if in.Files[i].Role == role {
			in.Files[i] = File{Role: role, Path: p, Local: in.local(p), From: "given"}
			return
		}
	}
	in.addFile(role, p, "given")
}

// File returns the file of role, or nil.
func (in *Install) File(role string) *File {
	for i := range in.Files {
		if in.Files[i].Role == role {
			return &in.Files[i]
		}
	}
	return nil
}

// Describe is what Find picked, one line each, for people: no secrets (the
// config's parameters are never printed).
func (in *Install) Describe() []string {
	where := ""
	if in.Root != "" {
		where = " under " + in.Root
	}
	lines := []string{fmt.Sprintf("gitlab: %s install%s", in.Kind, where)}
	switch {
	case in.Config != nil:
		s := in.Config.Driver + " storage"
		if p, ok := in.Config.Params["rootdirectory"].(string); ok && in.Config.Driver == "filesystem" {
			s = p
		}
		lines = append(lines, fmt.Sprintf("gitlab: registry config %s, storage %s", in.Config.File, s))
	case in.Storage != "":
		lines = append(lines, "gitlab: registry storage "+in.Storage)
	}
	for _, f := range in.Files {
		lines = append(lines, fmt.Sprintf("gitlab: %s %s (%s)", f.Role, f.Local, f.From))
	}
	if in.Restart != "" {
		lines = append(lines, "gitlab: after a restore: "+in.Restart)
	}
	return lines
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

func exists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
