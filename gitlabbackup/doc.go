// Package gitlabbackup reads GitLab's own backups of the container
// registry, as `gitlab-backup create` writes them, so that regbackup can
// restore, verify and list them with the guarantees of its own archives.
//
// Three forms are read, from any io.Reader, in one pass:
//
//	<backup_id>_gitlab_backup.tar   the outer tar: backup_information.yml,
//	                                registry.tar.gz and GitLab's other parts
//	registry.tar.gz                 the registry part alone (gzip, zstd or
//	                                plain tar, told apart by magic bytes)
//	a folder                        an outer tar extracted (OpenFolder)
//
// registry.tar.gz is `tar -C <registry root> -cf - .` piped into gzip: its
// entries are "./docker/registry/v2/...", in the order the file system
// listed them, blobs and link files mixed. Reader yields the blobs, each
// verified against the digest its path names as it is read, and the link
// files, each parsed; it refuses (ErrUnsafePath) absolute names, "..",
// links, devices and anything outside docker/, and skips uploads in
// progress, temp files and stray files (with a Note).
//
// The package knows GitLab's format and nothing of storage drivers or of
// restore order: package restore holds the link files (LinkSpool) until
// the stream has ended and writes them in push order.
package gitlabbackup
