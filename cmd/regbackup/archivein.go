package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/regbackup/regbackup/store"
)

// archiveURLHelp describes archive object URLs for --help: backup's -o and
// the archive argument of restore, verify and list.
const archiveURLHelp = `An archive may be an object instead of a file: s3://BUCKET/PREFIX/NAME, gs://BUCKET/PREFIX/NAME
or azure://CONTAINER/PREFIX/NAME, with the same ?region=, ?endpoint=, ?account= options and
the same credentials from the environment as a storage LOCATION (quote it in a shell). It is
streamed (multipart upload and download, memory bounded whatever its size); an upload that
fails or is interrupted leaves no object. Sidecars (NAME.meta.json) and the parents of an
incremental archive are objects beside it, under the same prefix. An S3 archive's parts grow
as it is written (8 MiB at first, up to half the upload memory): at the defaults it may reach
359 GiB; add &upload-memory=512MiB for more.`

// openArchive opens an archive argument: a file, an object URL (s3://,
// gs://, azure://), or - for stdin (ref.Store nil).
func openArchive(ctx context.Context, name string) (io.ReadCloser, store.ArchiveRef, error) {
	if name == "-" {
		return io.NopCloser(os.Stdin), store.ArchiveRef{}, nil
	}
	ref, err := store.OpenArchiveRef(ctx, name)
	if err != nil {
		return nil, ref, err
	}
	rc, err := ref.Open(ctx)
	if err != nil {
		if !store.IsObjectURL(name) {
			switch {
			case errors.Is(err, os.ErrNotExist):
				return nil, ref, fmt.Errorf("archive %s does not exist", name)
			case errors.Is(err, store.ErrFolder):
				return nil, ref, err
			}
			return nil, ref, fmt.Errorf("opening archive: %w", err)
		}
		if errors.Is(err, os.ErrNotExist) {
			return nil, ref, fmt.Errorf("archive %s does not exist", ref)
		}
		return nil, ref, err // the driver's line names the object
	}
	return rc, ref, nil
}

// archiveRefs opens the stores of archive arguments (--parent).
func archiveRefs(ctx context.Context, names []string) ([]store.ArchiveRef, error) {
	var out []store.ArchiveRef
	for _, n := range names {
		ref, err := store.OpenArchiveRef(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("--parent %s: %w", n, err)
		}
		out = append(out, ref)
	}
	return out, nil
}

func oneArchiveArg(args []string, cmd string) (string, error) {
	switch len(args) {
	case 0:
		return "", usagef("%s needs the archive to read (a file, an s3://, gs:// or azure:// URL, or - for stdin)", cmd)
	case 1:
		return args[0], nil
	}
	return "", usagef("%s takes one archive, got %d arguments (flags go before the archive or use --flag=value)", cmd, len(args))
}
