package gcs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"google.golang.org/api/googleapi"

	"github.com/regbackup/regbackup/drivers"
)

// lineError is an error whose message is one line of text, made from an
// error whose own message may span lines (HTTP bodies); errors.Is and
// errors.As still see the original through Unwrap.
type lineError struct {
	msg string
	err error
}

func (e *lineError) Error() string { return e.msg }
func (e *lineError) Unwrap() error { return e.err }

// wrap names the driver, the operation and the object, and makes err one
// line. Cancellation keeps its own short text.
func wrap(op, object string, err error) error {
	if ctxErr := contextError(err); ctxErr != nil {
		return fmt.Errorf("%s: %s %s: %w", driverName, op, object, ctxErr)
	}
	return &lineError{msg: fmt.Sprintf("%s: %s %s: %s", driverName, op, object, oneLine(err)), err: err}
}

// notFound wraps drivers.ErrNotFound for op on object.
func notFound(op, object string) error {
	return fmt.Errorf("%s: %s %s: %w", driverName, op, object, drivers.ErrNotFound)
}

// invalidPath reports a path rejected before any request.
func invalidPath(op, p string, err error) error {
	return fmt.Errorf("%s: %s %q: %w", driverName, op, p, err)
}

// contextError returns context.Canceled or DeadlineExceeded when err is
// (or wraps) one, else nil.
func contextError(err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return context.DeadlineExceeded
	}
	return nil
}

// maxMessage bounds the text taken from a server's answer.
const maxMessage = 300

// oneLine renders err on one line: an HTTP error as its status and the
// server's message, anything else with request URLs cut to scheme, host and
// path, line breaks and runs of spaces collapsed, cut to maxMessage
// characters.
func oneLine(err error) string {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		msg := ge.Message
		if msg == "" {
			msg = ge.Body
		}
		s := fmt.Sprintf("HTTP %d %s", ge.Code, http.StatusText(ge.Code))
		if msg = flatten(msg); msg != "" {
			s += ": " + msg
		}
		return s
	}
	s := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		s = strings.Replace(s, ue.Error(), fmt.Sprintf("%s %s: %v", ue.Op, redactURL(ue.URL), ue.Err), 1)
	}
	return flatten(s)
}

func flatten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxMessage {
		s = s[:maxMessage] + "..."
	}
	return s
}

// httpStatus is the HTTP status code of a server's error answer, or 0.
func httpStatus(err error) int {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return ge.Code
	}
	return 0
}

// credentialsHint explains a failure to set up credentials.
func credentialsHint(err error) error {
	if strings.Contains(err.Error(), "could not find default credentials") {
		return &lineError{err: err, msg: "no Google credentials found: set GOOGLE_APPLICATION_CREDENTIALS to a " +
			"service-account key file or run `gcloud auth application-default login` (for an emulator, add " +
			"?endpoint=http://HOST:PORT/storage/v1/ or set STORAGE_EMULATOR_HOST)"}
	}
	return &lineError{err: err, msg: "setting up the Google Cloud Storage client: " + oneLine(err)}
}
