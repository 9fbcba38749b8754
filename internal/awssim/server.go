// Package awssim is a small control-plane simulator for the AWS APIs that
// esteira drives and that no installable server emulates: ECS, the ECR API,
// Secrets Manager, CloudWatch Logs, STS and CodeDeploy's ECS platform.
//
// It speaks the services' wire protocols (JSON 1.1 over HTTP, and the Query
// protocol for STS) to the real aws-sdk-go-v2 clients, checks SigV4
// signatures (SigV4A for the CloudFront KeyValueStore data plane) against
// the credentials it was given, and keeps its state in memory so a test
// can script both the happy path and the failures that a deploy tool must
// survive. Tests run it in-process (httptest); cmd/awssim serves it on a
// port for demos.
package awssim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Options configures a simulator.
type Options struct {
	// AccountID is the 12-digit account the simulated resources belong to.
	AccountID string
	// Region is the region in ARNs and the only region requests may be signed for.
	Region string
	// AccessKeyID and SecretAccessKey are the only credentials accepted.
	AccessKeyID     string
	SecretAccessKey string
}

// DefaultOptions are the settings tests use unless they need others.
func DefaultOptions() Options {
	return Options{
		AccountID:       "123456789012",
		Region:          "eu-west-1",
		AccessKeyID:     "AKIAESTEIRATEST00001",
		SecretAccessKey: "esteira-simulator-secret-key",
	}
}

// Server is the simulator. It is an http.Handler; every service's state
// lives in its exported field, which tests use to set up and script it.
type Server struct {
	opts Options

	ECS     *ECS
	ECR     *ECR
	STS     *STS
	Secrets *Secrets
	// Parameters is SSM Parameter Store.
	Parameters *Parameters
	Logs       *Logs
	RDS        *RDS
	Lambda     *Lambda
	Alarms     *Alarms
	KVS        *KVS
	// CodeDeploy is CodeDeploy's ECS compute platform, over ECS.
	CodeDeploy *CodeDeploy

	mu       sync.Mutex
	services map[string]jsonService // by X-Amz-Target prefix
	requests []Request
}

// Request is what the simulator saw of one call, for assertions.
type Request struct {
	Service   string
	Operation string
	Body      []byte
}

// jsonService answers the operations of one JSON 1.1 service.
type jsonService interface {
	handle(op string, body []byte) (any, error)
}

// New returns a simulator with empty state.
func New(opts Options) *Server {
	s := &Server{opts: opts, services: map[string]jsonService{}}
	s.ECS = newECS(s)
	s.ECR = newECR(s)
	s.STS = newSTS(s)
	s.Secrets = newSecrets(s)
	s.Parameters = newParameters(s)
	s.Logs = newLogs(s)
	s.RDS = newRDS(s)
	s.Lambda = newLambda(s)
	s.Alarms = newAlarms(s)
	s.KVS = newKVS(s)
	s.CodeDeploy = newCodeDeploy(s)
	s.services["AmazonEC2ContainerServiceV20141113"] = s.ECS
	s.services["AmazonEC2ContainerRegistry_V20150921"] = s.ECR
	s.services["secretsmanager"] = s.Secrets
	s.services["AmazonSSM"] = s.Parameters
	s.services["Logs_20140328"] = s.Logs
	s.services["CodeDeploy_20141006"] = s.CodeDeploy
	return s
}

// Options returns the settings the simulator was created with.
func (s *Server) Options() Options { return s.opts }

// Credentials returns the credentials the simulator accepts.
func (s *Server) Credentials() aws.Credentials {
	return aws.Credentials{AccessKeyID: s.opts.AccessKeyID, SecretAccessKey: s.opts.SecretAccessKey, Source: "awssim"}
}

// Start serves the simulator on a loopback port until the test ends and
// returns its base URL, to be used as the SDK clients' BaseEndpoint.
func (s *Server) Start(tb interface{ Cleanup(func()) }) string {
	ts := httptest.NewServer(s)
	tb.Cleanup(ts.Close)
	return ts.URL
}

// Requests returns a copy of every request served so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count returns how many requests for one operation were served, e.g. Count("ecs", "UpdateService").
func (s *Server) Count(service, operation string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Service == service && r.Operation == operation {
			n++
		}
	}
	return n
}

// APIError is an AWS error response: Code is the exception name the SDK
// turns into a typed error (e.g. "ClusterNotFoundException").
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// clientError returns a 400 error with the given exception name.
func clientError(code, format string, args ...any) *APIError {
	return &APIError{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	switch service, query := protocolOf(r); {
	case service == "lambda":
		s.serveREST(w, r, body, s.Lambda.route)
		return
	case service == "monitoring":
		s.serveCBOR(w, r, body)
		return
	case service == kvsSigningName:
		s.serveKVS(w, r, body)
		return
	case query:
		s.serveQuery(w, r, body)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	prefix, op, ok := strings.Cut(target, ".")
	svc, known := s.services[prefix]
	if !ok || !known {
		writeJSONError(w, clientError("UnknownOperationException", "unknown target %q", target))
		return
	}
	if apiErr := s.verifySignature(r, body); apiErr != nil {
		writeJSONError(w, apiErr)
		return
	}
	s.record(serviceName(prefix), op, body)
	out, err := svc.handle(op, body)
	if err != nil {
		var apiErr *APIError
		if !asAPIError(err, &apiErr) {
			apiErr = &APIError{Status: http.StatusInternalServerError, Code: "InternalFailure", Message: err.Error()}
		}
		writeJSONError(w, apiErr)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if out == nil {
		out = struct{}{}
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request, body []byte) {
	if apiErr := s.verifySignature(r, body); apiErr != nil {
		writeQueryError(w, apiErr)
		return
	}
	form, err := parseForm(body)
	if err != nil {
		writeQueryError(w, clientError("MalformedQueryString", "%v", err))
		return
	}
	if signedFor(r) == "rds" {
		s.record("rds", form.Get("Action"), body)
		s.RDS.serve(w, form)
		return
	}
	s.record("sts", form.Get("Action"), body)
	s.STS.serve(w, form, r.Header.Get("X-Amz-Security-Token"))
}

func (s *Server) record(service, op string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Service: service, Operation: op, Body: body})
}

func serviceName(prefix string) string {
	switch prefix {
	case "AmazonEC2ContainerServiceV20141113":
		return "ecs"
	case "AmazonEC2ContainerRegistry_V20150921":
		return "ecr"
	case "Logs_20140328":
		return "logs"
	case "AmazonSSM":
		return "ssm"
	case "CodeDeploy_20141006":
		return "codedeploy"
	}
	return prefix
}

func writeJSONError(w http.ResponseWriter, e *APIError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.Code, "message": e.Message})
}

// verifySignature recomputes the request's SigV4 signature with the
// simulator's secret key and compares it with the one sent, as AWS does.
func (s *Server) verifySignature(r *http.Request, body []byte) *APIError {
	auth := r.Header.Get("Authorization")
	// The JSON services and the Query service (STS) name the same failures
	// differently, and STS answers them with 403 (AWS common errors).
	want, query := protocolOf(r)
	invalid := clientError("UnrecognizedClientException", "The security token included in the request is invalid.")
	badSignature := func(format string, args ...any) *APIError {
		if query {
			return &APIError{Status: http.StatusForbidden, Code: "SignatureDoesNotMatch", Message: fmt.Sprintf(format, args...)}
		}
		return clientError("InvalidSignatureException", format, args...)
	}
	if query {
		invalid = &APIError{Status: http.StatusForbidden, Code: "InvalidClientTokenId", Message: invalid.Message}
	}
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") {
		if query {
			return &APIError{Status: http.StatusForbidden, Code: "MissingAuthenticationToken", Message: "Request is missing Authentication Token"}
		}
		return clientError("MissingAuthenticationTokenException", "Missing Authentication Token")
	}
	fields := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 "), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/") // AKID/date/region/service/aws4_request
	if len(scope) != 5 {
		return invalid
	}
	if scope[0] != s.opts.AccessKeyID {
		return invalid
	}
	if scope[2] != s.opts.Region {
		return badSignature("Credential should be scoped to a valid region, not '%s'.", scope[2])
	}
	if query && scope[3] == "rds" { // the Query services: STS and RDS
		want = "rds"
	}
	if scope[3] != want {
		return badSignature("Credential should be scoped to correct service: '%s'.", want)
	}
	signingTime, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return clientError("IncompleteSignatureException", "missing or malformed X-Amz-Date")
	}
	if apiErr := checkSigningTime(signingTime, badSignature); apiErr != nil {
		return apiErr
	}
	replay, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return invalid
	}
	replay.Host = r.Host
	for _, h := range strings.Split(fields["SignedHeaders"], ";") {
		if h == "host" || h == "content-length" {
			continue
		}
		replay.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
	}
	if !strings.Contains(";"+fields["SignedHeaders"]+";", ";content-length;") {
		replay.ContentLength = 0
	}
	sum := sha256.Sum256(body)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	creds := aws.Credentials{AccessKeyID: s.opts.AccessKeyID, SecretAccessKey: s.opts.SecretAccessKey,
		SessionToken: r.Header.Get("X-Amz-Security-Token")}
	if err := signer.SignHTTP(context.Background(), creds, replay, hex.EncodeToString(sum[:]), scope[3], scope[2], signingTime); err != nil {
		return invalid
	}
	if replay.Header.Get("Authorization") != auth {
		return badSignature("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
	}
	return nil
}

// checkSigningTime refuses, as AWS does, a signature more than 15 minutes
// off the clock.
func checkSigningTime(signingTime time.Time, badSignature func(format string, args ...any) *APIError) *APIError {
	const amzDate, skew = "20060102T150405Z", 15 * time.Minute
	now := time.Now().UTC()
	if signingTime.Before(now.Add(-skew)) {
		return badSignature("Signature expired: %s is now earlier than %s (%s - 15 min.)",
			signingTime.Format(amzDate), now.Add(-skew).Format(amzDate), now.Format(amzDate))
	}
	if signingTime.After(now.Add(skew)) {
		return badSignature("Signature not yet current: %s is still later than %s (%s + 15 min.)",
			signingTime.Format(amzDate), now.Add(skew).Format(amzDate), now.Format(amzDate))
	}
	return nil
}

// signingName is the SigV4 service name a request must be scoped to, from
// its X-Amz-Target prefix ("" for the Query protocol, which only STS uses here).
// protocolOf tells which service a request is for (its signing name) and
// whether it speaks the Query protocol: JSON services name their target,
// Lambda and the CloudFront KeyValueStore data plane (REST-JSON) are known
// by their paths, CloudWatch (Smithy RPC v2 CBOR) by its protocol header;
// the rest is Query (STS, or RDS by its scope).
func protocolOf(r *http.Request) (service string, query bool) {
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		return signingName(r.Header.Get("X-Amz-Target")), false
	case strings.HasPrefix(r.URL.Path, lambdaPrefix):
		return "lambda", false
	case strings.HasPrefix(r.URL.Path, kvsPrefix):
		return kvsSigningName, false
	case r.Header.Get("Smithy-Protocol") == "rpc-v2-cbor":
		return "monitoring", false
	}
	return "sts", true
}

func signingName(target string) string {
	prefix, _, _ := strings.Cut(target, ".")
	switch prefix {
	case "":
		return "sts"
	case "AmazonEC2ContainerServiceV20141113":
		return "ecs"
	case "AmazonEC2ContainerRegistry_V20150921":
		return "ecr"
	case "secretsmanager":
		return "secretsmanager"
	case "Logs_20140328":
		return "logs"
	case "AmazonSSM":
		return "ssm"
	case "CodeDeploy_20141006":
		return "codedeploy"
	}
	return prefix
}
