package filesystem

import (
	"context"
	"sync"

	"github.com/regbackup/regbackup/drivers"
)

// How Walk spreads a walk over goroutines: reading a folder is a few
// system calls whose cost is mostly the kernel's, so a registry's tens of
// thousands of small folders (one per link file) list several times
// faster on several cores, or with a disk that serves several reads at
// once, than one after another.
const (
	// walkWorkers is how many folders are read at once.
	walkWorkers = 8
	// walkSplit is how many subtrees a walk is cut into, at least, when
	// the tree has that many folders: the top levels are read level by
	// level (each level's folders walkWorkers at a time) until one holds
	// walkSplit folders or none.
	walkSplit = 256
	// walkAhead is how many subtrees may be walked, and held in memory,
	// ahead of the one whose files fn is being given.
	walkAhead = 4 * walkWorkers
)

// subtree is a folder and, once walked, the files below it in walk order.
// done is closed when files and err are final.
type subtree struct {
	name, rel, full string // name: the last element of rel
	files           []walkEntry
	err             error
	done            chan struct{}
}

// walkParallel walks folder rel (found at full) like walkSerial, calling
// fn in the same order from the calling goroutine, but reads folders
// concurrently: it cuts the tree into subtrees (see walkSplit), then
// walkWorkers goroutines walk them in order, at most walkAhead ahead of
// fn. It returns once every goroutine it started has stopped. Errors are
// returned where walkSerial would have met them: after the files before
// them.
func walkParallel(ctx context.Context, top *subtree, limit int64, fn walkFunc) error {
	entries := []walkEntry{{dir: top}}
	for {
		n := 0
		for _, e := range entries {
			if e.dir != nil {
				n++
			}
		}
		if n == 0 || n >= walkSplit {
			break
		}
		var failed bool
		if entries, failed = splitLevel(ctx, entries, n, limit); failed {
			break
		}
	}
	return walkSubtrees(ctx, top.full, entries, limit, fn)
}

// splitLevel replaces each of the n folders in entries by its entries,
// reading the folders concurrently. A folder that cannot be read is kept,
// with its error, as the last entry (failed is true): the walk ends there.
func splitLevel(ctx context.Context, entries []walkEntry, n int, limit int64) (out []walkEntry, failed bool) {
	folders := make([]*subtree, 0, n)
	for _, e := range entries {
		if e.dir != nil {
			folders = append(folders, e.dir)
		}
	}
	lists := make([][]walkEntry, len(folders))
	errs := make([]error, len(folders))
	read := func(i int) {
		var f *folder
		if f, lists[i], errs[i] = readFolder(ctx, nil, folders[i], limit); f != nil {
			f.close()
		}
	}
	if len(folders) == 1 {
		read(0)
	} else {
		next := make(chan int)
		var wg sync.WaitGroup
		for range min(walkWorkers, len(folders)) {
			wg.Go(func() {
				for i := range next {
					read(i)
				}
			})
		}
		for i := range folders {
			next <- i
		}
		close(next)
		wg.Wait()
	}
	out = make([]walkEntry, 0, len(entries)+n)
	i := 0
	for _, e := range entries {
		if e.dir == nil {
			out = append(out, e)
			continue
		}
		if errs[i] != nil {
			e.dir.err = errs[i]
			return append(out, e), true
		}
		out = append(out, lists[i]...)
		i++
	}
	return out, false
}

// walkSubtrees calls fn for the files in entries (the walk of full), in order, walking the
// subtrees among them on walkWorkers goroutines. A subtree that already
// has an error (from splitLevel) is not walked: its error is returned
// when fn's turn comes to it.
func walkSubtrees(ctx context.Context, full string, entries []walkEntry, limit int64, fn walkFunc) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	var subtrees []*subtree
	for _, e := range entries {
		if e.dir != nil {
			e.dir.done = make(chan struct{})
			if e.dir.err != nil {
				close(e.dir.done)
			} else {
				subtrees = append(subtrees, e.dir)
			}
		}
	}
	work := make(chan *subtree)
	ahead := make(chan struct{}, walkAhead)
	wg.Go(func() {
		defer close(work)
		for _, s := range subtrees {
			select {
			case ahead <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case work <- s:
			case <-ctx.Done():
				return
			}
		}
	})
	for range min(walkWorkers, len(subtrees)) {
		wg.Go(func() {
			for s := range work {
				s.err = walkSerial(ctx, nil, s, limit, func(fi drivers.FileInfo, data []byte) error {
					s.files = append(s.files, walkEntry{file: fi, data: data})
					return nil
				})
				close(s.done)
			}
		})
	}
	give := func(e walkEntry, where string) error {
		if err := ctx.Err(); err != nil {
			return wrapErr("walk", where, err)
		}
		return fn(e.file, e.data)
	}
	for _, e := range entries {
		if e.dir == nil {
			if err := give(e, full); err != nil {
				return err
			}
			continue
		}
		s := e.dir
		select {
		case <-s.done:
		case <-ctx.Done():
			return wrapErr("walk", s.full, ctx.Err())
		}
		for _, f := range s.files {
			if err := give(f, s.full); err != nil {
				return err
			}
		}
		s.files = nil
		if s.err != nil {
			return s.err
		}
		<-ahead // s's place, taken when it was handed to a worker
	}
	return nil
}
