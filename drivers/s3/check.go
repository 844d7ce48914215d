package s3

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/regbackup/regbackup/drivers/internal/transient"
)

// checkAttempts is how often checkBucket asks a server that answers with
// a transient error (503, 500, a broken connection). An endpoint it cannot
// connect to at all is asked once.
const checkAttempts = 4

// checkBucket lists one key below the root, with at most checkAttempts
// attempts and within CheckTimeout, so that a location that cannot work
// fails now, in seconds, with an error that says what to fix, instead of
// after minutes of retries in the middle of a backup; a refused or
// unresolvable endpoint is not retried.
func (d *Driver) checkBucket(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, d.cfg.CheckTimeout)
	defer cancel()
	list := func() error {
		_, err := d.client.ListObjectsV2(cctx, &s3.ListObjectsV2Input{
			Bucket: &d.cfg.Bucket, Prefix: aws.String(d.root), MaxKeys: aws.Int32(1),
		}, func(o *s3.Options) {
			o.Retryer = noDialRetry{retry.AddWithMaxAttempts(o.Retryer, checkAttempts)}
		})
		return err
	}
	err := list()
	if err != nil && d.regionGuessed {
		// No region was given and the bucket is elsewhere: S3 says where.
		if r := bucketRegion(err); r != "" && r != d.cfg.Region {
			c := d.cfg
			c.Region = r
			client, _, _, cerr := newClient(ctx, c)
			if cerr == nil {
				d.client, d.cfg.Region = client, r
				err = list()
			}
		}
	}
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", d.String(), ctx.Err())
	}
	return &opError{op: "open", path: d.String(), msg: d.redact(d.explainCheck(err, cctx.Err() != nil)), err: err}
}

// endpointName is where requests go, for messages.
func (d *Driver) endpointName() string {
	if d.cfg.Endpoint != "" {
		return d.cfg.Endpoint
	}
	return "Amazon S3 (region " + d.cfg.Region + ")"
}

// explainCheck says, in one line, why the bucket check failed and what to do.
func (d *Driver) explainCheck(err error, timedOut bool) string {
	b, ep := d.cfg.Bucket, d.endpointName()
	code, status := apiCode(err)
	credHint := "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE / the instance role) and the bucket policy"
	switch {
	case code == "NoSuchBucket" || (status == 404 && code == ""):
		return fmt.Sprintf("bucket %q does not exist at %s: create it first, or check the bucket name and endpoint", b, ep)
	case isCredentialsCode(code):
		return fmt.Sprintf("access denied to bucket %q at %s (%s): the credentials are wrong or expired: %s", b, ep, code, credHint)
	case code == "AccessDenied" || status == 403:
		return fmt.Sprintf("access denied to bucket %q at %s (%s): the credentials may not list it: %s", b, ep, describe(err), credHint)
	case code == "PermanentRedirect" || code == "AuthorizationHeaderMalformed" || code == "IllegalLocationConstraintException" || status == 301:
		return fmt.Sprintf("bucket %q is not in region %s at %s (%s): give its region with ?region=... (or AWS_REGION)", b, d.cfg.Region, ep, describe(err))
	case isCredentialsError(err):
		return "no usable AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run with an instance or pod role (" + describe(err) + ")"
	case status != 0:
		return fmt.Sprintf("bucket %q at %s: %s", b, ep, describe(err))
	case isCertificateError(err):
		return fmt.Sprintf("the TLS certificate of %s is not trusted (%s): set AWS_CA_BUNDLE to the CA that signed it, or add skip-verify=true", ep, describe(err))
	case timedOut:
		return fmt.Sprintf("cannot reach %s: no answer within %s: check the endpoint URL, the network and that the server is up", ep, d.cfg.CheckTimeout)
	}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	if errors.As(err, &dnsErr) || errors.As(err, &opErr) {
		return fmt.Sprintf("cannot reach %s: %s: check the endpoint URL and that the server is up", ep, describe(err))
	}
	return fmt.Sprintf("bucket %q at %s: %s", b, ep, describe(err))
}

// isCredentialsError reports whether the SDK found no credentials to sign with.
func isCredentialsError(err error) bool {
	s := err.Error()
	return strings.Contains(s, "failed to retrieve credentials") || strings.Contains(s, "failed to refresh cached credentials") ||
		strings.Contains(s, "no EC2 IMDS role found") || strings.Contains(s, "get credentials")
}

// isCredentialsCode reports whether an S3 error code says the key, secret
// or token is wrong or expired. versitygw answers an unknown key with
// XAdminUserNotFound.
func isCredentialsCode(code string) bool {
	switch code {
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "TokenRefreshRequired",
		"InvalidClientTokenId", "XAdminUserNotFound", "InvalidSecurity":
		return true
	}
	return false
}

// bucketRegion is the region S3 names in the x-amz-bucket-region header of
// an answer that redirects to the bucket's region, or "".
func bucketRegion(err error) string {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.Header.Get("X-Amz-Bucket-Region")
	}
	return ""
}

// isCertificateError reports whether the TLS handshake rejected the
// server's certificate.
func isCertificateError(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci)
}

// noDialRetry is a retryer that does not retry a failure to connect, nor a
// certificate the TLS handshake rejected: neither changes on another try.
type noDialRetry struct{ aws.Retryer }

func (r noDialRetry) IsErrorRetryable(err error) bool {
	return !transient.Dial(err) && !isCertificateError(err) && r.Retryer.IsErrorRetryable(err)
}
