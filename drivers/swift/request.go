package swift

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"

	"github.com/ncw/swift/v2"
)

// request is one call to the object store, on the Driver's container.
type request struct {
	method  string
	object  string // object name; "" for the container itself
	query   url.Values
	headers swift.Headers
	body    io.Reader // nil, or replayable when the request may be retried
}

// call sends r once, authenticating first (and again on a 401, once) through
// the library. An answer outside 2xx is a *swift.Error carrying its status.
// For a GET the caller must close resp.Body; other answers come without one.
func (d *Driver) call(ctx context.Context, r request) (*http.Response, swift.Headers, error) {
	storageURL, err := d.conn.GetStorageUrl(ctx)
	if err != nil {
		return nil, nil, err
	}
	return d.conn.Call(ctx, storageURL, swift.RequestOpts{
		Container:  d.cfg.Container,
		ObjectName: r.object,
		Operation:  r.method,
		Parameters: r.query,
		Headers:    r.headers,
		Body:       r.body,
		NoResponse: r.method != http.MethodGet,
		// Called with the library's lock held, after a new token.
		OnReAuth: func() (string, error) { return d.conn.StorageUrl, nil },
	})
}

// retry runs fn until it succeeds, fails with an error that repeating
// cannot help, ctx ends, or Config.MaxAttempts attempts were made: Swift's
// 5xx, 408, 429 and 498 (rate limit) answers and broken connections are
// retried after a jittered exponential backoff (0.1 s doubling, at most
// 10 s apart). fn must be safe to repeat.
func (d *Driver) retry(ctx context.Context, fn func() error) error {
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || attempt >= d.cfg.MaxAttempts || !retryable(err) || ctx.Err() != nil {
			if err != nil && attempt > 1 {
				err = &attemptsError{err: err, attempts: attempt}
			}
			return err
		}
		pause := wait/2 + rand.N(wait/2+1)
		if d.cfg.backoff > 0 {
			pause = d.cfg.backoff
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 10*time.Second)
	}
}

// attemptsError says how often a failed request was tried.
type attemptsError struct {
	err      error
	attempts int
}

func (e *attemptsError) Error() string { return e.err.Error() }
func (e *attemptsError) Unwrap() error { return e.err }

// retryable reports whether err may go away when the request is repeated.
func retryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var se *swift.Error
	if errors.As(err, &se) {
		switch s := se.StatusCode; {
		case s == 0: // the library's own complaints (no storage URL, ...)
			return false
		case s == 408, s == 429, s == 498, s >= 500 && s != http.StatusNotImplemented:
			return true
		}
		return false
	}
	var ue *url.Error
	return errors.As(err, &ue) || errors.Is(err, io.ErrUnexpectedEOF)
}

// status is the HTTP status of a Swift answer in err, or 0.
func status(err error) int {
	var se *swift.Error
	if errors.As(err, &se) {
		return se.StatusCode
	}
	return 0
}
