package main

// Where backup reads and restore writes: a storage location (--from, --to)
// or a registry's config.yml (--registry-config, --to-registry-config).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/filesystem"
	"github.com/regbackup/regbackup/drivers/regconfig"
)

// locationHelp describes LOCATION and FILE for --help. Shared by backup and
// restore so that both list the same forms.
const locationHelp = `LOCATION is where the registry keeps its data (its storage "rootdirectory"):
  /var/lib/registry or file:///var/lib/registry   a folder, the one that holds docker/
  s3://BUCKET[/ROOTDIR]?region=R&endpoint=URL&path-style=true
                                                  S3 or S3-compatible (MinIO, Ceph, R2, ...)
  gs://BUCKET[/ROOTDIR]?endpoint=URL              Google Cloud Storage
  azure://CONTAINER[/ROOTDIR]?account=NAME&endpoint=URL
                                                  Azure Blob Storage
  swift://CONTAINER[/PREFIX]?auth=URL&region=R&tenant=P
                                                  OpenStack Swift (PREFIX: the registry's prefix)
  oss://BUCKET[/ROOTDIR]?region=cn-hangzhou&internal=true
                                                  Aliyun OSS, through its S3-compatible API
Credentials never go into LOCATION; they come from the environment:
  S3     AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN), or AWS_PROFILE,
         web identity, container and instance roles (the AWS default chain)
  GCS    GOOGLE_APPLICATION_CREDENTIALS=key.json, gcloud application-default login,
         or the metadata server; STORAGE_EMULATOR_HOST for an emulator
  Azure  AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN,
         or AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, managed identity, az login
  Swift  OS_USERNAME, OS_PASSWORD (OS_AUTH_URL, OS_PROJECT_NAME, OS_USER_DOMAIN_NAME, ...
         as in an openrc file), or ST_AUTH, ST_USER, ST_KEY for v1 auth
  OSS    AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY set to an OSS AccessKey pair

Instead of a LOCATION, give the registry's own config.yml (FILE): regbackup then reads its
storage section the way the registry does, with the registry's REGISTRY_* environment
variables applied (REGISTRY_STORAGE=s3, REGISTRY_STORAGE_S3_BUCKET=..., values parsed as
YAML), including the credentials it names. Relative paths in it are taken relative to the
current directory, as the registry takes them relative to its own: run regbackup from the
folder the registry runs in (/ for a systemd service or the official image).
Storage drivers read: filesystem, s3, s3aws, s3_v2, gcs, azure, azure_v2, swift, oss (not
inmemory).`

// loadRegistryConfig reads a registry config.yml with this process's
// environment (the REGISTRY_* variables the registry would see) and working
// directory (relative paths: see locationHelp).
func loadRegistryConfig(file string) (*regconfig.Config, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	return regconfig.Load(file, regconfig.Options{Env: os.Environ(), WorkDir: wd})
}

// backupSource is what a backup reads: the storage, and the key files the
// registry config names (none with --from or --no-key-files).
type backupSource struct {
	d        drivers.Driver
	cfg      *regconfig.Config // nil with --from
	keyFiles []regconfig.KeyFile
}

// openBackupSource opens --from LOCATION or --registry-config FILE. With a
// config, every key file it names must be readable unless withKeys is
// false: a backup that silently lacks the TLS key or the token certificate
// restores into a registry that does not start or rejects every login.
func openBackupSource(ctx context.Context, from, cfgFile string, withKeys bool) (*backupSource, error) {
	if cfgFile == "" {
		d, err := drivers.Open(ctx, from)
		return &backupSource{d: d}, err
	}
	cfg, err := loadRegistryConfig(cfgFile)
	if err != nil {
		return nil, err
	}
	if err := cfg.Supported(); err != nil {
		return nil, err // before key files: fixing those would not help
	}
	src := &backupSource{cfg: cfg}
	if withKeys {
		for _, k := range cfg.KeyFiles {
			if err := k.Check(); err != nil {
				return nil, fmt.Errorf("registry config %s: %w; fix the path, or use --no-key-files (with --include-file for the files where they really are) to back up the storage without the config's key files", cfgFile, err)
			}
		}
		src.keyFiles = cfg.KeyFiles
	}
	if src.d, err = cfg.Open(ctx); err != nil {
		return nil, err
	}
	return src, nil
}

// paths are the key files' paths, for --include-file.
func (s *backupSource) paths() []string {
	var out []string
	for _, k := range s.keyFiles {
		out = append(out, k.Path)
	}
	return out
}

// describe prints which storage and which key files a config gave: one
// line each, on stderr.
func (s *backupSource) describe(w io.Writer, withKeys bool) {
	if s.cfg == nil {
		return
	}
	fmt.Fprintf(w, "storage: %s (%s driver from %s%s)\n", s.d, s.cfg.Driver, s.cfg.File, overridesNote(s.cfg))
	switch {
	case !withKeys:
		fmt.Fprintf(w, "key files: not included (--no-key-files)\n")
	case len(s.keyFiles) == 0:
		fmt.Fprintf(w, "key files: none named in %s\n", s.cfg.File)
	default:
		var parts []string
		for _, k := range s.keyFiles {
			parts = append(parts, k.Path+" ("+k.Key+")")
		}
		fmt.Fprintf(w, "key files: %s\n", strings.Join(parts, ", "))
	}
	printIgnored(w, s.cfg)
}

// overridesNote names the REGISTRY_* variables that were applied.
func overridesNote(cfg *regconfig.Config) string {
	var names []string
	for _, o := range cfg.Overrides {
		if o.Ignored == "" {
			names = append(names, o.Name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return " and " + strings.Join(names, ", ")
}

// printIgnored warns about REGISTRY_* variables the registry ignores.
func printIgnored(w io.Writer, cfg *regconfig.Config) {
	for _, o := range cfg.Overrides {
		if o.Ignored != "" {
			fmt.Fprintf(w, "warning: %s is ignored, by the registry too: %s\n", o.Name, o.Ignored)
		}
	}
}

// restoreTarget is where a restore writes.
type restoreTarget struct {
	d       drivers.Driver
	created bool              // a filesystem root was created
	cfg     *regconfig.Config // nil with --to
}

// openRestoreTarget opens --to LOCATION or --to-registry-config FILE. A
// filesystem root that does not exist yet is created (a fresh machine),
// except for a dry run.
func openRestoreTarget(ctx context.Context, to, cfgFile string, dryRun bool) (*restoreTarget, error) {
	if cfgFile == "" {
		d, created, err := openTarget(ctx, to, dryRun)
		return &restoreTarget{d: d, created: created}, err
	}
	cfg, err := loadRegistryConfig(cfgFile)
	if err != nil {
		return nil, err
	}
	t := &restoreTarget{cfg: cfg}
	if cfg.Driver == "filesystem" {
		root, err := filesystem.RootFromParams(cfg.Params)
		if err != nil {
			return nil, fmt.Errorf("registry config %s: %w", cfgFile, err)
		}
		t.d, t.created, err = openTarget(ctx, root, dryRun)
		return t, err
	}
	t.d, err = cfg.Open(ctx)
	return t, err
}

// describeKeyFiles says, for each key file the target config names,
// whether the archive holds it at that path and what the restore does with
// it, so that nothing on disk is replaced without a word: included files are
// written only with --files-to-original (to their original paths, which are
// the config's paths when the archive came from the same config) or
// --files-to DIR.
func (t *restoreTarget) describeKeyFiles(w io.Writer, files []archive.File, filesTo string, toOriginal, dryRun bool) {
	if t.cfg == nil {
		return
	}
	fmt.Fprintf(w, "storage: %s (%s driver from %s%s)\n", t.d, t.cfg.Driver, t.cfg.File, overridesNote(t.cfg))
	printIgnored(w, t.cfg)
	held := map[string]archive.File{}
	for _, f := range files {
		held[f.Path] = f
	}
	will := "will"
	if dryRun {
		will = "would"
	}
	for _, k := range t.cfg.KeyFiles {
		f, inArchive := held[k.Path]
		onDisk, err := os.ReadFile(k.Path)
		exists := err == nil
		switch {
		case !inArchive && exists:
			fmt.Fprintf(w, "key file %s (%s): not in the archive; the file there stays\n", k.Path, k.Key)
		case !inArchive:
			fmt.Fprintf(w, "key file %s (%s): not in the archive and missing; the registry needs it to start\n", k.Path, k.Key)
		case exists && sameContent(onDisk, f.SHA256):
			fmt.Fprintf(w, "key file %s (%s): the archive holds the same file\n", k.Path, k.Key)
		case toOriginal && exists:
			fmt.Fprintf(w, "key file %s (%s): %s be REPLACED by the archive's copy (--files-to-original)\n", k.Path, k.Key, will)
		case toOriginal:
			fmt.Fprintf(w, "key file %s (%s): %s be written from the archive (--files-to-original)\n", k.Path, k.Key, will)
		case filesTo != "":
			fmt.Fprintf(w, "key file %s (%s): the archive's copy goes into %s, not here; copy it yourself or use --files-to-original\n", k.Path, k.Key, filesTo)
		default:
			fmt.Fprintf(w, "key file %s (%s): in the archive but not restored; add --files-to-original to write it there\n", k.Path, k.Key)
		}
	}
}

func sameContent(b []byte, sha string) bool {
	sum := sha256.Sum256(b)
	return bytes.Equal([]byte(hex.EncodeToString(sum[:])), []byte(sha))
}
