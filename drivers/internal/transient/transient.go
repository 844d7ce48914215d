// Package transient tells the network failures worth another try apart
// from those that are not, for the object-store drivers' retry rules: a
// connection that broke after it was made (reset, closed before the
// answer, a body cut off part-way) is transient; an endpoint nobody
// listens on, a name that does not resolve or a cancelled context is not.
//
// The SDKs retry most transient failures themselves; the drivers ask
// Broken about those an SDK leaves alone (S3: a listing page cut off
// mid-body fails in deserialization) and Dial to keep their quick start-up
// checks from retrying an endpoint that cannot be reached.
package transient

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
)

// Broken reports whether err is (or wraps) a connection that failed after
// it was made: an unexpected EOF (a body or an answer cut off), io.EOF from
// the transport (closed before any answer), a reset, or a broken pipe.
// Cancellation and deadlines are never Broken.
func Broken(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, net.ErrClosed)
}

// Dial reports whether err is a failure to connect at all: refused,
// unreachable, or a name that does not resolve.
func Dial(err error) bool {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return true
	}
	var de *net.DNSError
	return errors.As(err, &de) || errors.Is(err, syscall.ECONNREFUSED)
}
