package sitepublish

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// faultProxy sits between the SDK and versitygw. It records every request
// and can inject faults:
//   - failAfterPuts = n: after n object uploads succeed, the next `outage`
//     requests (of any kind) get 503, then the server "comes back";
//   - swallowCopies: CopyObject requests answer 200 without copying;
//   - beforeUpload: called with the path of each upload before it is sent.
type faultProxy struct {
	t      testing.TB
	server *httptest.Server

	mu            sync.Mutex
	failAfterPuts int
	outage        int
	swallowCopies bool
	beforeUpload  func(path string)
	puts          int
	log           []string
}

func newFaultProxy(t testing.TB, target string) *faultProxy {
	u, err := url.Parse(target)
	require.NoError(t, err)
	p := &faultProxy{t: t, failAfterPuts: -1}
	rp := httputil.NewSingleHostReverseProxy(u) // keeps the client's Host header, which SigV4 signed
	rp.ErrorLog = log.New(io.Discard, "", 0)    // cancelled requests after an injected fault are expected
	p.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.intercept(w, r) {
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.server.Close)
	return p
}

// kind classifies a request: "copy", "upload" (PutObject / UploadPart),
// "delete" (DeleteObjects / DeleteObject) or the method.
func kind(r *http.Request) string {
	switch {
	case r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "":
		return "copy"
	case r.Method == http.MethodPut:
		return "upload"
	case r.Method == http.MethodPost && r.URL.Query().Has("delete"), r.Method == http.MethodDelete:
		return "delete"
	}
	return r.Method
}

func (p *faultProxy) intercept(w http.ResponseWriter, r *http.Request) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := kind(r)
	p.log = append(p.log, k+" "+r.URL.Path)
	if p.failAfterPuts >= 0 && p.puts >= p.failAfterPuts && p.outage > 0 {
		p.outage--
		http.Error(w, "<Error><Code>ServiceUnavailable</Code><Message>injected outage</Message></Error>", http.StatusServiceUnavailable)
		return true
	}
	if k == "upload" {
		p.puts++
		if p.beforeUpload != nil {
			p.beforeUpload(r.URL.Path)
		}
	}
	if k == "copy" && p.swallowCopies {
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, `<CopyObjectResult><ETag>"d41d8cd98f00b204e9800998ecf8427e"</ETag><LastModified>%s</LastModified></CopyObjectResult>`,
			time.Now().UTC().Format(time.RFC3339))
		return true
	}
	return false
}

// requests returns the recorded "kind /bucket/key" lines.
func (p *faultProxy) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.log...)
}

func (p *faultProxy) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log, p.puts = nil, 0
}

// changesTo returns the mutating requests (upload, copy, delete) on bucket
// under prefix; DeleteObjects is a POST on the bucket itself, so deletes
// count for the whole bucket.
func (p *faultProxy) changesTo(bucket, prefix string) []string {
	var out []string
	for _, l := range p.requests() {
		k, path, _ := strings.Cut(l, " ")
		switch {
		case (k == "upload" || k == "copy") && strings.HasPrefix(path, "/"+bucket+"/"+prefix):
			out = append(out, l)
		case k == "delete" && (path == "/"+bucket || strings.HasPrefix(path, "/"+bucket+"/"+prefix)):
			out = append(out, l)
		}
	}
	return out
}
