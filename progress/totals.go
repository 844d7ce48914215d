package progress

// Totals are the counts every report of work on a registry's content
// gives: backup.Report, restore.Report and restore.VerifyReport embed them
// (so their JSON starts with these members), and cmd/regbackup's closing
// line says them.
type Totals struct {
	Repositories int   `json:"repositories"`
	Tags         int   `json:"tags"`
	Manifests    int   `json:"manifests"`
	Blobs        int   `json:"blobs"`
	BlobBytes    int64 `json:"blob_bytes"`
	Links        int   `json:"links"`
	Files        int   `json:"files"`
}
