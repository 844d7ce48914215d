package swift

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/ncw/swift/v2"
)

// segmentDigits is the width of the registry's segment numbers ("%016d").
const segmentDigits = 16

// newSegmentPrefix returns a fresh segments folder for a large object at
// path p, named as the registry's swift driver names them:
// "<prefix>/segments/" + the first 3 hex digits + "/" + the rest of
// hex(sha1.New().Sum("/"+p + 32 random bytes)) (Sum appends the SHA-1 of
// nothing to its argument, so the name is the hex of the path, the random
// bytes and that SHA-1).
func (d *Driver) newSegmentPrefix(p string) (string, error) {
	random := make([]byte, 32)
	if _, err := rand.Read(random); err != nil {
		return "", err
	}
	h := hex.EncodeToString(sha1.New().Sum(append([]byte("/"+p), random...)))
	return d.segs + h[:3] + "/" + h[3:], nil
}

// segmentName is the name of segment n (from 1) below prefix.
func segmentName(prefix string, n int) string {
	return fmt.Sprintf("%s/%0*d", prefix, segmentDigits, n)
}

// manifestValue is the X-Object-Manifest header naming prefix.
func (d *Driver) manifestValue(prefix string) string { return d.cfg.Container + "/" + prefix }

// ownSegments returns the segment prefix a DLO's X-Object-Manifest names
// when the segments are in this container below this prefix's segments/
// (those Delete may remove); ok is false otherwise.
func (d *Driver) ownSegments(manifest string) (string, bool) {
	container, prefix, ok := strings.Cut(manifest, "/")
	if !ok || container != d.cfg.Container || !strings.HasPrefix(prefix, d.segs) || len(prefix) <= len(d.segs) {
		return "", false
	}
	return prefix, true
}

// listSegments lists the objects a DLO with this X-Object-Manifest joins:
// every object whose name starts with the manifest's prefix, in name order.
func (d *Driver) listSegments(ctx context.Context, manifest string) ([]swift.Object, error) {
	container, prefix, ok := strings.Cut(manifest, "/")
	if !ok || container == "" {
		return nil, fmt.Errorf("X-Object-Manifest %q names no container/prefix", manifest)
	}
	var all []swift.Object
	marker := ""
	for {
		var objs []swift.Object
		err := d.retry(ctx, func() error {
			var err error
			objs, err = d.conn.Objects(ctx, container, &swift.ObjectsOpts{Prefix: prefix, Marker: marker, Limit: listPage})
			return err
		})
		if err != nil {
			return nil, err
		}
		all = append(all, objs...)
		if len(objs) < listPage {
			return all, nil
		}
		marker = objs[len(objs)-1].Name
	}
}

// checkSegments says why the segments of a DLO whose manifest names prefix
// do not make a whole file, or "" when they do. The registry numbers its
// segments "/0000000000000001" on without gaps; when every segment is
// named so, a gap means a segment was lost. A DLO without any segment is
// one the registry itself cannot serve (its Stat and Reader wait for
// segments to appear, then fail). Segments named otherwise (DLOs written by
// other tools) are taken as Swift joins them.
func checkSegments(prefix string, segs []swift.Object) string {
	if len(segs) == 0 {
		return "it is a large object (X-Object-Manifest) without any segment"
	}
	for i, s := range segs {
		rest := strings.TrimPrefix(s.Name, prefix)
		if len(rest) != segmentDigits+1 || rest[0] != '/' {
			return ""
		}
		n, err := strconv.Atoi(rest[1:])
		if err != nil {
			return ""
		}
		if n != i+1 {
			last, _ := strconv.Atoi(segs[len(segs)-1].Name[len(prefix)+1:])
			return fmt.Sprintf("segment %d of its large object (X-Object-Manifest) is missing: %d segments left, numbered up to %d", i+1, len(segs), last)
		}
	}
	return ""
}

// dloETag is the ETag Swift gives a DLO made of segs: the MD5 of their
// ETags joined.
func dloETag(segs []swift.Object) string {
	h := md5.New()
	for _, s := range segs {
		h.Write([]byte(s.Hash))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// sumBytes is the total size of segs.
func sumBytes(segs []swift.Object) int64 {
	var n int64
	for _, s := range segs {
		n += s.Bytes
	}
	return n
}
