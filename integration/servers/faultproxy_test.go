package servers

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestFaultProxy: through the proxy at Rate 0 every answer arrives whole
// and every request is counted by method and class; at Rate 0.5 the same
// seed faults the same requests twice, a cut body stops at half with an
// unexpected EOF, and the counts add up.
func TestFaultProxy(t *testing.T) {
	body := strings.Repeat("x", 1000)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.Method == http.MethodGet {
			io.WriteString(w, body)
		}
	}))
	defer backend.Close()

	get := func(p *FaultProxy, path string) (int, int, error) {
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Get(p.URL + path)
		if err != nil {
			return 0, 0, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, len(b), err
	}

	plain := StartFaultProxy(t, backend.URL, FaultOptions{})
	for i := 0; i < 3; i++ {
		if code, n, err := get(plain, "/b/docker/registry/v2/repositories/r/_manifests/tags/v1/current/link"); code != 200 || n != len(body) || err != nil {
			t.Fatalf("plain proxy: %d, %d bytes, %v", code, n, err)
		}
	}
	get(plain, "/b?list-type=2&prefix=x")
	if n := plain.Count("GET", IsTagLink); n != 3 {
		t.Errorf("Count(GET, IsTagLink) = %d, want 3", n)
	}
	if c := plain.Counts(); c["GET tag-link"] != 3 || c["GET list"] != 1 {
		t.Errorf("Counts() = %v", c)
	}
	if plain.Faulted() != 0 {
		t.Errorf("Rate 0 faulted %d requests", plain.Faulted())
	}

	run := func() []string {
		p := StartFaultProxy(t, backend.URL, FaultOptions{Rate: 0.5, Seed: 7})
		var got []string
		for i := 0; i < 40; i++ {
			code, n, err := get(p, fmt.Sprintf("/b/key%d", i%5))
			switch {
			case err != nil && errors.Is(err, io.ErrUnexpectedEOF):
				if n != len(body)/2 {
					t.Errorf("cut body: %d bytes, want %d", n, len(body)/2)
				}
				got = append(got, "cut")
			case err != nil:
				got = append(got, "err")
			default:
				got = append(got, fmt.Sprint(code))
			}
		}
		f := p.Faults()
		if f[Fault503]+f[Fault500]+f[FaultClose]+f[FaultCut] != p.Faulted() || p.Faulted() == 0 || p.Faulted() == 40 {
			t.Errorf("faults %v of 40 requests", f)
		}
		t.Logf("%s", p.Summary())
		return got
	}
	a, b := run(), run()
	if strings.Join(a, " ") != strings.Join(b, " ") {
		t.Errorf("the same seed faulted differently:\n%v\n%v", a, b)
	}
}
