package awssim

import (
	"encoding/xml"
	"net/http"
	"net/url"
)

// STS simulates the Security Token Service's GetCallerIdentity (Query protocol).
type STS struct{ s *Server }

func newSTS(s *Server) *STS { return &STS{s: s} }

func (x *STS) serve(w http.ResponseWriter, form url.Values) {
	switch form.Get("Action") {
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
		out := response{Result: result{
			Arn:     "arn:aws:iam::" + x.s.opts.AccountID + ":user/esteira-deployer",
			UserID:  x.s.opts.AccessKeyID,
			Account: x.s.opts.AccountID,
		}}
		out.Meta.RequestID = "00000000-0000-0000-0000-000000000000"
		w.Header().Set("Content-Type", "text/xml")
		_ = xml.NewEncoder(w).Encode(out)
	default:
		writeQueryError(w, clientError("InvalidAction", "Could not find operation %s for version 2011-06-15", form.Get("Action")))
	}
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
