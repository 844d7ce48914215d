// Package linkwriter writes a registry's link files in push order: layer
// links, then revisions, then tag index, then tag current links, one kind
// only once the one before is all written, so that a registry reading the
// target meanwhile never finds a tag whose manifest link is not there yet.
// Restore and copy both write their links through it, after their blobs.
//
// It is not for blobs, and does not decide which links to write: the
// caller gives the list (from an archive or a snapshot).
package linkwriter

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/blobio"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/parallel"
)

// Link is one link file to write: its storage path, its kind (which
// decides its level) and the digest it holds.
type Link struct {
	Name   string
	Kind   archive.Kind
	Digest string
}

// Write writes links into d in push order: layers, revisions, tag
// index, tag current. The files of one kind are written n at a time; a kind
// starts only once the one before it is all written, so that a registry
// reading the target meanwhile never finds a tag whose manifest link is not
// there yet. A link whose file already holds the same digest is not
// written (one small read), so that a re-run writes nothing. With dryRun
// nothing is written, but the links that would be are reported.
//
// known, when not nil, is what a listing of d's link files taken before
// says (see Known): a link it lacks is written without a read; one
// whose listed MD5 is that of the digest holds it, unread; one whose path
// names its digest (all but a tag's current link) and that holds as many
// bytes as the digest is taken as holding it, unread; and a link whose
// content it holds is compared with that.
//
// links is sorted by kind in place. done is called once per level, after
// it, from the caller's goroutine, with the level's links and whether each
// was (or would be) written; on an error, for the level that failed too.
func Write(ctx context.Context, d drivers.Driver, n int, links []Link, known *Known, dryRun bool,
	done func(level []Link, written []bool)) error {
	sort.SliceStable(links, func(i, j int) bool { return links[i].Kind < links[j].Kind })
	for start := 0; start < len(links); {
		end := start + 1
		for end < len(links) && links[end].Kind == links[start].Kind {
			end++
		}
		level := links[start:end]
		start = end
		written := make([]bool, len(level))
		err := parallel.ForEach(ctx, n, parallel.Indexes(len(level)), func(ctx context.Context, i int) error {
			l := level[i]
			if known.holds(ctx, d, l) {
				return nil
			}
			if !dryRun {
				if err := d.Put(ctx, l.Name, strings.NewReader(l.Digest), int64(len(l.Digest))); err != nil {
					return fmt.Errorf("writing link: %w", err)
				}
			}
			written[i] = true
			return nil
		})
		done(level, written)
		if err != nil {
			return err
		}
	}
	return nil
}

// Known is what a listing of the target's link files said, each one's
// size and MD5 (Files, by path), and the content of the tags' current links
// (whose path does not name their digest) that the MD5s did not vouch for,
// read after the listing (Content, by path).
type Known struct {
	Files   map[string]Listed
	Content map[string]string
}

// Listed is what a listing says of one file: its size, and its content's
// MD5 when the backend reports one (drivers.FileInfo.MD5, a proof only
// when it matches).
type Listed struct {
	Size int64
	MD5  string
}

// Holds reports whether the listing's MD5 proves that the file holds
// content. false proves nothing (see drivers.FileInfo.MD5).
func (f Listed) Holds(content string) bool {
	return f.MD5 != "" && f.MD5 == drivers.MD5Of([]byte(content))
}

// holds reports whether d's file l.Name already holds l.Digest, reading
// it unless k (nil: nothing known) tells (see Write).
func (k *Known) holds(ctx context.Context, d drivers.Driver, l Link) bool {
	if k != nil {
		if c, ok := k.Content[l.Name]; ok {
			return c == l.Digest
		}
		f, ok := k.Files[l.Name]
		switch {
		case !ok:
			return false
		case f.Holds(l.Digest):
			return true
		case l.Kind != archive.KindTagCurrentLink:
			return f.Size == int64(len(l.Digest))
		}
	}
	cur, err := blobio.ReadSmall(ctx, d, l.Name, 128)
	return err == nil && string(cur) == l.Digest
}
