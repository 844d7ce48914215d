package s3

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// newErr runs New with c and returns its error text, failing the test if
// New succeeded, took longer than within, or gave more than one line.
func newErr(t *testing.T, c Config, within time.Duration) string {
	t.Helper()
	start := time.Now()
	d, err := New(t.Context(), c)
	took := time.Since(start)
	if err == nil {
		t.Fatalf("New(%s) succeeded, want an error", d)
	}
	if took > within {
		t.Errorf("New took %s to fail, want under %s", took.Round(time.Millisecond), within)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error is not one line: %q", msg)
	}
	for _, secret := range []string{c.AccessKey, c.SecretKey} {
		if secret != "" && strings.Contains(msg, secret) {
			t.Errorf("error shows a credential: %q", msg)
		}
	}
	t.Logf("New: %s", msg)
	return msg
}

func TestNewFailsFastAndSaysWhy(t *testing.T) {
	f := startFakeS3(t)
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr
	}()
	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	answer := func(status int, code string) func(w http.ResponseWriter, r *http.Request) bool {
		return func(w http.ResponseWriter, r *http.Request) bool {
			io.Copy(io.Discard, r.Body)
			s3Error(w, status, code, "The request was refused; key id AKIDSECRETLOOKING1234 given")
			return true
		}
	}
	for _, tc := range []struct {
		name   string
		adjust func(*Config)
		hook   func(w http.ResponseWriter, r *http.Request) bool
		want   []string
	}{
		{name: "missing bucket", adjust: func(c *Config) { c.Bucket = "no-such-bucket" },
			want: []string{`bucket "no-such-bucket" does not exist at ` + f.server.URL + ": create it first"}},
		{name: "wrong key", hook: answer(403, "InvalidAccessKeyId"),
			want: []string{"access denied", "InvalidAccessKeyId", "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"}},
		{name: "wrong secret", hook: answer(403, "SignatureDoesNotMatch"),
			want: []string{"access denied", "SignatureDoesNotMatch", "AWS_SECRET_ACCESS_KEY"}},
		{name: "no permission", hook: answer(403, "AccessDenied"),
			want: []string{"access denied", "may not list it"}},
		{name: "wrong region", hook: answer(400, "AuthorizationHeaderMalformed"),
			want: []string{"is not in region us-east-1", "?region="}},
		{name: "closed port", adjust: func(c *Config) { c.Endpoint = closed },
			want: []string{"cannot reach " + closed, "connection refused", "check the endpoint URL"}},
		{name: "silent server", adjust: func(c *Config) {
			c.Endpoint = "http://" + silent.Addr().String()
			c.CheckTimeout = 500 * time.Millisecond
		},
			want: []string{"cannot reach http://" + silent.Addr().String() + ": no answer within 500ms"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := f.config(f.bucket(t), "reg")
			c.AccessKey, c.SecretKey = "AKIDSECRETLOOKING1234", "verysecretsecretkey/+abc"
			if tc.adjust != nil {
				tc.adjust(&c)
			}
			f.setHook(tc.hook)
			defer f.setHook(nil)
			msg := newErr(t, c, 3*time.Second)
			if !strings.HasPrefix(msg, "s3: open s3://") {
				t.Errorf("error %q should start with \"s3: open s3://BUCKET...\"", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
		})
	}
}

// TestNewWithoutCredentials: no keys anywhere gives a hint, not a hang.
func TestNewWithoutCredentials(t *testing.T) {
	f := startFakeS3(t)
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	c := f.config(f.bucket(t), "")
	c.AccessKey, c.SecretKey = "", ""
	msg := newErr(t, c, 5*time.Second)
	if !strings.Contains(msg, "no usable AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") {
		t.Errorf("error %q does not say how to give credentials", msg)
	}
}

// TestNewUsesEnvironmentCredentials: without static keys, the AWS
// environment variables sign the requests.
func TestNewUsesEnvironmentCredentials(t *testing.T) {
	f := startFakeS3(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "ENVKEYID")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "envsecret")
	t.Setenv("AWS_PROFILE", "")
	var auth string
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool { auth = r.Header.Get("Authorization"); return false })
	c := f.config(f.bucket(t), "")
	c.AccessKey, c.SecretKey = "", ""
	if _, err := New(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(auth, "Credential=ENVKEYID/") {
		t.Errorf("request signed with %q, want the AWS_ACCESS_KEY_ID", auth)
	}
}

// TestNewFindsTheBucketRegion: with no region given anywhere, a bucket in
// another region (S3 answers 301 with x-amz-bucket-region) is found there;
// with a region given, the mismatch is an error that says what to do.
func TestNewFindsTheBucketRegion(t *testing.T) {
	f := startFakeS3(t)
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent/config")
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.Header.Get("Authorization"), "/eu-west-1/s3/") {
			return false
		}
		w.Header().Set("X-Amz-Bucket-Region", "eu-west-1")
		s3Error(w, http.StatusMovedPermanently, "PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint.")
		return true
	})
	c := f.config(f.bucket(t), "reg")
	c.Region = ""
	d, err := New(t.Context(), c)
	if err != nil {
		t.Fatalf("New without a region: %v", err)
	}
	if !strings.HasSuffix(d.String(), "region=eu-west-1") {
		t.Errorf("String() = %q, want the bucket's region eu-west-1", d.String())
	}
	if err := d.Put(t.Context(), "x", strings.NewReader("x"), 1); err != nil {
		t.Errorf("Put in the bucket's region: %v", err)
	}
	c.Region = "us-east-1"
	if msg := newErr(t, c, 3*time.Second); !strings.Contains(msg, "is not in region us-east-1") {
		t.Errorf("error %q does not say the region is wrong", msg)
	}
}
