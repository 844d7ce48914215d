package s3

import (
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/drivers"
)

func TestParseLocation(t *testing.T) {
	for _, tc := range []struct {
		loc  string
		want Config
	}{
		{"s3://registry-bucket", Config{Bucket: "registry-bucket"}},
		{"s3://registry-bucket/prefix?region=eu-west-1", Config{Bucket: "registry-bucket", RootDirectory: "prefix", Region: "eu-west-1"}},
		{"s3://b/a/b/?region=us-east-1", Config{Bucket: "b", RootDirectory: "a/b", Region: "us-east-1"}},
		{"s3://bucket/reg?endpoint=http://127.0.0.1:7070&path-style=true&region=us-east-1",
			Config{Bucket: "bucket", RootDirectory: "reg", Endpoint: "http://127.0.0.1:7070", PathStyle: true, Region: "us-east-1"}},
		{"s3://b?sse=AES256&storage-class=standard_ia&acl=bucket-owner-full-control&part-size=8MiB&upload-memory=1GiB&skip-verify=1",
			Config{Bucket: "b", SSE: "AES256", StorageClass: "standard_ia", ObjectACL: "bucket-owner-full-control",
				PartSize: 8 << 20, UploadMemory: 1 << 30, SkipVerify: true}},
		{"s3://b?sse-kms-key-id=alias/reg", Config{Bucket: "b", SSE: SSEKMS, SSEKMSKeyID: "alias/reg"}},
		{"s3://b?part-size=5242880", Config{Bucket: "b", PartSize: 5 << 20}},
	} {
		u, err := url.Parse(tc.loc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseLocation(u)
		if err != nil {
			t.Errorf("ParseLocation(%q): %v", tc.loc, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseLocation(%q) =\n %+v\nwant\n %+v", tc.loc, got, tc.want)
		}
	}
}

// TestLocationErrors checks bad locations fail before any request, with an
// error that names the problem and never echoes a credential.
func TestLocationErrors(t *testing.T) {
	for _, tc := range []struct{ loc, want string }{
		{"s3://AKIAXXXXSECRET:wJalrSECRETKEY@bucket/reg", "credentials do not belong in the location"},
		{"s3://bucket/reg?access-key=AKIAXXXXSECRET", "credentials do not belong in the location"},
		{"s3://bucket/reg?secret_key=wJalrSECRETKEY", "credentials do not belong in the location"},
		{"s3://bucket?endpoint=http://AKIAXXXXSECRET:wJalrSECRETKEY@host:9000", "endpoint must not contain credentials"},
		{"s3:///reg", "want s3://BUCKET"},
		{"s3://bucket?regoin=eu-west-1", `unknown option "regoin"`},
		{"s3://bucket?path-style=yes", "path-style"},
		{"s3://bucket?part-size=1MiB", "part size"},
		{"s3://bucket?part-size=lots", "want a size"},
		{"s3://bucket?sse=rot13", `server-side encryption "rot13"`},
		{"s3://bucket?sse=AES256&sse-kms-key-id=k", "KMS key id needs"},
		{"s3://bucket?endpoint=ftp://host", "scheme must be http or https"},
		{"s3://bucket?region=a&region=b", "given 2 times"},
	} {
		_, err := drivers.Open(t.Context(), tc.loc)
		if err == nil {
			t.Errorf("Open(%q) succeeded", tc.loc)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.want) {
			t.Errorf("Open(%q) = %q, want it to say %q", tc.loc, msg, tc.want)
		}
		if strings.Contains(msg, "AKIAXXXXSECRET") || strings.Contains(msg, "wJalrSECRETKEY") || strings.Contains(msg, "\n") {
			t.Errorf("Open(%q) = %q: shows a credential or is not one line", tc.loc, msg)
		}
	}
}

// TestStringHasNoSecrets: String is what the archive catalog records.
func TestStringHasNoSecrets(t *testing.T) {
	f := startFakeS3(t)
	c := f.config(f.bucket(t), "/reg/")
	c.AccessKey, c.SecretKey, c.SessionToken = "AKIDSTATIC0000", "static-secret-0000", "session-token-0000"
	c.SSE, c.SSEKMSKeyID = SSEKMS, "arn:aws:kms:key"
	d, err := New(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	want := "s3://" + c.Bucket + "/reg?endpoint=" + f.server.URL + "&path-style=true&region=us-east-1"
	if got := d.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	// The location String gives opens the same place (credentials from the environment).
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDENV0000")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "env-secret-0000")
	d2, err := drivers.Open(t.Context(), d.String())
	if err != nil {
		t.Fatalf("Open(String()): %v", err)
	}
	if d2.String() != d.String() {
		t.Errorf("Open(String()).String() = %q, want %q", d2.String(), d.String())
	}
}
