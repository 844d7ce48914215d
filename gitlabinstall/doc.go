// Package gitlabinstall finds, on this machine or under a mounted root, what
// a GitLab install's container registry restore needs: the registry's
// storage (through its config.yml when GitLab writes one), the token
// signing key GitLab Rails signs registry tokens with, and the certificate
// the registry checks them against. GitLab's own backups leave the key and
// certificate out; without them every `docker login` fails after a restore.
//
// It knows three installs:
//
//	Omnibus         /var/opt/gitlab/registry/config.yml, the storage it names,
//	                /var/opt/gitlab/gitlab-rails/etc/gitlab-registry.key
//	                (gitlab_rails['registry_key_path'] in /etc/gitlab/gitlab.rb)
//	                and the auth.token.rootcertbundle the config names
//	docker-gitlab   sameersbn/gitlab: GITLAB_REGISTRY_DIR,
//	                GITLAB_REGISTRY_KEY_PATH and the certificate from
//	                REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE (or beside the key)
//	Helm chart      nothing on disk to find: the chart keeps them in
//	                Secrets; the caller passes them (Options.Storage, Key,
//	                Cert), see the README
//
// It only reads; it prints nothing (Install.Describe returns the lines).
package gitlabinstall
