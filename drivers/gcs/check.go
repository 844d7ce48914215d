package gcs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"

	"github.com/regbackup/regbackup/drivers/internal/transient"
)

// checkAttempts is how often check asks when the server answers 408, 429
// or 5xx, or the connection breaks (reset, closed, an answer cut off); it
// never retries an endpoint it cannot connect to.
const checkAttempts = 4

// check lists at most one object below the root: the bucket must exist and
// the credentials must allow listing (any role that can back up or restore
// can). It gives up after cfg.CheckTimeout.
func (d *Driver) check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.CheckTimeout)
	defer cancel()
	// A handle of its own: Retryer changes the retry settings it was
	// called on in place, and d.bucket must keep retrying.
	bucket := d.client.Bucket(d.cfg.Bucket).Retryer(storage.WithPolicy(storage.RetryNever))
	var err error
	for attempt := 1; ; attempt++ {
		it := bucket.Objects(ctx, &storage.Query{Prefix: d.prefix})
		it.PageInfo().MaxSize = 1
		_, err = it.Next()
		if err == nil || errors.Is(err, iterator.Done) {
			return nil
		}
		code := httpStatus(err)
		if attempt == checkAttempts || !(code == 408 || code == 429 || code >= 500 || transient.Broken(err)) {
			break
		}
		select {
		case <-ctx.Done():
			return d.checkError(ctx, err)
		case <-time.After(time.Duration(attempt) * time.Second):
		}
	}
	return d.checkError(ctx, err)
}

// checkError turns check's failure into one line naming the location and
// what to do.
func (d *Driver) checkError(ctx context.Context, err error) error {
	loc := d.String()
	var why string
	switch code := httpStatus(err); {
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("%s: %s: %w", driverName, loc, context.Canceled)
	case code == http.StatusNotFound:
		why = fmt.Sprintf("bucket %q does not exist (create it, or check the bucket name)", d.cfg.Bucket)
	case code == http.StatusUnauthorized:
		why = fmt.Sprintf("the server rejected the credentials (%s); %s", oneLine(err), credentialsAdvice)
	case code == http.StatusForbidden:
		why = fmt.Sprintf("access to bucket %q denied (%s); %s, and give that account a role that can list, read and write objects (e.g. roles/storage.objectAdmin)",
			d.cfg.Bucket, oneLine(err), credentialsAdvice)
	case code != 0:
		why = fmt.Sprintf("checking bucket %q: %s", d.cfg.Bucket, oneLine(err))
	case credentialsFailure(err):
		why = fmt.Sprintf("could not get an access token with the credentials given (%s); %s", oneLine(err), credentialsAdvice)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		why = fmt.Sprintf("no answer from %s within %s (check the endpoint, the network and any proxy)", d.endpoint(), d.cfg.CheckTimeout)
	case errors.As(err, new(*net.OpError)) || errors.As(err, new(*net.DNSError)):
		why = fmt.Sprintf("cannot reach %s: %s (check the endpoint and that the server is running)", d.endpoint(), oneLine(err))
	default:
		why = fmt.Sprintf("checking bucket %q: %s", d.cfg.Bucket, oneLine(err))
	}
	return &lineError{msg: fmt.Sprintf("%s: %s: %s", driverName, loc, why), err: err}
}

// credentialsFailure recognises the errors of the authentication layer
// (a key that cannot sign, a token endpoint refusing or unreachable), which
// come before any request reaches the storage endpoint.
func credentialsFailure(err error) bool {
	s := err.Error()
	for _, marker := range []string{"cannot fetch token", "private key", "credentials:", "oauth2:"} {
		if strings.Contains(s, marker) {
			return true
		}
	}
	return false
}

const credentialsAdvice = "check GOOGLE_APPLICATION_CREDENTIALS or the key file"

// endpoint is the JSON API endpoint requests go to, for messages.
func (d *Driver) endpoint() string {
	switch {
	case d.cfg.Endpoint != "":
		return redactURL(d.cfg.Endpoint)
	case os.Getenv("STORAGE_EMULATOR_HOST") != "":
		return "STORAGE_EMULATOR_HOST " + os.Getenv("STORAGE_EMULATOR_HOST")
	}
	return "https://storage.googleapis.com"
}
