package awssim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/httpbinding"
)

// The SigV4A ("AWS4-ECDSA-P256-SHA256") verification below follows the
// signer the SDK uses, github.com/aws/aws-sdk-go-v2/internal/v4a (v1.5.12:
// v4a.go, credentials.go, internal/crypto/ecc.go, internal/v4/util.go).
// That package is internal to the SDK, so its steps are re-implemented here.
// An ECDSA signature is randomized: unlike SigV4 it cannot be replayed and
// compared, it is checked against the public key of the simulator's keys.
const sigV4AAlgorithm = "AWS4-ECDSA-P256-SHA256"

// sigV4AKey derives the P-256 key pair SigV4A signs with.
// It follows deriveKeyFromAccessKeyPair (FIPS 186-4 B.4.2): an
// HMAC-SHA256 counter-mode KDF (NIST SP 800-108) keyed with "AWS4A"+secret,
// labelled with the algorithm name, whose context is the access key ID and
// a one-byte external counter, retried until the candidate is below n-2;
// the private scalar is the candidate plus one.
func sigV4AKey(accessKeyID, secretAccessKey string) (*ecdsa.PrivateKey, error) {
	curve := elliptic.P256()
	nMinusTwo := new(big.Int).Sub(curve.Params().N, big.NewInt(2))
	for counter := 1; counter <= 0xFF; counter++ {
		// Fixed input: label || 0x00 || context || L (256 bits, big-endian).
		// One HMAC block gives the 256 bits needed, at KDF counter i = 1.
		fixed := append([]byte(sigV4AAlgorithm), 0x00)
		fixed = append(fixed, accessKeyID...)
		fixed = append(fixed, byte(counter))
		fixed = binary.BigEndian.AppendUint32(fixed, 256)
		mac := hmac.New(sha256.New, []byte("AWS4A"+secretAccessKey))
		_, _ = mac.Write(binary.BigEndian.AppendUint32(nil, 1))
		_, _ = mac.Write(fixed)
		candidate := new(big.Int).SetBytes(mac.Sum(nil))
		if candidate.Cmp(nMinusTwo) < 0 {
			d := candidate.Add(candidate, big.NewInt(1)).FillBytes(make([]byte, 32))
			return ecdsa.ParseRawPrivateKey(curve, d)
		}
	}
	return nil, errors.New("sigv4a: exhausted the single-byte external counter")
}

// verifySigV4A checks a request's SigV4A signature, as AWS does.
// The access key must be the simulator's, the scope the service's, the
// date within 15 minutes, the region set must cover this region, and the
// ECDSA signature must verify over the canonical request rebuilt from what
// arrived (method, path, query, the signed headers and the body's hash).
// REST services answer these failures with 403, as the AWS common errors
// list InvalidClientTokenId and MissingAuthenticationToken.
func (s *Server) verifySigV4A(r *http.Request, body []byte, service string) *APIError {
	forbidden := func(code, format string, args ...any) *APIError {
		return &APIError{Status: http.StatusForbidden, Code: code, Message: fmt.Sprintf(format, args...)}
	}
	badSignature := func(format string, args ...any) *APIError {
		return forbidden("InvalidSignatureException", format, args...)
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return forbidden("MissingAuthenticationTokenException", "Missing Authentication Token")
	}
	rest, ok := strings.CutPrefix(auth, sigV4AAlgorithm+" ")
	if !ok {
		return clientError("IncompleteSignatureException", "%s requests must be signed with %s (SigV4A).", service, sigV4AAlgorithm)
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/") // AKID/date/service/aws4_request
	if len(scope) != 4 || scope[3] != "aws4_request" || fields["SignedHeaders"] == "" || fields["Signature"] == "" {
		return clientError("IncompleteSignatureException", "Authorization header requires Credential (AKID/date/service/aws4_request), SignedHeaders and Signature.")
	}
	if scope[0] != s.opts.AccessKeyID {
		return forbidden("UnrecognizedClientException", "The security token included in the request is invalid.")
	}
	if scope[2] != service {
		return badSignature("Credential should be scoped to correct service: '%s'.", service)
	}
	const amzDate = "20060102T150405Z"
	signingTime, err := time.Parse(amzDate, r.Header.Get("X-Amz-Date"))
	if err != nil || signingTime.Format("20060102") != scope[1] {
		return clientError("IncompleteSignatureException", "missing or malformed X-Amz-Date, or not the credential scope's date")
	}
	if apiErr := checkSigningTime(signingTime, badSignature); apiErr != nil {
		return apiErr
	}
	signed := strings.Split(fields["SignedHeaders"], ";")
	for _, must := range []string{"host", "x-amz-date", "x-amz-region-set"} {
		if !slices.Contains(signed, must) {
			return badSignature("'%s' must be a signed header.", must)
		}
	}
	if r.Header.Get("X-Amz-Security-Token") != "" && !slices.Contains(signed, "x-amz-security-token") {
		return badSignature("'x-amz-security-token' must be a signed header.")
	}
	if !regionSetCovers(r.Header.Get("X-Amz-Region-Set"), s.opts.Region) {
		return badSignature("The region set '%s' does not include region '%s'.", r.Header.Get("X-Amz-Region-Set"), s.opts.Region)
	}
	sig, err := hex.DecodeString(fields["Signature"])
	if err != nil {
		return badSignature("The signature is not hex-encoded.")
	}
	key, err := sigV4AKey(s.opts.AccessKeyID, s.opts.SecretAccessKey)
	if err != nil {
		return &APIError{Status: http.StatusInternalServerError, Code: "InternalServerException", Message: err.Error()}
	}
	credentialScope := strings.Join(scope[1:], "/")
	canonical := canonicalSigV4ARequest(r, signed, body)
	stringToSign := strings.Join([]string{sigV4AAlgorithm, signingTime.Format(amzDate), credentialScope, sha256Hex([]byte(canonical))}, "\n")
	digest := sha256.Sum256([]byte(stringToSign))
	if !ecdsa.VerifyASN1(&key.PublicKey, digest[:], sig) {
		return badSignature("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
	}
	return nil
}

// canonicalSigV4ARequest rebuilds the SigV4A canonical request.
// As buildCanonicalString: method, the path escaped once more (the signer escapes the already-escaped
// path unless told not to, and the KeyValueStore client does not), the
// sorted query, the signed headers' trimmed values, their names, and the
// hex SHA-256 of the body.
func canonicalSigV4ARequest(r *http.Request, signed []string, body []byte) string {
	var headers strings.Builder
	for _, h := range signed {
		var value string
		switch h {
		case "host":
			value = stripExcessSpaces(r.Host)
		case "content-length":
			value = r.Header.Get("Content-Length")
			if r.ContentLength > 0 {
				value = strconv.FormatInt(r.ContentLength, 10)
			}
		default:
			var values []string
			for _, v := range r.Header.Values(h) {
				values = append(values, strings.TrimSpace(stripExcessSpaces(v)))
			}
			value = strings.Join(values, ",")
		}
		headers.WriteString(h + ":" + value + "\n")
	}
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	return strings.Join([]string{r.Method, httpbinding.EscapePath(path, false), canonicalQuery(r.URL.Query()),
		headers.String(), strings.Join(signed, ";"), sha256Hex(body)}, "\n")
}

// canonicalQuery is the query as EncodeQuery makes it.
// Parameters are sorted by key, then value, each escaped with spaces as %20.
func canonicalQuery(query url.Values) string {
	type param struct{ k, v string }
	var params []param
	for k, values := range query {
		for _, v := range values {
			params = append(params, param{queryEscape(k), queryEscape(v)})
		}
	}
	sort.Slice(params, func(i, j int) bool {
		if params[i].k != params[j].k {
			return params[i].k < params[j].k
		}
		return params[i].v < params[j].v
	})
	pairs := make([]string, len(params))
	for i, p := range params {
		pairs[i] = p.k + "=" + p.v
	}
	return strings.Join(pairs, "&")
}

func queryEscape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// stripExcessSpaces trims the spaces at both ends and collapses inner runs
// of spaces to one, as the signer does to header values.
func stripExcessSpaces(s string) string {
	s = strings.Trim(s, " ")
	for strings.Contains(s, "  ") {
		s = strings.ReplaceAll(s, "  ", " ")
	}
	return s
}

// regionSetCovers tells whether an X-Amz-Region-Set (comma-separated
// regions, "*" for all) includes region.
func regionSetCovers(set, region string) bool {
	for _, r := range strings.Split(set, ",") {
		if r = strings.TrimSpace(r); r == "*" || r == region {
			return true
		}
	}
	return false
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
