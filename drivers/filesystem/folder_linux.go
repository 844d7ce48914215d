//go:build linux

package filesystem

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"slices"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/regbackup/regbackup/drivers"
)

// folder is a folder open for a walk. On Linux the walk works with file
// descriptors: a subfolder or file is opened relative to its folder, so
// the kernel resolves one name, not the whole path from the root, and a
// folder's entries come from getdents64 with their types, so only files
// are stat'ed. This roughly halves the CPU time of walking a registry's
// repositories (one folder per link file).
type folder struct {
	fd int
	s  *subtree
}

// openFolder opens s relative to parent when not nil, else by its full
// path. A symlink is never followed, except in the path of the root (rel
// ""): the walk's own prefix was Lstat'ed as a folder by Walk.
func openFolder(parent *folder, s *subtree) (*folder, error) {
	flags := unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC
	if s.rel != "" {
		flags |= unix.O_NOFOLLOW
	}
	dirfd, name := unix.AT_FDCWD, s.full
	if parent != nil {
		dirfd, name = parent.fd, s.name
	}
	var fd int
	err := ignoringEINTR(func() (err error) {
		fd, err = unix.Openat(dirfd, name, flags, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &folder{fd: fd, s: s}, nil
}

func (f *folder) close() { unix.Close(f.fd) }

// direntBufs holds getdents64 buffers (the size os.ReadDir uses).
var direntBufs = sync.Pool{New: func() any { b := make([]byte, 8192); return &b }}

// dirent is a folder entry as getdents64 gives it.
type dirent struct {
	name string
	typ  uint8 // unix.DT_*
}

// names lists the folder's entries, "." and ".." left out.
func (f *folder) names() ([]dirent, error) {
	bp := direntBufs.Get().(*[]byte)
	defer direntBufs.Put(bp)
	buf := *bp
	var out []dirent
	const (
		offReclen = int(unsafe.Offsetof(unix.Dirent{}.Reclen))
		offType   = int(unsafe.Offsetof(unix.Dirent{}.Type))
		offName   = int(unsafe.Offsetof(unix.Dirent{}.Name))
	)
	for {
		var n int
		err := ignoringEINTR(func() (err error) {
			n, err = unix.Getdents(f.fd, buf)
			return err
		})
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			return out, nil
		}
		for b := buf[:n]; len(b) > offName; {
			reclen := int(binary.NativeEndian.Uint16(b[offReclen:]))
			if reclen <= offName || reclen > len(b) {
				return nil, unix.EIO // a malformed record: never from a sane kernel
			}
			ino := binary.NativeEndian.Uint64(b)
			typ := b[offType]
			name := b[offName:reclen]
			if i := slices.Index(name, 0); i >= 0 {
				name = name[:i]
			}
			b = b[reclen:]
			if ino == 0 || string(name) == "." || string(name) == ".." {
				continue
			}
			out = append(out, dirent{name: string(name), typ: typ})
		}
	}
}

// list lists the folder in walk order: its regular files (stat'ed, and
// read when at most limit bytes and limit >= 0) and its subfolders.
// Entries that vanish meanwhile are left out. Errors name the path.
func (f *folder) list(ctx context.Context, limit int64) ([]walkEntry, error) {
	ents, err := f.names()
	if err != nil {
		return nil, wrapErr("walk", f.s.full, err)
	}
	for i := range ents {
		if ents[i].typ == unix.DT_UNKNOWN { // some filesystems leave the type to a stat
			var st unix.Stat_t
			if err := f.statAt(ents[i].name, &st); err == nil {
				ents[i].typ = dtype(st.Mode)
			}
		}
	}
	slices.SortFunc(ents, func(a, b dirent) int {
		return walkCompare(a.name, a.typ == unix.DT_DIR, b.name, b.typ == unix.DT_DIR)
	})
	out := make([]walkEntry, 0, len(ents))
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return nil, wrapErr("walk", f.s.full, err)
		}
		switch {
		case e.typ == unix.DT_DIR:
			out = append(out, walkEntry{dir: f.s.child(e.name)})
		case e.typ == unix.DT_REG && !isTempName(e.name):
			we, ok, err := f.file(e.name, limit)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, we)
			}
		}
	}
	return out, nil
}

// file stats, and when limit >= 0 reads, the regular file name of the
// folder. ok is false when it is gone or no longer a regular file.
func (f *folder) file(name string, limit int64) (we walkEntry, ok bool, err error) {
	var st unix.Stat_t
	fail := func(err error) (walkEntry, bool, error) {
		if isNotFound(err) {
			return walkEntry{}, false, nil
		}
		return walkEntry{}, false, wrapErr("walk", filepath.Join(f.s.full, name), err)
	}
	info := func() drivers.FileInfo {
		sec, nsec := st.Mtim.Unix()
		return drivers.FileInfo{Path: joinRel(f.s.rel, name), Size: st.Size, ModTime: time.Unix(sec, nsec)}
	}
	if limit < 0 {
		if err := f.statAt(name, &st); err != nil {
			return fail(err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG {
			return walkEntry{}, false, nil
		}
		return walkEntry{file: info()}, true, nil
	}
	var fd int
	err = ignoringEINTR(func() (err error) {
		fd, err = unix.Openat(f.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		if isNotFound(err) {
			return walkEntry{}, false, nil
		}
		// Listed but not readable (permissions): report it unread, as
		// Walk would, and let the caller's Reader say what is wrong.
		we, ok, err := f.file(name, -1)
		return we, ok, err
	}
	defer unix.Close(fd)
	if err := ignoringEINTR(func() error { return unix.Fstat(fd, &st) }); err != nil {
		return fail(err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return walkEntry{}, false, nil
	}
	we = walkEntry{file: info()}
	if st.Size > limit {
		return we, true, nil
	}
	data := make([]byte, st.Size)
	got := 0
	for got < len(data) {
		var n int
		err := ignoringEINTR(func() (err error) {
			n, err = unix.Read(fd, data[got:])
			return err
		})
		if err != nil {
			return fail(err)
		}
		if n == 0 {
			break // truncated since the fstat
		}
		got += n
	}
	we.data = data[:got]
	return we, true, nil
}

// statAt lstats name in the folder.
func (f *folder) statAt(name string, st *unix.Stat_t) error {
	return ignoringEINTR(func() error { return unix.Fstatat(f.fd, name, st, unix.AT_SYMLINK_NOFOLLOW) })
}

// dtype maps a stat mode to a getdents64 type.
func dtype(mode uint32) uint8 {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return unix.DT_DIR
	case unix.S_IFREG:
		return unix.DT_REG
	}
	return unix.DT_UNKNOWN // anything else is skipped
}

// ignoringEINTR retries a system call interrupted by a signal, as the os
// package does.
func ignoringEINTR(call func() error) error {
	for {
		if err := call(); err != unix.EINTR {
			return err
		}
	}
}
