package archive

// stage is where an archive is in its fixed order of entries (see the
// package doc): the catalog, the database dump of a GitLab metadata
// database (only when the catalog describes one), the blobs, the link
// files, the included files, the trailer. A Writer and a Reader move
// through the stages in this order only: an entry of an earlier stage
// after one of a later stage is a caller's error for the Writer and
// corruption (ErrCorrupt) for the Reader.
type stage int

const (
	stageStart   stage = iota // nothing written yet (a Writer before WriteCatalog)
	stageCatalog              // the catalog is written or read; the database dump, if any, comes now
	stageBlobs                // blob entries
	stageLinks                // link files, in the order they were written
	stageFiles                // included files (--include-file)
	stageTrailer              // the trailer: the Writer is closed
)
