package transient

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"syscall"
	"testing"
)

// TestBrokenAndDial: errors as the transport and decoders return them
// (wrapped the way the SDKs wrap them) are classified; cancellation is
// neither.
func TestBrokenAndDial(t *testing.T) {
	reset := &url.Error{Op: "Get", URL: "http://x", Err: &net.OpError{Op: "read", Net: "tcp",
		Err: os.NewSyscallError("read", syscall.ECONNRESET)}}
	refused := &url.Error{Op: "Get", URL: "http://x", Err: &net.OpError{Op: "dial", Net: "tcp",
		Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	for _, tc := range []struct {
		err          error
		broken, dial bool
	}{
		{fmt.Errorf("deserialization failed, failed to decode response body, %w", io.ErrUnexpectedEOF), true, false},
		{&url.Error{Op: "Put", URL: "http://x", Err: io.EOF}, true, false},
		{reset, true, false},
		{&net.OpError{Op: "write", Err: os.NewSyscallError("write", syscall.EPIPE)}, true, false},
		{refused, false, true},
		{&net.DNSError{Err: "no such host", Name: "nohost.invalid"}, false, true},
		{fmt.Errorf("read: %w", context.Canceled), false, false},
		{fmt.Errorf("x: %w", io.ErrUnexpectedEOF) /* with a deadline as well */, true, false},
		{context.DeadlineExceeded, false, false},
		{fmt.Errorf("HTTP 403"), false, false},
	} {
		if got := Broken(tc.err); got != tc.broken {
			t.Errorf("Broken(%v) = %v, want %v", tc.err, got, tc.broken)
		}
		if got := Dial(tc.err); got != tc.dial {
			t.Errorf("Dial(%v) = %v, want %v", tc.err, got, tc.dial)
		}
	}
	// A real refused connection and a real cut-off body.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.Write([]byte("half"))
	}))
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !Broken(err) {
		t.Errorf("Broken(cut body: %v) = false", err)
	}
	srv.Close()
	if _, err := http.Get(srv.URL); !Dial(err) || Broken(err) {
		t.Errorf("closed server: %v: Dial %v, Broken %v", err, Dial(err), Broken(err))
	}
}
