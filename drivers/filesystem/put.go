package filesystem

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync"
)

// copyBufSize is the chunk Put reads and writes; ctx is checked between
// chunks.
const copyBufSize = 1 << 20

var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// Put stores r at p, all or nothing (see drivers.Driver). It writes a temp
// file beside the destination and renames it over the destination
// (replacing a symlink there, never following it). Durability comes from
// Sync, once per batch: an fsync per file would make restoring thousands of
// small link files many times slower than tar.
// Folders it creates get mode 0755, the file 0644, and both the configured
// owner (see Options). On failure it removes the temp file and the folders
// it created. A short read wraps io.ErrUnexpectedEOF; a cancelled ctx gives
// an error wrapping ctx.Err().
func (d *Driver) Put(ctx context.Context, p string, r io.Reader, size int64) (err error) {
	if err := checkPath(p); err != nil {
		return invalidPath("put", p, err)
	}
	full := d.full(p)
	if err := ctx.Err(); err != nil {
		return wrapErr("put", full, err)
	}
	f, dirs, err := d.createTemp(p)
	if err != nil {
		d.removeDirs(dirs)
		return wrapErr("put", full, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close() // may already be closed; the error is moot
			_ = os.Remove(tmp)
			d.temps.done(tmp)
			d.removeDirs(dirs)
			err = wrapErr("put", full, err)
		}
	}()
	if err := d.fill(ctx, f, r, size); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Rename(tmp, full); err != nil {
		return err
	}
	d.temps.done(tmp)
	return nil
}

// createTemp makes the destination's missing folders and an exclusive temp
// file among them. It returns the folders it created, top first, even on
// error. A folder removed meanwhile by a concurrent Delete is made again.
func (d *Driver) createTemp(p string) (*os.File, []string, error) {
	var created []string
	dir, base := path.Split(p)
	for attempt := 0; ; attempt++ {
		made, err := d.mkdirs(path.Clean(dir))
		created = append(created, made...)
		if err != nil {
			return nil, created, err
		}
		name := filepath.Join(d.full(path.Clean(dir)), tempName(base))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o644)
		if err != nil {
			if attempt < 3 && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrExist)) {
				continue
			}
			return nil, created, err
		}
		if err := d.temps.add(name); err != nil {
			_ = f.Close()
			_ = os.Remove(name)
			return nil, created, err
		}
		return f, created, nil
	}
}

// fill sets the temp file's mode and owner, copies r into it in chunks,
// checking ctx between them and the byte count against size.
func (d *Driver) fill(ctx context.Context, f *os.File, r io.Reader, size int64) error {
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if d.owner != nil {
		if err := f.Chown(d.owner.uid, d.owner.gid); err != nil {
			return err
		}
	}
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, rerr := r.Read(buf)
		if m > 0 {
			if size >= 0 && n+int64(m) > size {
				return fmt.Errorf("reader gave more than the expected %d bytes", size)
			}
			if _, err := f.Write(buf[:m]); err != nil {
				return err
			}
			n += int64(m)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	if size >= 0 && n != size {
		return fmt.Errorf("reader gave %d bytes, expected %d: %w", n, size, io.ErrUnexpectedEOF)
	}
	return nil
}
