package swift

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/ncw/swift/v2"
)

// check authenticates and asks for the container, within CheckTimeout and
// with at most two attempts each, so that a location that cannot work fails
// now, in seconds, with an error that says what to fix, instead of in the
// middle of a backup. It then reads the cluster's max_file_size from /info
// (when Config.MaxObjectSize is not set; DefaultMaxObjectSize when /info
// does not answer).
func (d *Driver) check(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, d.cfg.CheckTimeout)
	defer cancel()
	fail := func(err error, msg string) error {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %s: %w", driverName, d.String(), ctx.Err())
		}
		return &opError{op: "open", path: d.String(), msg: d.redact(msg), err: err}
	}
	if d.conn.AuthUrl == "" && d.conn.StorageUrl == "" {
		return fail(errors.New("no auth URL"), "no auth URL: give one in the location (?auth=URL), the registry config (authurl) or OS_AUTH_URL")
	}
	attempts := func(fn func() error) error {
		err := fn()
		if err != nil && retryable(err) && cctx.Err() == nil {
			err = fn()
		}
		return err
	}
	if err := attempts(func() error { return d.conn.Authenticate(cctx) }); err != nil {
		return fail(err, d.explainAuth(err, cctx.Err() != nil))
	}
	d.secrets = secretsOf(d.conn) // with the token
	err := attempts(func() error {
		_, _, err := d.call(cctx, request{method: http.MethodHead})
		return err
	})
	if err != nil {
		return fail(err, d.explainContainer(err, cctx.Err() != nil))
	}
	if d.cfg.MaxObjectSize <= 0 {
		d.cfg.MaxObjectSize = DefaultMaxObjectSize
		if info, err := d.conn.QueryInfo(cctx); err == nil {
			if s, ok := info["swift"].(map[string]any); ok {
				if n, ok := s["max_file_size"].(float64); ok && n > 0 {
					d.cfg.MaxObjectSize = int64(n)
				}
			}
		}
	}
	return nil
}

// explainAuth says, in one line, why authentication failed and what to do.
func (d *Driver) explainAuth(err error, timedOut bool) string {
	c := d.conn
	who := fmt.Sprintf("user %q", c.UserName)
	if c.UserName == "" && c.UserId != "" {
		who = fmt.Sprintf("user id %q", c.UserId)
	}
	switch s := status(err); {
	case errors.Is(err, swift.AuthorizationFailed) || s == http.StatusUnauthorized:
		return fmt.Sprintf("authentication at %s failed for %s: check the username and password (OS_USERNAME, OS_PASSWORD) and the project and domain", c.AuthUrl, who)
	case errors.Is(err, swift.Forbidden) || s == http.StatusForbidden:
		return fmt.Sprintf("authentication at %s refused %s (HTTP 403): the user may not use this project", c.AuthUrl, who)
	case s == 500 && c.AuthVersion == 0 && d.cfg.AuthVersion == 0:
		return fmt.Sprintf("auth URL %s names no version: add ?auth-version=1, 2 or 3 (or authversion in the registry config)", c.AuthUrl)
	case s != 0:
		return fmt.Sprintf("authentication at %s for %s: %s", c.AuthUrl, who, describe(err))
	case isCertificateError(err):
		return fmt.Sprintf("the TLS certificate of %s is not trusted (%s): add skip-verify=true (insecureskipverify in the registry config)", c.AuthUrl, describe(err))
	case timedOut:
		return fmt.Sprintf("cannot reach %s: no answer within %s: check the auth URL, the network and that the server is up", c.AuthUrl, d.cfg.CheckTimeout)
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return fmt.Sprintf("cannot reach %s: %s: check the auth URL and that the server is up", c.AuthUrl, describe(err))
	}
	// The library's own complaints: no storage URL in the catalog for the
	// region or endpoint type, ...
	return fmt.Sprintf("authentication at %s for %s: %s (check the region and endpoint type)", c.AuthUrl, who, describe(err))
}

// explainContainer says why the container check failed.
func (d *Driver) explainContainer(err error, timedOut bool) string {
	ct := d.cfg.Container
	switch s := status(err); {
	case s == http.StatusNotFound:
		return fmt.Sprintf("container %q does not exist at %s: create it first (swift post %s), or check the container name and region", ct, d.conn.StorageUrl, ct)
	case s == http.StatusForbidden || s == http.StatusUnauthorized:
		return fmt.Sprintf("access denied to container %q at %s (HTTP %d): the user may not read it", ct, d.conn.StorageUrl, s)
	case s != 0:
		return fmt.Sprintf("container %q at %s: %s", ct, d.conn.StorageUrl, describe(err))
	case timedOut:
		return fmt.Sprintf("cannot reach %s: no answer within %s", d.conn.StorageUrl, d.cfg.CheckTimeout)
	}
	return fmt.Sprintf("container %q at %s: %s", ct, d.conn.StorageUrl, describe(err))
}

// isCertificateError reports whether the TLS handshake rejected the
// server's certificate.
func isCertificateError(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he)
}
