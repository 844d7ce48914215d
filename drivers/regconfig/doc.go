// Package regconfig reads a Docker Distribution registry's config.yml the
// way the registry itself reads it, for what regbackup needs: the storage
// driver and its parameters, and the files of key material the config names
// (TLS certificate and key, client CAs, htpasswd, token root certificates),
// and, for GitLab's container registry, its metadata database section
// (Config.Database, with REGISTRY_DATABASE_* overrides). ReadLockfiles and
// Config.Metadata decide, as GitLab's registry does at start, whether a
// registry keeps its metadata in storage or in that database.
//
// Load applies REGISTRY_* environment overrides exactly as Distribution's
// configuration parser does (configuration/parser.go): variables are applied
// in lexical order of their names, so REGISTRY_STORAGE (which replaces the
// whole storage section) comes before REGISTRY_STORAGE_S3_BUCKET (which sets
// one parameter); the name after "REGISTRY_" is split at every "_" into a
// path; values are parsed as YAML. The environment is passed in (Options.Env)
// and never read from the process, so tests are hermetic.
//
// Config.Open opens the storage through drivers.OpenParams, i.e. the backend
// packages that registered the registry's driver name (filesystem, s3, gcs,
// azure, ...). Drivers regbackup cannot read (swift, oss, inmemory) give a
// one-line error that says what to do instead.
//
// Secrets (access keys, account keys, passwords, inline credentials, the
// database password) never
// appear in errors, in Config.String or in anything else this package
// returns for people to read; only parameter and variable names do.
package regconfig
