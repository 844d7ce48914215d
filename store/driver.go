package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/regbackup/regbackup/drivers"
)

// DriverStore keeps archives as objects directly below the root of a
// driver (a bucket prefix, an Azure container folder). Writes stream
// through the driver's Put, which is all or nothing: an object appears
// complete on Commit or not at all (the S3 and Azure drivers upload in
// parts within a bounded memory budget and abort the upload on error).
type DriverStore struct {
	D    drivers.Driver
	Base string // the folder's URL as the user gave it, without the query; for messages
}

var _ ArchiveStore = (*DriverStore)(nil)

// String is the folder's URL.
func (s *DriverStore) String() string {
	if s.Base != "" {
		return s.Base
	}
	return s.D.String()
}

// Where is the object's URL.
func (s *DriverStore) Where(name string) string {
	return strings.TrimSuffix(s.String(), "/") + "/" + name
}

// notExist makes a driver's not-found error wrap os.ErrNotExist too.
func (s *DriverStore) notExist(err error) error {
	if errors.Is(err, drivers.ErrNotFound) {
		return fmt.Errorf("%w (%w)", os.ErrNotExist, err)
	}
	return err
}

// List walks the root and keeps the objects directly in it.
func (s *DriverStore) List(ctx context.Context) ([]ArchiveInfo, error) {
	var out []ArchiveInfo
	err := s.D.Walk(ctx, "", func(fi drivers.FileInfo) error {
		if !strings.Contains(fi.Path, "/") {
			out = append(out, ArchiveInfo{Name: fi.Path, Size: fi.Size, ModTime: fi.ModTime})
		}
		return nil
	})
	return out, err
}

// Stat reports on one object.
func (s *DriverStore) Stat(ctx context.Context, name string) (ArchiveInfo, error) {
	fi, err := s.D.Stat(ctx, name)
	if err != nil {
		return ArchiveInfo{}, s.notExist(err)
	}
	return ArchiveInfo{Name: name, Size: fi.Size, ModTime: fi.ModTime}, nil
}

// Open reads one object.
func (s *DriverStore) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	rc, err := s.D.Reader(ctx, name)
	return rc, s.notExist(err)
}

// Delete removes one object.
func (s *DriverStore) Delete(ctx context.Context, name string) error {
	return s.notExist(s.D.Delete(ctx, name))
}

// errAborted ends the Put of an aborted writer.
var errAborted = errors.New("archive write aborted")

// Create starts a Put of name fed through a pipe.
func (s *DriverStore) Create(ctx context.Context, name string) (ArchiveWriter, error) {
	if err := drivers.CheckPath(name); err != nil || strings.Contains(name, "/") {
		return nil, fmt.Errorf("archive name %q: not a plain object name", name)
	}
	ctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	w := &pipeWriter{pw: pw, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		w.err = s.D.Put(ctx, name, pr, -1)
		pr.CloseWithError(w.err) // unblocks a Write when Put gave up early
	}()
	return w, nil
}

// pipeWriter feeds a Put running in a goroutine.
type pipeWriter struct {
	pw     *io.PipeWriter
	cancel context.CancelFunc
	done   chan struct{}
	err    error // Put's outcome, valid after done
}

// Write hands p to the Put; once the Put has failed it returns the Put's
// error.
func (w *pipeWriter) Write(p []byte) (int, error) { return w.pw.Write(p) }

// Commit ends the stream and waits for the Put to finish.
func (w *pipeWriter) Commit() error {
	w.pw.Close()
	<-w.done
	w.cancel()
	return w.err
}

// Abort fails the stream, so that the Put stores nothing, and waits for it.
func (w *pipeWriter) Abort() error {
	w.pw.CloseWithError(errAborted)
	<-w.done
	w.cancel()
	return nil
}
