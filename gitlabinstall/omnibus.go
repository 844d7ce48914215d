package gitlabinstall

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/regbackup/regbackup/drivers/regconfig"
)

// omnibus reads the registry config Omnibus writes and the key path
// gitlab.rb may change.
func (in *Install) omnibus() error {
	in.Kind = Omnibus
	in.Restart = "gitlab-ctl restart registry && gitlab-ctl restart puma (GitLab Rails signs registry tokens with the key)"
	cfgFile := in.local(OmnibusConfig)
	data, err := os.ReadFile(cfgFile)
	if err != nil {
		return fmt.Errorf("gitlab: %w", err)
	}
	cfg, err := regconfig.Parse(cfgFile, data, regconfig.Options{Env: in.omnibusEnv(), WorkDir: "/"})
	if err != nil {
		return fmt.Errorf("gitlab: %w", err)
	}
	if p, ok := cfg.Params["rootdirectory"].(string); ok && cfg.Driver == "filesystem" {
		cfg.Params["rootdirectory"] = in.local(p)
	}
	in.Config = cfg
	key, from := OmnibusKey, "Omnibus default"
	if p := gitlabRBSetting(in.local(OmnibusGitLabRB), "gitlab_rails", "registry_key_path"); p != "" {
		key, from = p, "gitlab_rails['registry_key_path'] in "+OmnibusGitLabRB
	}
	in.addFile(RoleKey, key, from)
	cert := ""
	for _, k := range cfg.KeyFiles {
		if k.Key == "auth.token.rootcertbundle" {
			cert = k.Path
		}
	}
	if cert != "" {
		in.addFile(RoleCert, cert, "auth.token.rootcertbundle in "+OmnibusConfig)
	} else {
		in.addFile(RoleCert, OmnibusCert, "Omnibus default; the config names no auth.token.rootcertbundle")
	}
	// The config's other key files (http.tls.*) are the registry's own.
	for _, k := range cfg.KeyFiles {
		if k.Key != "auth.token.rootcertbundle" {
			in.addFile(k.Key, k.Path, "in "+OmnibusConfig)
		}
	}
	return nil
}

// omnibusEnv is the registry service's environment as runit gives it: one
// file per variable in /opt/gitlab/etc/registry/env (REGISTRY_* overrides
// apply to the config as the registry sees them).
func (in *Install) omnibusEnv() []string {
	dir := in.local(OmnibusEnvDir)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var env []string
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), "REGISTRY_") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err == nil {
			env = append(env, e.Name()+"="+strings.TrimRight(string(b), "\n"))
		}
	}
	return env
}

// gitlabRBSetting returns the value gitlab.rb assigns to section['key'] on
// a line of its own (`gitlab_rails['registry_key_path'] = "/x"`), or "".
func gitlabRBSetting(file, section, key string) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	re := regexp.MustCompile(`^\s*` + regexp.QuoteMeta(section) + `\[['"]` + regexp.QuoteMeta(key) + `['"]\]\s*=\s*['"]([^'"]+)['"]\s*(#.*)?$`)
	val := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			val = m[1] // the last assignment wins, as in Ruby
		}
	}
	return val
}
