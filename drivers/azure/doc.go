// Package azure is the Driver for a registry stored in Azure Blob Storage
// (the registry's "azure" storage driver, and GitLab's "azure" and
// "azure_v2").
//
// It registers the "azure" scheme,
//
//	azure://CONTAINER[/ROOTDIR]?account=NAME[&endpoint=URL][&realm=SUFFIX][&legacy-root-prefix=true]
//
// with credentials taken from the environment, never from the location:
// AZURE_STORAGE_CONNECTION_STRING, else AZURE_STORAGE_KEY (shared key),
// else AZURE_STORAGE_SAS_TOKEN, else azidentity's default credential chain
// (AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, workload or managed
// identity, az login). It also registers the registry config.yml driver
// names "azure" and "azure_v2" (see FromParams).
//
// Blob names: Distribution 3.x and GitLab write ROOTDIR/docker/registry/v2/...
// with no leading slash; Distribution 2.x kept the leading slash
// (/docker/registry/v2/...), which Config.LegacyRootPrefix selects.
//
// What it guarantees beyond the drivers.Driver contract:
//
//   - Put is all or nothing: small files go up in one request; larger ones
//     are staged as blocks and committed only once the reader ended at
//     exactly the expected size, so a failed or cancelled Put leaves the
//     earlier blob (or no blob) visible, never a partial one. Replacing a
//     blob that is not a BlockBlob (an AppendBlob written by the registry)
//     deletes it first, as the registry itself does: that one case is not
//     atomic.
//   - The memory Put uses for buffers is bounded per Driver
//     (Config.BufferMemory), however many Puts run at once. Readers that
//     are io.ReaderAt and io.Seeker (in-memory blobs) are sent from
//     sections, without buffers.
//   - Readers accept every blob type and resume after a broken download.
//   - Walk skips "folder" placeholder blobs (names ending in "/", or
//     hdi_isfolder metadata on accounts with a hierarchical namespace) and
//     names that are not canonical paths.
//   - New fails within seconds, with one line naming the location and what
//     to do, when the container is missing, the credentials are refused or
//     the endpoint cannot be reached. Errors never contain the account key,
//     SAS token, connection string or client secret.
package azure
