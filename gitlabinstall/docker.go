package gitlabinstall

import (
	"fmt"
	"path"
)

// docker takes sameersbn/docker-gitlab's variables, or its defaults.
func (in *Install) docker(env map[string]string) error {
	in.Kind = DockerGitLab
	in.Restart = "restart the gitlab and registry containers (docker compose restart gitlab registry)"
	dir, from := env["GITLAB_REGISTRY_DIR"], "GITLAB_REGISTRY_DIR"
	if dir == "" {
		dir = DockerRegistryDir
	}
	if !path.IsAbs(dir) {
		return fmt.Errorf("gitlab: %s=%q is not an absolute path", from, dir)
	}
	in.Storage = in.local(dir)
	key, kfrom := env["GITLAB_REGISTRY_KEY_PATH"], "GITLAB_REGISTRY_KEY_PATH"
	if key == "" {
		key, kfrom = DockerKey, "docker-gitlab default"
	}
	in.addFile(RoleKey, key, kfrom)
	switch {
	case env["REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE"] != "":
		in.addFile(RoleCert, env["REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE"], "REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE")
	case env["GITLAB_REGISTRY_CERT_PATH"] != "":
		in.addFile(RoleCert, env["GITLAB_REGISTRY_CERT_PATH"], "GITLAB_REGISTRY_CERT_PATH")
	default:
		in.addFile(RoleCert, path.Join(path.Dir(key), "registry.crt"), "beside the key (docker-gitlab's layout)")
	}
	return nil
}

// helm takes what the caller copied out of the chart's Secrets.
func (in *Install) helm(opts Options) error {
	in.Kind = Helm
	in.Restart = "kubectl rollout restart deployment/<release>-registry deployment/<release>-webservice-default"
	if opts.Storage == "" {
		return fmt.Errorf("gitlab: the Helm chart keeps its registry storage in a Secret (registry.storage): give it with --from/--to")
	}
	return nil
}
