package s3

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"

	"github.com/regbackup/regbackup/drivers/internal/transient"
)

// fallbackRegion signs requests when neither the location nor the AWS
// configuration names a region; S3-compatible servers mostly expect it.
const fallbackRegion = "us-east-1"

// newClient builds the S3 client for c and returns it with the region it
// signs for; guessed reports that neither c nor the AWS configuration named
// one (fallbackRegion is used then).
//
// The HTTP client is the SDK's BuildableClient, so that AWS_CA_BUNDLE (which
// LoadDefaultConfig adds to the transport's roots) keeps working beside our
// own transport settings. Retries use the SDK's standard retryer with
// c.MaxAttempts attempts and no client-side retry quota: throttling
// (SlowDown, 503), 5xx answers and broken connections are retried with
// jittered exponential backoff up to 20 s apart, for as long as the attempts
// last, however many other requests failed at the same time. An answer
// whose body broke off before it was decoded (a listing page cut
// mid-body), which the SDK does not retry, is retried too (retryCutBody).
func newClient(ctx context.Context, c Config) (client *s3.Client, region string, guessed bool, err error) {
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		// Many blobs and several parts of each are in flight at once: keep
		// their connections.
		tr.MaxIdleConns = 256
		tr.MaxIdleConnsPerHost = 256
		if c.SkipVerify {
			if tr.TLSClientConfig == nil {
				tr.TLSClientConfig = &tls.Config{}
			}
			tr.TLSClientConfig.InsecureSkipVerify = true
		}
	})
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithHTTPClient(httpClient),
		awsconfig.WithLogger(logging.Nop{}),
		awsconfig.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = c.MaxAttempts
				o.MaxBackoff = 20 * time.Second
				o.RateLimiter = ratelimit.None
				o.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(retryCutBody)}, o.Retryables...)
				if c.backoff > 0 {
					o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return c.backoff, nil })
				}
			})
		}),
	}
	if c.Region != "" {
		opts = append(opts, awsconfig.WithRegion(c.Region))
	}
	if c.AccessKey != "" && c.SecretKey != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(c.AccessKey, c.SecretKey, c.SessionToken)))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, "", false, fmt.Errorf("loading the AWS configuration (AWS_* variables, ~/.aws/config): %w", err)
	}
	region = awsCfg.Region
	if region == "" {
		region, guessed = fallbackRegion, true
	}
	client = s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.Region = region
		o.UsePathStyle = c.PathStyle
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
		o.EndpointOptions.DisableHTTPS = c.DisableTLS
		// Checksums only where S3 requires them: the newer default
		// (aws-chunked bodies with trailing CRCs) is not understood by many
		// S3-compatible servers. Bodies are still signed with their SHA-256,
		// which the server checks.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.DisableLogOutputChecksumValidationSkipped = true
		o.Logger = logging.Nop{}
		o.ClientLogMode = 0
	})
	return client, region, guessed, nil
}

// retryCutBody makes the retryer try again when a connection broke, also
// after the answer began: a body cut off while the SDK decoded it ("...
// deserialization failed, failed to decode response body, unexpected
// EOF", or a bare "unexpected EOF" under a 200 answer), which the SDK's
// own rules do not retry. Other errors are left to those rules.
func retryCutBody(err error) aws.Ternary {
	if transient.Broken(err) {
		return aws.TrueTernary
	}
	return aws.UnknownTernary
}
