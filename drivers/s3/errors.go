package s3

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/regbackup/regbackup/drivers"
)

// opError is what every Driver method returns on failure: "s3: OP PATH:
// MSG", where MSG is a one-line description of the SDK error with secrets
// removed. It unwraps to the SDK error (and so to context.Canceled,
// ErrNotFound, ...).
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

// failIn is fail for a step of op ("part 3", "complete"): "s3: OP PATH: STEP: MSG".
func (d *Driver) failIn(op, path, step string, err error) error {
	return &opError{op: op, path: path, msg: step + ": " + d.redact(describe(err)), err: err}
}

// notFound is the error for a missing path.
func notFound(op, path string) error {
	return fmt.Errorf("%s: %s %s: %w", driverName, op, path, drivers.ErrNotFound)
}

// isNotFound reports whether err says the object (not the bucket) is missing.
func isNotFound(err error) bool {
	var nk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nk) || errors.As(err, &nf) {
		return true
	}
	code, status := apiCode(err)
	return status == http.StatusNotFound && code != "NoSuchBucket"
}

// apiCode returns the S3 error code ("NoSuchBucket", "SlowDown", ...) and
// HTTP status of err, or "" and 0 when the request got no answer.
func apiCode(err error) (string, int) {
	var code string
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return code, re.HTTPStatusCode()
	}
	return code, 0
}

// describe turns an SDK error into one line: the S3 error code and message
// with the HTTP status, or the network error, without the SDK's
// "operation error ..., https response error ..., RequestID ..." framing.
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
	var me *retry.MaxAttemptsError
	if errors.As(err, &me) {
		attempts = fmt.Sprintf(" (after %d attempts)", me.Attempt)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		_, status := apiCode(err)
		msg := ae.ErrorCode()
		if m := ae.ErrorMessage(); m != "" && m != msg {
			msg += ": " + m
		}
		if status != 0 {
			msg = fmt.Sprintf("%s (HTTP %d)", msg, status)
		}
		return oneLine(msg) + attempts
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oneLine(oe.Error()) + attempts
	}
	var ue *url.Error // the request URL holds no secret, but is noise here
	if errors.As(err, &ue) {
		return oneLine(ue.Err.Error()) + attempts
	}
	var ope *smithy.OperationError
	if errors.As(err, &ope) && ope.Err != nil {
		return oneLine(ope.Err.Error())
	}
	return oneLine(err.Error())
}

// oneLine keeps a message on one line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.Join(strings.Fields(s), " ")
}

// redact removes the credentials d knows of from s.
func (d *Driver) redact(s string) string {
	for _, secret := range d.secrets {
		s = strings.ReplaceAll(s, secret, "[REDACTED]")
	}
	return s
}
