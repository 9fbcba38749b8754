package awssim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/aws/smithy-go/encoding/cbor"
)

// Alarms simulates CloudWatch's DescribeAlarms, the call a canary watches
// during its bake time. The SDK speaks Smithy RPC v2 CBOR to CloudWatch.
// An alarm is OK until scripted (Set, or FireAfter: ALARM after a number
// of describes, as a rising error rate would).
type Alarms struct {
	s *Server

	mu     sync.Mutex
	alarms map[string]*metricAlarm
}

type metricAlarm struct {
	name, state, reason string
	fireAfter           int // describes left before ALARM; 0: never
	fireReason          string
}

func newAlarms(s *Server) *Alarms { return &Alarms{s: s, alarms: map[string]*metricAlarm{}} }

// Set creates or changes an alarm: state OK, ALARM or INSUFFICIENT_DATA.
func (x *Alarms) Set(name, state, reason string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.alarms[name] = &metricAlarm{name: name, state: state, reason: reason}
}

// FireAfter makes the alarm go to ALARM once it has been described n times.
func (x *Alarms) FireAfter(name string, n int, reason string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	a := x.alarms[name]
	if a == nil {
		a = &metricAlarm{name: name, state: "OK"}
		x.alarms[name] = a
	}
	a.fireAfter, a.fireReason = n, reason
}

// LambdaRules script, from outside the process (the sandbox's control
// endpoint), how the next function updates end and when alarms fire.
type LambdaRules struct {
	Updates []UpdateRule `json:"updates"`
	Alarms  []AlarmRule  `json:"alarms"`
}

// UpdateRule is how the next updates of one function end.
type UpdateRule struct {
	Function string `json:"function"`
	UpdateBehavior
}

// AlarmRule sets an alarm's state, or makes it fire after FireAfter describes.
type AlarmRule struct {
	Name      string `json:"name"`
	State     string `json:"state,omitempty"` // default OK
	FireAfter int    `json:"fireAfter,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// ScriptLambda applies rules: updates not named succeed, alarms not named
// keep their state.
func (s *Server) ScriptLambda(rules LambdaRules) error {
	byFunction := map[string]UpdateBehavior{}
	for i, u := range rules.Updates {
		if u.Function == "" {
			return fmt.Errorf("update rule %d: function is required", i)
		}
		byFunction[u.Function] = u.UpdateBehavior
	}
	for i, a := range rules.Alarms {
		switch a.State {
		case "", "OK", "ALARM", "INSUFFICIENT_DATA":
		default:
			return fmt.Errorf("alarm rule %d: state %q is not OK, ALARM or INSUFFICIENT_DATA", i, a.State)
		}
		if a.Name == "" {
			return fmt.Errorf("alarm rule %d: name is required", i)
		}
	}
	s.Lambda.OnUpdate(func(fn string) UpdateBehavior { return byFunction[fn] })
	for _, a := range rules.Alarms {
		s.Alarms.Set(a.Name, cmp.Or(a.State, "OK"), a.Reason)
		if a.FireAfter > 0 {
			s.Alarms.FireAfter(a.Name, a.FireAfter, a.Reason)
		}
	}
	return nil
}

const cloudWatchPath = "/service/GraniteServiceVersion20100801/operation/"

func (s *Server) serveCBOR(w http.ResponseWriter, r *http.Request, body []byte) {
	fail := func(e *APIError) {
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		w.Header().Set("Content-Type", "application/cbor")
		w.WriteHeader(e.Status)
		_, _ = w.Write(cbor.Encode(cbor.Map{"__type": cbor.String(e.Code), "message": cbor.String(e.Message)}))
	}
	if apiErr := s.verifySignature(r, body); apiErr != nil {
		fail(apiErr)
		return
	}
	op, ok := strings.CutPrefix(r.URL.Path, cloudWatchPath)
	s.record("monitoring", op, body)
	if !ok || op != "DescribeAlarms" {
		fail(clientError("UnknownOperationException", "%s is not simulated", r.URL.Path))
		return
	}
	var names []string
	if len(body) > 0 {
		v, err := cbor.Decode(body)
		in, isMap := v.(cbor.Map)
		if err != nil || !isMap {
			fail(clientError("SerializationException", "the body is not a CBOR map"))
			return
		}
		if list, ok := in["AlarmNames"].(cbor.List); ok {
			for _, n := range list {
				if str, ok := n.(cbor.String); ok {
					names = append(names, string(str))
				}
			}
		}
	}
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	_, _ = w.Write(cbor.Encode(cbor.Map{"MetricAlarms": s.Alarms.describe(names)}))
}

func (x *Alarms) describe(names []string) cbor.List {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := cbor.List{}
	for _, name := range names {
		a := x.alarms[name]
		if a == nil {
			continue // DescribeAlarms leaves out names it does not know
		}
		a.countObservation()
		out = append(out, cbor.Map{
			"AlarmName": cbor.String(a.name), "StateValue": cbor.String(a.state), "StateReason": cbor.String(a.reason),
			"AlarmArn": cbor.String("arn:aws:cloudwatch:" + x.s.opts.Region + ":" + x.s.opts.AccountID + ":alarm:" + a.name),
		})
	}
	return out
}

// countObservation counts one look at the alarm towards FireAfter.
func (a *metricAlarm) countObservation() {
	if a.fireAfter > 0 {
		if a.fireAfter--; a.fireAfter == 0 {
			a.state, a.reason = "ALARM", a.fireReason
		}
	}
}

// observe is ECS looking at an alarm it watches for a service deployment:
// it counts towards FireAfter as a DescribeAlarms does. An unknown alarm
// is INSUFFICIENT_DATA.
func (x *Alarms) observe(name string) string {
	x.mu.Lock()
	defer x.mu.Unlock()
	a := x.alarms[name]
	if a == nil {
		return "INSUFFICIENT_DATA"
	}
	a.countObservation()
	return a.state
}

// serveREST answers a REST-JSON service (Lambda): route gets the method,
// path, query and body and returns the status and the JSON to send.
func (s *Server) serveREST(w http.ResponseWriter, r *http.Request, body []byte, route func(method, path string, query url.Values, body []byte) (int, any, error)) {
	fail := func(e *APIError) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", e.Code)
		w.WriteHeader(e.Status)
		_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": e.Message})
	}
	if apiErr := s.verifySignature(r, body); apiErr != nil {
		fail(apiErr)
		return
	}
	s.record("lambda", lambdaOperation(r.Method, r.URL.Path), body)
	status, out, err := route(r.Method, r.URL.Path, r.URL.Query(), body)
	if err != nil {
		apiErr, ok := err.(*APIError)
		if !ok {
			apiErr = &APIError{Status: http.StatusInternalServerError, Code: "ServiceException", Message: err.Error()}
		}
		fail(apiErr)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(out)
}
