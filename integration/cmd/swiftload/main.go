// Command swiftload uploads a registry storage tree (a filesystem
// registry's root folder, e.g. one mksample wrote) into an OpenStack Swift
// container in the layout Distribution 2.x's swift driver writes, for
// benchmarks of reading a registry off Swift:
//
//	swiftload -auth URL -container C [-prefix P] [-chunk-size 20MiB] [-concurrency 8] DIR
//
// Every file is an object named P/files/<path> ("reg/files/docker/registry/v2/...").
// Files named "data" (blobs and upload data, which the registry writes
// through its Writer) become Dynamic Large Objects as the registry makes
// them: segments of chunk-size below P/segments/<3 hex>/<hex>/%016d, then a
// 0-byte manifest whose X-Object-Manifest names them. Everything else (link
// files, upload state) is one plain object, as the registry's PutContent
// writes it. The credentials come from the environment (ST_USER and ST_KEY
// for v1 auth, OS_USERNAME and OS_PASSWORD for Keystone), as for regbackup.
// The container is created when missing. It is not the product's restore:
// regbackup writes plain objects up to the cluster's size limit.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/ncw/swift/v2"
	"golang.org/x/sync/errgroup"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "swiftload:", err)
		os.Exit(1)
	}
}

// loader uploads the files of one tree.
type loader struct {
	conn      *swift.Connection
	container string
	prefix    string // "reg" or ""
	chunk     int64
}

func run() error {
	var (
		l    loader
		auth = flag.String("auth", os.Getenv("ST_AUTH"), "auth `URL` (default: ST_AUTH)")
		conc = flag.Int("concurrency", 8, "files uploaded at once")
	)
	flag.StringVar(&l.container, "container", "", "the `container` (created when missing)")
	flag.StringVar(&l.prefix, "prefix", "", "the registry's `prefix` (its storage.swift.prefix)")
	flag.Int64Var(&l.chunk, "chunk-size", 20<<20, "segment size in `bytes` (the registry's chunksize; its default is 20 MiB)")
	flag.Parse()
	if flag.NArg() != 1 || l.container == "" || *auth == "" || l.chunk < 1 || *conc < 1 {
		fmt.Fprintln(os.Stderr, "usage: swiftload -auth URL -container C [-prefix P] [-chunk-size BYTES] [-concurrency N] DIR")
		os.Exit(2)
	}
	l.prefix = strings.Trim(l.prefix, "/")
	root := flag.Arg(0)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	l.conn = &swift.Connection{AuthUrl: *auth}
	if err := l.conn.ApplyEnvironment(); err != nil {
		return fmt.Errorf("reading the OpenStack environment: %w", err)
	}
	l.conn.AuthUrl = *auth
	if err := l.conn.ContainerCreate(ctx, l.container, nil); err != nil {
		return fmt.Errorf("creating container %s (check ST_USER/ST_KEY and -auth): %w", l.container, err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(*conc)
	var files int
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() || gctx.Err() != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		files++
		g.Go(func() error { return l.upload(gctx, path, filepath.ToSlash(rel)) })
		return nil
	})
	if werr := g.Wait(); err == nil {
		err = werr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "swiftload: %d files of %s in %s/%s\n", files, root, l.container, l.prefix)
	return nil
}

// object is the object name of the registry path rel.
func (l *loader) object(rel string) string {
	return strings.TrimLeft(l.prefix+"/files/"+rel, "/")
}

// upload stores the file at path as the registry path rel.
func (l *loader) upload(ctx context.Context, path, rel string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if filepath.Base(rel) != "data" {
		_, err = l.conn.ObjectPut(ctx, l.container, l.object(rel), f, false, "", "application/octet-stream", nil)
		return wrap(rel, err)
	}
	segs, err := l.segmentPrefix(rel)
	if err != nil {
		return err
	}
	buf := make([]byte, l.chunk)
	for n := 1; ; n++ {
		k, err := io.ReadFull(f, buf)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			if k == 0 && n > 1 {
				break
			}
		} else if err != nil {
			return wrap(rel, err)
		}
		name := fmt.Sprintf("%s/%016d", segs, n)
		if _, err := l.conn.ObjectPut(ctx, l.container, name, bytes.NewReader(buf[:k]), false, "", "application/octet-stream", nil); err != nil {
			return wrap(rel, err)
		}
		if k < len(buf) {
			break
		}
	}
	h := swift.Headers{"X-Object-Manifest": l.container + "/" + segs}
	_, err = l.conn.ObjectPut(ctx, l.container, l.object(rel), bytes.NewReader(nil), false, "", "application/octet-stream", h)
	return wrap(rel, err)
}

// segmentPrefix names a fresh segment folder as the registry's swift driver
// does: P/segments/ + hex(sha1.New().Sum(path + 32 random bytes)) split
// after 3 hex digits (Sum appends the SHA-1 of nothing to its argument).
func (l *loader) segmentPrefix(rel string) (string, error) {
	random := make([]byte, 32)
	if _, err := rand.Read(random); err != nil {
		return "", err
	}
	h := hex.EncodeToString(sha1.New().Sum(append([]byte("/"+rel), random...)))
	return strings.TrimLeft(l.prefix+"/segments/"+h[:3]+"/"+h[3:], "/"), nil
}

func wrap(rel string, err error) error {
	if err != nil {
		return fmt.Errorf("upload %s: %w", rel, err)
	}
	return nil
}
