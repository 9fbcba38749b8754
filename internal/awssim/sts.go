package awssim

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"time"
)

// STS simulates the Security Token Service's GetCallerIdentity and
// AssumeRole (Query protocol). The simulator has one identity: AssumeRole
// hands out the same key pair with a session token of its own, and
// GetCallerIdentity with that token answers as the assumed role.
type STS struct {
	s *Server

	mu       sync.Mutex
	sessions map[string]string // session token -> assumed-role ARN
}

func newSTS(s *Server) *STS { return &STS{s: s, sessions: map[string]string{}} }

// sessionTokenPrefix marks the session tokens AssumeRole hands out.
const sessionTokenPrefix = "esteira-sim-session-"

var roleARN = regexp.MustCompile(`^arn:aws:iam::(\d{12}):role/([\w+=,.@/-]{1,64})$`)

func (x *STS) serve(w http.ResponseWriter, form url.Values, token string) {
	switch form.Get("Action") {
	case "AssumeRole":
		x.assumeRole(w, form)
	case "GetCallerIdentity":
		type result struct {
			Arn     string `xml:"Arn"`
			UserID  string `xml:"UserId"`
			Account string `xml:"Account"`
		}
		type response struct {
			XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ GetCallerIdentityResponse"`
			Result  result   `xml:"GetCallerIdentityResult"`
			Meta    struct {
				RequestID string `xml:"RequestId"`
			} `xml:"ResponseMetadata"`
		}
		arn := "arn:aws:iam::" + x.s.opts.AccountID + ":user/esteira-deployer"
		x.mu.Lock()
		if assumed, ok := x.sessions[token]; ok && token != "" {
			arn = assumed
		}
		x.mu.Unlock()
		out := response{Result: result{Arn: arn, UserID: x.s.opts.AccessKeyID, Account: x.s.opts.AccountID}}
		out.Meta.RequestID = "00000000-0000-0000-0000-000000000000"
		w.Header().Set("Content-Type", "text/xml")
		_ = xml.NewEncoder(w).Encode(out)
	default:
		writeQueryError(w, clientError("InvalidAction", "Could not find operation %s for version 2011-06-15", form.Get("Action")))
	}
}

func (x *STS) assumeRole(w http.ResponseWriter, form url.Values) {
	role, session := form.Get("RoleArn"), form.Get("RoleSessionName")
	m := roleARN.FindStringSubmatch(role)
	switch {
	case m == nil:
		writeQueryError(w, clientError("ValidationError", "1 validation error detected: Value '%s' at 'roleArn' failed to satisfy constraint: not a role ARN", role))
		return
	case m[1] != x.s.opts.AccountID:
		writeQueryError(w, &APIError{Status: http.StatusForbidden, Code: "AccessDenied",
			Message: fmt.Sprintf("User: arn:aws:iam::%s:user/esteira-deployer is not authorized to perform: sts:AssumeRole on resource: %s", x.s.opts.AccountID, role)})
		return
	case session == "":
		writeQueryError(w, clientError("ValidationError", "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null"))
		return
	}
	assumed := "arn:aws:sts::" + x.s.opts.AccountID + ":assumed-role/" + m[2] + "/" + session
	x.mu.Lock()
	token := fmt.Sprintf("%s%d", sessionTokenPrefix, len(x.sessions)+1)
	x.sessions[token] = assumed
	x.mu.Unlock()
	type creds struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		SessionToken    string `xml:"SessionToken"`
		Expiration      string `xml:"Expiration"`
	}
	type response struct {
		XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ AssumeRoleResponse"`
		Result  struct {
			Credentials     creds `xml:"Credentials"`
			AssumedRoleUser struct {
				AssumedRoleID string `xml:"AssumedRoleId"`
				Arn           string `xml:"Arn"`
			} `xml:"AssumedRoleUser"`
		} `xml:"AssumeRoleResult"`
		Meta struct {
			RequestID string `xml:"RequestId"`
		} `xml:"ResponseMetadata"`
	}
	var out response
	out.Result.Credentials = creds{AccessKeyID: x.s.opts.AccessKeyID, SecretAccessKey: x.s.opts.SecretAccessKey, SessionToken: token,
		Expiration: time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}
	out.Result.AssumedRoleUser.AssumedRoleID = "AROAESTEIRASIM:" + session
	out.Result.AssumedRoleUser.Arn = assumed
	out.Meta.RequestID = "00000000-0000-0000-0000-000000000000"
	w.Header().Set("Content-Type", "text/xml")
	_ = xml.NewEncoder(w).Encode(out)
}

func writeQueryError(w http.ResponseWriter, e *APIError) {
	type errorBody struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	type response struct {
		XMLName   xml.Name  `xml:"ErrorResponse"`
		Error     errorBody `xml:"Error"`
		RequestID string    `xml:"RequestId"`
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.Status)
	_ = xml.NewEncoder(w).Encode(response{Error: errorBody{Type: "Sender", Code: e.Code, Message: e.Message}, RequestID: "00000000-0000-0000-0000-000000000000"})
}
