package servers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// The root credentials every versitygw started here gets. They are given to
// the server process only (never set in the test's own environment).
const (
	VersityAccessKey = "regbackupkey"
	VersitySecretKey = "regbackup-test-secret-123"
	VersityRegion    = "us-east-1"
)

// S3Server is a running versitygw with its posix backend: every folder
// under Dir is a bucket, every file below it an object.
type S3Server struct {
	Endpoint  string // http://127.0.0.1:PORT
	AccessKey string
	SecretKey string
	Region    string
	Dir       string // the posix root: Dir/<bucket>/<key>
	Port      int
	Process   *Process
	client    *s3.Client
}

// StartVersityGW starts versitygw (.tools/bin/versitygw) on a free loopback
// port with a posix backend in a temp dir, and stops it at the end of t.
// Startup takes well under a second; tests may share one and use a bucket
// each (Bucket). extra are more versitygw options (e.g. "--virtual-domain",
// DOMAIN for virtual-hosted addressing, which it serves beside path style;
// "--region", R for another region than VersityRegion).
func StartVersityGW(t testing.TB, extra ...string) *S3Server {
	t.Helper()
	bin := Tool(t, "versitygw")
	dir := filepath.Join(t.TempDir(), "vgw")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	region := VersityRegion
	for i, a := range extra {
		if a == "--region" && i+1 < len(extra) {
			region = extra[i+1]
			extra = append(extra[:i:i], extra[i+2:]...)
			break
		}
	}
	env := []string{"ROOT_ACCESS_KEY_ID=" + VersityAccessKey, "ROOT_SECRET_ACCESS_KEY=" + VersitySecretKey}
	port, p := StartOnFreePort(t, "versitygw", func(port int) *Process {
		args := append([]string{"--port", "127.0.0.1:" + strconv.Itoa(port), "--region", region, "--quiet"}, extra...)
		return Start(t, env, bin, append(args, "posix", dir)...)
	}, func(port int, p *Process) bool { return Listening(port, 20*time.Second, p.Exited) })
	s := &S3Server{
		Endpoint:  "http://127.0.0.1:" + strconv.Itoa(port),
		AccessKey: VersityAccessKey,
		SecretKey: VersitySecretKey,
		Region:    region,
		Dir:       dir,
		Port:      port,
		Process:   p,
	}
	s.client = s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		// Plain signed bodies: what regbackup's driver sends too.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	return s
}

var bucketSeq atomic.Int64

// NewBucket creates a fresh, empty bucket and returns its name.
func (s *S3Server) NewBucket(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("b%d-%d", time.Now().UnixNano()%1e9, bucketSeq.Add(1))
	s.Bucket(t, name)
	return name
}

// Bucket creates the named bucket through the S3 API; one that exists
// already is fine.
func (s *S3Server) Bucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	var owned *types.BucketAlreadyOwnedByYou
	var exists *types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		t.Fatalf("versitygw: create bucket %s: %v", name, err)
	}
}

// Client is an S3 client with the root credentials, for tests that check
// or plant objects directly.
func (s *S3Server) Client() *s3.Client { return s.client }

// Location is the regbackup location of bucket/root on this server.
func (s *S3Server) Location(bucket, root string) string {
	loc := "s3://" + bucket
	if root != "" {
		loc += "/" + root
	}
	return loc + "?endpoint=" + s.Endpoint + "&path-style=true&region=" + s.Region
}

// Env is the environment a regbackup process needs to reach this server
// ("K=V"): the credentials, and no profile that could override them.
func (s *S3Server) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + s.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s.SecretKey,
		"AWS_SESSION_TOKEN=", "AWS_PROFILE="}
}

// Keys lists every key in bucket (folder keys included), sorted.
func (s *S3Server) Keys(t testing.TB, bucket string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var keys []string
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatalf("versitygw: list %s: %v", bucket, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// Uploads lists the multipart uploads in progress in bucket ("key" each).
func (s *S3Server) Uploads(t testing.TB, bucket string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := s.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("versitygw: list uploads in %s: %v", bucket, err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}
