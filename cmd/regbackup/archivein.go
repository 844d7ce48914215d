package main

import (
	"fmt"
	"io"
	"os"
)

// openArchive opens an archive argument: a file, or - for stdin.
func openArchive(name string) (io.ReadCloser, error) {
	if name == "-" {
		return io.NopCloser(os.Stdin), nil
	}
	f, err := os.Open(name)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("archive %s does not exist", name)
		}
		return nil, fmt.Errorf("opening archive: %w", err)
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s is a folder, not an archive", name)
	}
	return f, nil
}

func oneArchiveArg(args []string, cmd string) (string, error) {
	switch len(args) {
	case 0:
		return "", usagef("%s needs the archive to read (a file, or - for stdin)", cmd)
	case 1:
		return args[0], nil
	}
	return "", usagef("%s takes one archive, got %d arguments (flags go before the archive or use --flag=value)", cmd, len(args))
}
