package sample

import "strings"

// Root is the folder, relative to the storage driver's root, that holds every
// registry file.
const Root = "docker/registry/v2"

// hexOf strips the "sha256:" prefix of a digest.
func hexOf(digest string) string { return strings.TrimPrefix(digest, "sha256:") }

// BlobPath is where the registry keeps the content of blob digest
// ("sha256:<hex>"): blobs/sha256/<hex[0:2]>/<hex>/data.
func BlobPath(digest string) string {
	h := hexOf(digest)
	two := h
	if len(two) > 2 {
		two = two[:2]
	}
	return Root + "/blobs/sha256/" + two + "/" + h + "/data"
}

func repoPath(repo string) string { return Root + "/repositories/" + repo }

// LayerLinkPath is the _layers link that lets repo serve a config or layer blob.
func LayerLinkPath(repo, digest string) string {
	return repoPath(repo) + "/_layers/sha256/" + hexOf(digest) + "/link"
}

// RevisionLinkPath is the link saying manifest digest exists in repo.
func RevisionLinkPath(repo, digest string) string {
	return repoPath(repo) + "/_manifests/revisions/sha256/" + hexOf(digest) + "/link"
}

// tagPath is the folder of one tag; deleting a tag removes all of it.
func tagPath(repo, tag string) string { return repoPath(repo) + "/_manifests/tags/" + tag }

// TagCurrentLinkPath is the link holding the digest tag points to now.
func TagCurrentLinkPath(repo, tag string) string { return tagPath(repo, tag) + "/current/link" }

// TagIndexLinkPath is the link recording that tag once pointed to digest.
func TagIndexLinkPath(repo, tag, digest string) string {
	return tagPath(repo, tag) + "/index/sha256/" + hexOf(digest) + "/link"
}

// UploadPath is the folder of an upload in progress; backups skip it.
func UploadPath(repo, uuid string) string { return repoPath(repo) + "/_uploads/" + uuid }
