package restore

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// listingFields is Listing without its methods, for encoding/json.
type listingFields Listing

// imagesKey is where the images' array starts in the indented JSON of a
// Listing: its third member, at the first level (no JSON string holds a
// newline, so none of the members before can hold this).
var imagesKey = []byte("\n  \"images\": ")

// WriteJSON writes l as JSON to w, indented by two spaces, as a
// json.Encoder with SetIndent("", "  ") encodes it, byte for byte, but
// one image at a time: the listing of a million tags is never whole in
// memory.
func (l *Listing) WriteJSON(w io.Writer) error {
	rest := *l
	rest.Images = nil
	doc, err := json.MarshalIndent((*listingFields)(&rest), "", "  ")
	if err != nil {
		return err
	}
	at := bytes.Index(doc, imagesKey)
	if at < 0 {
		return fmt.Errorf("listing: no images member in %.100s", doc)
	}
	at += len(imagesKey)
	after, ok := bytes.CutPrefix(doc[at:], []byte("null"))
	if !ok {
		return fmt.Errorf("listing: images member is not null in %.100s", doc[at:])
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(doc[:at])
	if l.ImageCount() == 0 && (l.table != nil || l.Images == nil) {
		bw.WriteString("null")
	} else {
		bw.WriteString("[")
		n := 0
		err := l.EachImage(func(im Image) error {
			b, err := json.MarshalIndent(im, "    ", "  ")
			if err != nil {
				return err
			}
			if n > 0 {
				bw.WriteString(",")
			}
			n++
			bw.WriteString("\n    ")
			_, err = bw.Write(b)
			return err
		})
		if err != nil {
			return err
		}
		if n > 0 {
			bw.WriteString("\n  ")
		}
		bw.WriteString("]")
	}
	bw.Write(after)
	bw.WriteString("\n")
	return bw.Flush()
}

// MarshalJSON is the JSON of l that WriteJSON writes, for a Listing of
// ListScan, whose Images are nil, to encode as one of List.
func (l *Listing) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	if err := l.WriteJSON(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
