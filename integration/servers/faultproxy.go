package servers

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// FaultProxy is an HTTP proxy in the test's own process, on a free loopback
// port, in front of one storage server (versitygw, Azurite,
// fake-gcs-server). Point regbackup at URL instead of the server: it
// forwards every request unchanged (the Host header too, so SigV4
// signatures still match) and, for a share of them, misbehaves the way
// real object stores do:
//
//	Fault503   answers 503 without forwarding (S3: SlowDown, Azure: ServerBusy)
//	Fault500   answers 500 without forwarding (InternalError)
//	FaultClose closes the connection before answering, without forwarding
//	FaultCut   forwards, then sends the status, the headers (with the full
//	           Content-Length) and the first half of the body, and closes the
//	           connection: a cut-off download or listing page
//
// FaultCut is only chosen for GET requests; an answer with less than 2
// bytes of body is closed instead (counted as FaultClose).
//
// Whether the n-th request with a given method, path and query is faulted,
// and how, is a hash of (Seed, method, path, query, n): the same seed
// faults the same requests whatever order concurrent requests arrive in,
// and a retry (n+1) is decided afresh.
//
// With Rate 0 it is a plain counting proxy. Its API, for tests that count
// what regbackup asks a store for:
//
//	p := servers.StartFaultProxy(t, gw.Endpoint, servers.FaultOptions{})  // Rate 0: counts only
//	loc := "s3://bucket/reg?endpoint=" + p.URL + "&path-style=true&region=us-east-1"
//	... run regbackup against loc ...
//	p.Count("GET", servers.IsTagLink)             // GETs of any tag's current/link
//	p.Count("GET", func(path string) bool { ... }) // any path test
//	p.Counts()                                     // "GET tag-link" -> n, by PathClass
//	p.Requests()                                   // every request, in arrival order
//	p.Reset()                                      // forget what was counted so far
//	p.SetRate(0.16)                                // turn faults on (or off) mid-test
//	p.Configure(servers.FaultOptions{...})         // or change every option
//
// Paths are the decoded URL paths as the server sees them: S3 path style
// "/bucket/key", Azure "/account/container/blob", GCS
// "/storage/v1/b/bucket/o/name", "/bucket/name" (XML API reads) or
// "/upload/storage/v1/b/bucket/o". The proxy logs its fault counts
// (Summary) in the test's log when the test ends, and stops then.
type FaultProxy struct {
	// URL is the proxy's base URL, "http://127.0.0.1:PORT".
	URL string
	// Host is "127.0.0.1:PORT".
	Host string

	target *url.URL
	opts   FaultOptions
	tr     *http.Transport
	srv    *http.Server

	mu       sync.Mutex
	rate     float64
	seen     map[string]uint64 // decision key -> requests seen with it
	requests []ProxiedRequest
	faults   map[FaultKind]int
}

// FaultKind is what the proxy did to one request ("" for nothing).
type FaultKind string

// The faults a FaultProxy injects.
const (
	FaultNone  FaultKind = ""
	Fault503   FaultKind = "503"
	Fault500   FaultKind = "500"
	FaultClose FaultKind = "close"
	FaultCut   FaultKind = "cut"
)

// AllFaults are the kinds FaultOptions.Kinds defaults to.
var AllFaults = []FaultKind{Fault503, Fault500, FaultClose, FaultCut}

// Dialect selects the error bodies of Fault503 and Fault500.
type Dialect int

// The dialects: what the SDK of each store parses.
const (
	DialectS3 Dialect = iota
	DialectAzure
	DialectGCS
)

// FaultOptions configure StartFaultProxy. The zero value counts requests
// and faults none.
type FaultOptions struct {
	// Rate is the share of requests faulted, from 0 (none) to 1.
	Rate float64
	// Seed picks which requests are faulted.
	Seed uint64
	// Kinds are the faults chosen from, with equal chances (default
	// AllFaults).
	Kinds []FaultKind
	// Dialect is the store's error format (default DialectS3).
	Dialect Dialect
	// Only, when set, limits the faults to the requests it accepts
	// (method, decoded path, raw query).
	Only func(method, path, rawQuery string) bool
	// OnlyFirst limits the faults to the first request with a given
	// method, path and query: every retry of it goes through. With Rate 1
	// every request Only accepts fails exactly once.
	OnlyFirst bool
}

// ProxiedRequest is one request the proxy received.
type ProxiedRequest struct {
	Method string
	Path   string // decoded URL path
	Query  string // raw query
	Fault  FaultKind
	Status int // the status forwarded or sent; 0 when the connection was closed first
	Start  time.Time
	Took   time.Duration // until the answer was sent (or the connection closed)
}

// StartFaultProxy starts a proxy to target (a base URL such as
// "http://127.0.0.1:7070"; its path is ignored) and stops it, logging
// Summary, when t ends.
func StartFaultProxy(t testing.TB, target string, opts FaultOptions) *FaultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		t.Fatalf("fault proxy: bad target %q: %v", target, err)
	}
	if len(opts.Kinds) == 0 {
		opts.Kinds = AllFaults
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("fault proxy: listen: %v", err)
	}
	p := &FaultProxy{
		URL:    "http://" + l.Addr().String(),
		Host:   l.Addr().String(),
		target: &url.URL{Scheme: u.Scheme, Host: u.Host},
		opts:   opts,
		rate:   opts.Rate,
		seen:   map[string]uint64{},
		faults: map[FaultKind]int{},
		tr: &http.Transport{
			Proxy:               nil,
			DisableCompression:  true, // pass Accept-Encoding and bodies through untouched
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     30 * time.Second,
		},
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 30 * time.Second}
	go p.srv.Serve(l)
	t.Cleanup(func() {
		p.srv.Close()
		p.tr.CloseIdleConnections()
		t.Logf("fault proxy for %s: %s", target, p.Summary())
	})
	return p
}

// SetRate changes the share of requests faulted from now on.
func (p *FaultProxy) SetRate(rate float64) {
	p.mu.Lock()
	p.rate = rate
	p.mu.Unlock()
}

// Configure replaces the options the proxy was started with (Seed
// included) from now on, and starts counting requests per key afresh (for
// OnlyFirst).
func (p *FaultProxy) Configure(opts FaultOptions) {
	if len(opts.Kinds) == 0 {
		opts.Kinds = AllFaults
	}
	p.mu.Lock()
	p.opts, p.rate = opts, opts.Rate
	p.seen = map[string]uint64{}
	p.mu.Unlock()
}

// Reset forgets the requests and faults counted so far (the decisions of
// later requests stay those of the seed).
func (p *FaultProxy) Reset() {
	p.mu.Lock()
	p.requests = nil
	p.faults = map[FaultKind]int{}
	p.mu.Unlock()
}

// Requests returns a copy of every request received since the start or
// the last Reset, in arrival order.
func (p *FaultProxy) Requests() []ProxiedRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.requests)
}

// Count is how many requests with method (any method when "") had a path
// that match accepts (every path when match is nil).
func (p *FaultProxy) Count(method string, match func(path string) bool) int {
	n := 0
	for _, r := range p.Requests() {
		if (method == "" || r.Method == method) && (match == nil || match(r.Path)) {
			n++
		}
	}
	return n
}

// Counts maps "METHOD class" (class from PathClass) to the number of
// requests.
func (p *FaultProxy) Counts() map[string]int {
	c := map[string]int{}
	for _, r := range p.Requests() {
		c[r.Method+" "+PathClass(r.Path, r.Query)]++
	}
	return c
}

// Faults maps each fault kind to how often it was injected.
func (p *FaultProxy) Faults() map[FaultKind]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[FaultKind]int{}
	for k, n := range p.faults {
		out[k] = n
	}
	return out
}

// Faulted is the number of requests faulted.
func (p *FaultProxy) Faulted() int {
	n := 0
	for _, c := range p.Faults() {
		n += c
	}
	return n
}

// Summary is one line: requests, faults by kind, and requests by method,
// e.g. "412 requests, 66 faulted (16.0%): 503 17, 500 16, close 18, cut 15;
// GET 300, PUT 100, HEAD 12".
func (p *FaultProxy) Summary() string {
	reqs := p.Requests()
	faults := p.Faults()
	total := 0
	var parts []string
	for _, k := range AllFaults {
		total += faults[k]
		parts = append(parts, fmt.Sprintf("%s %d", k, faults[k]))
	}
	byMethod := map[string]int{}
	for _, r := range reqs {
		byMethod[r.Method]++
	}
	methods := make([]string, 0, len(byMethod))
	for m := range byMethod {
		methods = append(methods, m)
	}
	sort.Strings(methods)
	var ms []string
	for _, m := range methods {
		ms = append(ms, fmt.Sprintf("%s %d", m, byMethod[m]))
	}
	pct := 0.0
	if len(reqs) > 0 {
		pct = 100 * float64(total) / float64(len(reqs))
	}
	return fmt.Sprintf("%d requests, %d faulted (%.1f%%): %s; %s", len(reqs), total, pct,
		strings.Join(parts, ", "), strings.Join(ms, ", "))
}

// decide picks the fault for r and records r; it returns the record's index.
func (p *FaultProxy) decide(r *http.Request) (FaultKind, int) {
	key := r.Method + " " + r.URL.Path + "?" + stableQuery(r.URL.Query())
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.seen[key]
	p.seen[key] = n + 1
	kind := FaultNone
	if p.rate > 0 && (p.opts.Only == nil || p.opts.Only(r.Method, r.URL.Path, r.URL.RawQuery)) && (!p.opts.OnlyFirst || n == 0) {
		h := fnv.New64a()
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:8], p.opts.Seed)
		binary.LittleEndian.PutUint64(b[8:], n)
		h.Write(b[:])
		h.Write([]byte(key))
		v := mix(h.Sum64())
		if float64(v>>11)/float64(1<<53) < p.rate {
			kinds := p.opts.Kinds
			if r.Method != http.MethodGet {
				kinds = slices.DeleteFunc(slices.Clone(kinds), func(k FaultKind) bool { return k == FaultCut })
			}
			if len(kinds) > 0 {
				kind = kinds[(v>>3)%uint64(len(kinds))]
			}
		}
	}
	p.requests = append(p.requests, ProxiedRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Fault: kind,
		Start: time.Now()})
	return kind, len(p.requests) - 1
}

// mix is splitmix64's finalizer: every bit of v moves every bit of the
// result, so the fault decisions are evenly spread.
func mix(v uint64) uint64 {
	v ^= v >> 30
	v *= 0xbf58476d1ce4e5b9
	v ^= v >> 27
	v *= 0x94d049bb133111eb
	return v ^ v>>31
}

// stableQuery is the query without the values that differ from run to run
// (multipart upload ids), so the seed decides the same way each time.
func stableQuery(q url.Values) string {
	for _, k := range []string{"uploadId", "upload_id"} {
		if q.Has(k) {
			q.Set(k, "")
		}
	}
	return q.Encode()
}

// record notes what happened to request i; the fault only when one was
// injected.
func (p *FaultProxy) record(i int, fault FaultKind, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i < len(p.requests) { // not forgotten by a Reset meanwhile
		p.requests[i].Fault = fault
		p.requests[i].Status = status
		p.requests[i].Took = time.Since(p.requests[i].Start)
	}
	if fault != FaultNone {
		p.faults[fault]++
	}
}

// hopHeaders are the hop-by-hop headers a proxy does not forward.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func (p *FaultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind, i := p.decide(r)
	switch kind {
	case Fault503, Fault500:
		io.Copy(io.Discard, r.Body) // a server that read the request, then refused it
		status := http.StatusServiceUnavailable
		if kind == Fault500 {
			status = http.StatusInternalServerError
		}
		p.record(i, kind, status)
		p.writeError(w, r, status)
		return
	case FaultClose:
		p.record(i, kind, 0)
		closeConn(w)
		return
	}

	out := r.Clone(r.Context())
	out.URL.Scheme, out.URL.Host = p.target.Scheme, p.target.Host
	out.RequestURI = ""
	if r.ContentLength == 0 {
		out.Body = nil
	}
	for _, h := range hopHeaders {
		out.Header.Del(h)
	}
	resp, err := p.tr.RoundTrip(out)
	if err != nil {
		p.record(i, FaultNone, http.StatusBadGateway)
		http.Error(w, "fault proxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for _, h := range hopHeaders {
		resp.Header.Del(h)
	}
	// Upload sessions (GCS resumable uploads) come back as absolute URLs of
	// the server: keep them going through the proxy.
	if loc := resp.Header.Get("Location"); loc != "" {
		resp.Header.Set("Location", strings.Replace(loc, "//"+p.target.Host, "//"+p.Host, 1))
	}
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	if kind != FaultCut {
		p.record(i, FaultNone, resp.StatusCode)
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
		return
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil || len(body) < 2 {
		p.record(i, FaultClose, 0)
		closeConn(w)
		return
	}
	p.record(i, FaultCut, resp.StatusCode)
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(resp.StatusCode)
	w.Write(body[:len(body)/2])
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	// Ends the handler and closes the connection without the rest of the
	// body; net/http does not log this panic.
	panic(http.ErrAbortHandler)
}

// closeConn closes the client's connection without an answer.
func closeConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // a reset, as a dropped connection looks
	}
	conn.Close()
}

// writeError answers status with the body and headers the store's SDK
// parses.
func (p *FaultProxy) writeError(w http.ResponseWriter, r *http.Request, status int) {
	code, msg := "InternalError", "We encountered an internal error. Please try again."
	switch {
	case status == http.StatusServiceUnavailable && p.opts.Dialect == DialectS3:
		code, msg = "SlowDown", "Please reduce your request rate."
	case status == http.StatusServiceUnavailable && p.opts.Dialect == DialectAzure:
		code, msg = "ServerBusy", "The server is currently unable to receive requests. Please retry your request."
	case status == http.StatusServiceUnavailable:
		code, msg = "backendError", "Backend Error"
	}
	h := w.Header()
	switch p.opts.Dialect {
	case DialectGCS:
		h.Set("Content-Type", "application/json; charset=UTF-8")
		body := fmt.Sprintf(`{"error":{"code":%d,"message":%q,"errors":[{"reason":%q,"message":%q}]}}`, status, msg, code, msg)
		h.Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			io.WriteString(w, body)
		}
	default:
		if p.opts.Dialect == DialectAzure {
			h.Set("x-ms-error-code", code)
		}
		h.Set("Content-Type", "application/xml")
		body := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
			`<Error><Code>%s</Code><Message>%s</Message><RequestId>faultproxy</RequestId></Error>`, code, msg)
		h.Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			io.WriteString(w, body)
		}
	}
}

// PathClass sorts a request into what a registry's storage holds:
// "list" (a listing), "tag-link" (…/_manifests/tags/T/current/link),
// "tag-index" (…/_manifests/tags/T/index/…), "revision-link",
// "layer-link", "blob" (…/blobs/sha256/xx/D/data), "upload" (…/_uploads/…
// or a multipart or resumable upload), "lock", "archive" (.tar.zst and its
// .meta.json), or "other".
func PathClass(path, rawQuery string) string {
	q, _ := url.ParseQuery(rawQuery)
	switch {
	case q.Has("list-type") || q.Get("comp") == "list" || strings.HasSuffix(path, "/o") && !strings.HasPrefix(path, "/upload/"):
		return "list"
	case IsTagLink(path):
		return "tag-link"
	case strings.Contains(path, "/_manifests/tags/") && strings.Contains(path, "/index/"):
		return "tag-index"
	case strings.Contains(path, "/_manifests/revisions/"):
		return "revision-link"
	case strings.Contains(path, "/_layers/"):
		return "layer-link"
	case strings.Contains(path, "/blobs/sha256/") && strings.HasSuffix(path, "/data"):
		return "blob"
	case strings.Contains(path, "/_uploads/") || q.Has("uploadId") || q.Has("uploads") || q.Has("upload_id") ||
		q.Get("comp") == "block" || q.Get("comp") == "blocklist" || strings.HasPrefix(path, "/upload/"):
		return "upload"
	case strings.Contains(path, ".lock") || strings.Contains(path, "regbackup-lock"):
		return "lock"
	case strings.HasSuffix(path, ".tar.zst") || strings.HasSuffix(path, ".meta.json") || strings.Contains(path, ".tar.zst."):
		return "archive"
	}
	return "other"
}

// IsTagLink reports whether path is a tag's current link
// (…/_manifests/tags/TAG/current/link).
func IsTagLink(path string) bool {
	return strings.HasSuffix(path, "/current/link") && strings.Contains(path, "/_manifests/tags/")
}

// TagOf is the tag a tag-link path names ("" for other paths).
func TagOf(path string) string {
	if !IsTagLink(path) {
		return ""
	}
	rest := path[strings.LastIndex(path, "/_manifests/tags/")+len("/_manifests/tags/"):]
	tag, _, _ := strings.Cut(rest, "/")
	return tag
}
