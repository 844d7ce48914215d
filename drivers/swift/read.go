package swift

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ncw/swift/v2"
)

// maxResumes is how often one Reader re-opens its object after the
// connection broke mid-stream.
const maxResumes = 5

// objectReader streams one object. When the body fails part-way and ctx is
// still live, it asks again for the rest with a Range request that must
// answer with the same ETag (If-Match for a plain object; compared for a
// DLO), so a dropped connection costs one request instead of the whole
// blob, and a replaced object is an error instead of a mix of two versions.
type objectReader struct {
	d      *Driver
	ctx    context.Context
	path   string
	body   io.ReadCloser
	off    int64 // bytes returned so far
	info   objectInfo
	resume int
	closed bool
}

// openReader sends the GET. For a DLO it lists the segments the manifest
// names and checks them (checkSegments) and that they are what the GET is
// serving (their total size and the DLO ETag): a DLO with a lost segment
// is handed out as a reader whose first Read fails with an error wrapping
// drivers.ErrDamaged, so that every caller reports that file as damaged
// content, as it would one that does not match its digest.
func (d *Driver) openReader(ctx context.Context, p string) (io.ReadCloser, error) {
	resp, info, err := d.get(ctx, p, 0, "")
	if err != nil {
		return nil, err
	}
	if info.manifest != "" {
		if err := d.checkDLO(ctx, p, info); err != nil {
			resp.Body.Close()
			if errors.Is(err, errDamage) {
				return failedReader{err}, nil
			}
			return nil, err
		}
	}
	return &objectReader{d: d, ctx: ctx, path: p, body: resp.Body, info: info}, nil
}

// errDamage marks checkDLO's verdicts that the object is damaged.
var errDamage = errors.New("damage")

// checkDLO checks the segments of the DLO at p against what its GET
// reported. A disagreement that is not damage (the segments changed
// between the GET and the listing) is asked about twice more before it is
// an error.
func (d *Driver) checkDLO(ctx context.Context, p string, info objectInfo) error {
	container, prefix, _ := strings.Cut(info.manifest, "/")
	for attempt := 1; ; attempt++ {
		segs, err := d.listSegments(ctx, info.manifest)
		if err != nil {
			if status(err) == http.StatusNotFound {
				return &damageError{path: p, why: fmt.Sprintf("the container %q its large object's segments are in does not exist", container)}
			}
			return d.failIn("read", p, "listing segments", err)
		}
		if why := checkSegments(prefix, segs); why != "" {
			return &damageError{path: p, why: why}
		}
		if sumBytes(segs) == info.size && (info.etag == "" || dloETag(segs) == info.etag) {
			return nil
		}
		if attempt == 3 {
			return fmt.Errorf("%s: read %s: its large object's segments (%d bytes) do not match what Swift serves (%d bytes, ETag %s): they changed while being read; run it again",
				driverName, p, sumBytes(segs), info.size, info.etag)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: read %s: %w", driverName, p, ctx.Err())
		case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
		}
	}
}

// damageError is a DLO that cannot be served whole; it wraps
// drivers.ErrDamaged (and errDamage).
type damageError struct{ path, why string }

func (e *damageError) Error() string   { return damaged(e.path, e.why).Error() }
func (e *damageError) Unwrap() []error { return []error{damaged(e.path, e.why), errDamage} }

// failedReader fails every Read with err.
type failedReader struct{ err error }

func (r failedReader) Read([]byte) (int, error) { return 0, r.err }
func (r failedReader) Close() error             { return nil }

// get sends a GET for the object at p from byte off (0: all of it), with
// If-Match etag when etag is set. The caller closes resp.Body.
func (d *Driver) get(ctx context.Context, p string, off int64, etag string) (*http.Response, objectInfo, error) {
	h := swift.Headers{}
	if off > 0 {
		h["Range"] = fmt.Sprintf("bytes=%d-", off)
	}
	if etag != "" {
		h["If-Match"] = etag
	}
	var resp *http.Response
	var headers swift.Headers
	err := d.retry(ctx, func() error {
		var err error
		resp, headers, err = d.call(ctx, request{method: http.MethodGet, object: d.object(p), headers: h})
		return err
	})
	if err != nil {
		if status(err) == http.StatusNotFound && ctx.Err() == nil {
			return nil, objectInfo{}, notFound("read", p)
		}
		return nil, objectInfo{}, d.fail("read", p, err)
	}
	return resp, parseInfo(headers), nil
}

func (r *objectReader) Read(b []byte) (int, error) {
	if r.closed {
		return 0, fmt.Errorf("%s: read %s: reader is closed", driverName, r.path)
	}
	for {
		n, err := r.body.Read(b)
		r.off += int64(n)
		switch {
		case err == nil:
			return n, nil
		case err == io.EOF && r.off >= r.info.size:
			return n, io.EOF
		case err == io.EOF:
			err = io.ErrUnexpectedEOF
		}
		if r.ctx.Err() != nil || r.resume >= maxResumes || r.info.etag == "" {
			return n, r.d.fail("read", r.path, err)
		}
		if rerr := r.reopen(); rerr != nil {
			return n, rerr
		}
		if n > 0 {
			return n, nil
		}
	}
}

// reopen replaces the broken body with one that starts at r.off.
func (r *objectReader) reopen() error {
	r.resume++
	r.body.Close()
	r.body = io.NopCloser(eofReader{})
	ifMatch := r.info.etag
	if r.info.manifest != "" {
		ifMatch = "" // compared below: a DLO's ETag is computed per request
	}
	resp, info, err := r.d.get(r.ctx, r.path, r.off, ifMatch)
	if err != nil {
		if status(err) == http.StatusPreconditionFailed {
			return fmt.Errorf("%s: read %s: the object was replaced while it was read (resuming at byte %d)", driverName, r.path, r.off)
		}
		return err
	}
	if info.etag != r.info.etag || info.manifest != r.info.manifest {
		resp.Body.Close()
		return fmt.Errorf("%s: read %s: the object changed while it was read (resuming at byte %d)", driverName, r.path, r.off)
	}
	r.body = resp.Body
	return nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

func (r *objectReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	return r.body.Close()
}
