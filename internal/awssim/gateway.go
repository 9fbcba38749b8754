package awssim

import (
	"encoding/xml"
	"errors"
	"time"

	"fmt"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
)

// Gateway serves every AWS API esteira calls on one endpoint, the way
// LocalStack does: requests signed for S3 go to a real S3 server, OCI
// registry requests (/v2/..., not SigV4-signed) go to a real registry, and
// everything else (ECS, ECR API, Secrets Manager, CloudWatch Logs, STS) is
// answered by the simulator.
//
// Requests are forwarded unchanged, Host header included, so a SigV4
// signature made for the gateway verifies at the S3 server when both are
// given the same credentials and region.
type Gateway struct {
	sim, s3, registry http.Handler

	mu     sync.Mutex
	faults []S3Fault
}

// S3Fault makes the gateway answer some S3 uploads with an error instead of
// forwarding them, so a drill can break a publish midway. Server-side
// copies (x-amz-copy-source), which backups and restores use, still pass.
type S3Fault struct {
	// KeyContains selects the uploads (PUT of an object key containing it).
	KeyContains string `json:"keyContains"`
	// Status is the HTTP status answered: 403 (AccessDenied) fails at once,
	// 503 (SlowDown, the default) is retried by the SDK before it gives up.
	Status int `json:"status,omitempty"`
}

// NewGateway returns a gateway in front of sim; s3 or registry may be nil
// when there is none.
func NewGateway(sim http.Handler, s3, registry *url.URL) *Gateway {
	g := &Gateway{sim: sim}
	if s3 != nil {
		g.s3 = forward(s3)
	}
	if registry != nil {
		g.registry = forward(registry)
	}
	return g
}

// SetS3Faults replaces the upload faults (none: every S3 request passes).
func (g *Gateway) SetS3Faults(faults []S3Fault) error {
	for i, f := range faults {
		if f.KeyContains == "" {
			return fmt.Errorf("fault %d: keyContains is required", i)
		}
		if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
			return fmt.Errorf("fault %d: status %d is not an HTTP error status", i, f.Status)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.faults = append([]S3Fault(nil), faults...)
	return nil
}

// S3Faults returns the upload faults in force.
func (g *Gateway) S3Faults() []S3Fault {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]S3Fault{}, g.faults...)
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case signedFor(r) == "s3":
		if g.s3 == nil {
			http.Error(w, "awssim gateway: no S3 server behind this endpoint", http.StatusBadGateway)
			return
		}
		if f, ok := g.fault(r); ok {
			status := f.Status
			if status == 0 {
				status = http.StatusServiceUnavailable
			}
			code := map[int]string{http.StatusForbidden: "AccessDenied", http.StatusServiceUnavailable: "SlowDown"}[status]
			if code == "" {
				code = "InternalError"
			}
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(status)
			_ = xml.NewEncoder(w).Encode(struct {
				XMLName xml.Name `xml:"Error"`
				Code    string
				Message string
			}{Code: code, Message: "awssim gateway: upload refused by a scripted fault (keyContains " + f.KeyContains + ")"})
			return
		}
		if err := g.resignSession(r); err != nil {
			http.Error(w, "awssim gateway: "+err.Error(), http.StatusBadRequest)
			return
		}
		g.s3.ServeHTTP(w, r)
	case (r.URL.Path == "/v2" || strings.HasPrefix(r.URL.Path, "/v2/")) && signedFor(r) == "" && g.registry != nil:
		g.registry.ServeHTTP(w, r)
	default:
		g.sim.ServeHTTP(w, r)
	}
}

// resignSession re-signs, with the simulator's own keys and no token, an S3
// request made with credentials of a role the simulator's STS handed out:
// the S3 server behind the gateway knows only the root keys, and refuses
// the session token. Other requests pass untouched.
func (g *Gateway) resignSession(r *http.Request) error {
	sim, ok := g.sim.(*Server)
	token := r.Header.Get("X-Amz-Security-Token")
	if !ok || !strings.HasPrefix(token, sessionTokenPrefix) {
		return nil
	}
	sim.STS.mu.Lock()
	_, known := sim.STS.sessions[token]
	sim.STS.mu.Unlock()
	if !known {
		return errors.New("unknown session token: assume the role again")
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return errors.New("missing or malformed X-Amz-Date")
	}
	r.Header.Del("X-Amz-Security-Token")
	r.Header.Del("Authorization")
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		payload = "UNSIGNED-PAYLOAD"
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	o := sim.opts
	return signer.SignHTTP(r.Context(), aws.Credentials{AccessKeyID: o.AccessKeyID, SecretAccessKey: o.SecretAccessKey}, r, payload, "s3", o.Region, at)
}

// fault returns the fault that refuses this upload, if any.
func (g *Gateway) fault(r *http.Request) (S3Fault, bool) {
	if r.Method != http.MethodPut || r.Header.Get("X-Amz-Copy-Source") != "" {
		return S3Fault{}, false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, f := range g.faults {
		if strings.Contains(r.URL.Path, f.KeyContains) {
			return f, true
		}
	}
	return S3Fault{}, false
}

// forward is a reverse proxy that keeps the client's Host header (it is
// part of the signature) and streams bodies both ways.
func forward(target *url.URL) http.Handler {
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host
		},
		FlushInterval: -1,
	}
}

// signedFor is the SigV4 service a request is signed for, from its
// Authorization header or a presigned URL's X-Amz-Credential, or "".
func signedFor(r *http.Request) string {
	cred := ""
	if auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 "); ok {
		for _, part := range strings.Split(auth, ",") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(part), "Credential="); ok {
				cred = v
			}
		}
	} else {
		cred = r.URL.Query().Get("X-Amz-Credential")
	}
	scope := strings.Split(cred, "/") // AKID/date/region/service/aws4_request
	if len(scope) != 5 {
		return ""
	}
	return scope[3]
}
