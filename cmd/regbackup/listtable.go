package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/regbackup/regbackup/restore"
)

// writeImageTable writes list's table of l's images, then of its
// repositories without tags, with their first three columns aligned as a
// tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) aligns them, byte for byte,
// without holding the table: the images are gone through twice, first
// for the columns' widths (a listing of a million tags made a tabwriter
// hold some 150 MB).
func writeImageTable(w io.Writer, l *restore.Listing) error {
	t := imageTable{width: [3]int{len("REPOSITORY"), len("TAG"), len("DIGEST")}}
	l.EachImage(func(im restore.Image) error {
		t.measure(im.Repository, im.Tag, im.Digest)
		return nil
	})
	for _, r := range l.Repositories {
		if r.Tags == 0 {
			t.measure(r.Name, "(no tags)", fmt.Sprintf("%d manifests", r.Manifests))
		}
	}
	if t.special {
		return writeImageTabwriter(w, l)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	t.row(bw, "REPOSITORY", "TAG", "DIGEST", "SIZE")
	l.EachImage(func(im restore.Image) error {
		t.row(bw, im.Repository, im.Tag, im.Digest, human(im.Size))
		return nil
	})
	for _, r := range l.Repositories {
		if r.Tags == 0 {
			t.row(bw, r.Name, "(no tags)", fmt.Sprintf("%d manifests", r.Manifests), "")
		}
	}
	return bw.Flush()
}

// imageTable is the widths of list's aligned columns.
type imageTable struct {
	width   [3]int // in runes, as tabwriter counts, without the padding
	special bool   // a cell holds what a tabwriter would read as a cell or line end, or its escape
}

// tabwriterSpecial are the bytes a tabwriter does not take as text.
const tabwriterSpecial = "\t\v\n\f\xff"

func (t *imageTable) measure(cells ...string) {
	for i, c := range cells {
		t.width[i] = max(t.width[i], utf8.RuneCountInString(c))
		if strings.ContainsAny(c, tabwriterSpecial) {
			t.special = true
		}
	}
}

// row writes one line: three cells padded to their column's width plus
// two spaces, then the last cell as it is.
func (t *imageTable) row(w *bufio.Writer, a, b, c, last string) {
	for i, cell := range [3]string{a, b, c} {
		w.WriteString(cell)
		for range t.width[i] + 2 - utf8.RuneCountInString(cell) {
			w.WriteByte(' ')
		}
	}
	w.WriteString(last)
	w.WriteByte('\n')
}

// writeImageTabwriter is writeImageTable through a tabwriter, which holds
// the whole table: for names that hold a tab or a line end, as they were
// always written.
func writeImageTabwriter(w io.Writer, l *restore.Listing) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REPOSITORY\tTAG\tDIGEST\tSIZE")
	l.EachImage(func(im restore.Image) error {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", im.Repository, im.Tag, im.Digest, human(im.Size))
		return nil
	})
	for _, r := range l.Repositories {
		if r.Tags == 0 {
			fmt.Fprintf(tw, "%s\t(no tags)\t%d manifests\t\n", r.Name, r.Manifests)
		}
	}
	return tw.Flush()
}
