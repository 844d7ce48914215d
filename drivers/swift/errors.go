package swift

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/ncw/swift/v2"

	"github.com/regbackup/regbackup/drivers"
)

// opError is what every Driver method returns on failure: "swift: OP PATH:
// MSG", where MSG is a one-line description of the error with secrets
// removed. It unwraps to the cause (and so to context.Canceled,
// drivers.ErrNotFound, ...).
type opError struct {
	op, path, msg string
	err           error
}

func (e *opError) Error() string { return driverName + ": " + e.op + " " + e.path + ": " + e.msg }
func (e *opError) Unwrap() error { return e.err }

// fail wraps err, from op on path, for the caller.
func (d *Driver) fail(op, path string, err error) error {
	return &opError{op: op, path: path, msg: d.redact(describe(err)), err: err}
}

// failIn is fail for a step of op ("segment 3", "manifest"): "swift: OP PATH: STEP: MSG".
func (d *Driver) failIn(op, path, step string, err error) error {
	return &opError{op: op, path: path, msg: step + ": " + d.redact(describe(err)), err: err}
}

// notFound is the error for a missing path.
func notFound(op, path string) error {
	return fmt.Errorf("%s: %s %s: %w", driverName, op, path, drivers.ErrNotFound)
}

// damaged is the error for a large object that cannot be served whole.
func damaged(path, why string) error {
	return fmt.Errorf("%s: read %s: %w: %s", driverName, path, drivers.ErrDamaged, why)
}

// describe turns an error into one line: the HTTP status and Swift's
// message, or the network error, without the URL (which names the account).
func describe(err error) string {
	if err == nil {
		return ""
	}
	switch {
	case errors.Is(err, context.Canceled):
		return context.Canceled.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return context.DeadlineExceeded.Error()
	}
	var attempts string
	var ae *attemptsError
	if errors.As(err, &ae) {
		attempts = fmt.Sprintf(" (after %d attempts)", ae.attempts)
	}
	var se *swift.Error
	if errors.As(err, &se) {
		msg := se.Text
		if se.StatusCode != 0 && !strings.Contains(msg, fmt.Sprint(se.StatusCode)) {
			msg = fmt.Sprintf("%s (HTTP %d)", msg, se.StatusCode)
		}
		// The library appends Swift's answer body after the sentinel.
		if s := err.Error(); strings.HasPrefix(s, se.Text+": ") {
			msg += ": " + strings.TrimPrefix(s, se.Text+": ")
		}
		return oneLine(msg) + attempts
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oneLine(oe.Error()) + attempts
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return oneLine(ue.Err.Error()) + attempts
	}
	return oneLine(err.Error()) + attempts
}

// oneLine keeps a message on one line and short.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// redact removes the credentials d knows of from s.
func (d *Driver) redact(s string) string {
	for _, secret := range d.secrets {
		s = strings.ReplaceAll(s, secret, "[REDACTED]")
	}
	return s
}

// isNotFound reports an error wrapping drivers.ErrNotFound.
func isNotFound(err error) bool { return errors.Is(err, drivers.ErrNotFound) }
