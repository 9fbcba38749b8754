package awssim

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Parameters simulates the SSM Parameter Store calls esteira makes or that
// tests use to set up: PutParameter and GetParameters (AWS Systems Manager
// API reference). GetParameters finds a parameter by name, by name with a
// :version selector, or by ARN, lists the names it cannot find in
// InvalidParameters (not an error, as AWS does), and never decrypts a
// SecureString unless asked: its Value is then the ciphertext.
type Parameters struct {
	s *Server

	mu     sync.Mutex
	params map[string]*parameter // by name
}

type parameter struct {
	name, typ, value string
	version          int64
	changed          time.Time
}

func newParameters(s *Server) *Parameters {
	return &Parameters{s: s, params: map[string]*parameter{}}
}

// Put creates the parameter name (a String, or a SecureString when secure)
// or gives it a new version, and returns its ARN.
func (x *Parameters) Put(name, value string, secure bool) (arn string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	typ := "String"
	if secure {
		typ = "SecureString"
	}
	x.put(name, value, typ)
	return x.arn(name)
}

func (x *Parameters) put(name, value, typ string) *parameter {
	p := x.params[name]
	if p == nil {
		p = &parameter{name: name}
		x.params[name] = p
	}
	p.typ, p.value, p.changed = typ, value, time.Now()
	p.version++
	return p
}

// arn is the parameter's ARN: a name that starts with / has no second
// slash before it ("parameter/prod/db"), others get one ("parameter/db").
func (x *Parameters) arn(name string) string {
	o := x.s.opts
	return fmt.Sprintf("arn:aws:ssm:%s:%s:parameter/%s", o.Region, o.AccountID, strings.TrimPrefix(name, "/"))
}

func (x *Parameters) handle(op string, body []byte) (any, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	switch op {
	case "PutParameter":
		return x.putParameter(body)
	case "GetParameters":
		return x.getParameters(body)
	}
	return nil, clientError("UnknownOperationException", "operation %s is not simulated", op)
}

var parameterName = regexp.MustCompile(`^/?[A-Za-z0-9_.\-/]+$`) // at most 2048 characters, checked beside it

func (x *Parameters) putParameter(body []byte) (any, error) {
	var in struct {
		Name, Value, Type, Description string
		Overwrite                      bool
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	switch {
	case len(in.Name) > 2048 || !parameterName.MatchString(in.Name) || strings.Contains(in.Name, "//"):
		return nil, clientError("ValidationException", "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol \"/\". Valid example: /get/parameters2-/by1./path0_.")
	case strings.Contains(in.Name, "/") && !strings.HasPrefix(in.Name, "/"):
		return nil, clientError("ValidationException", "Parameter name must be a fully qualified name.")
	case in.Value == "":
		return nil, clientError("ValidationException", "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if in.Type == "" {
		in.Type = "String"
	}
	if in.Type != "String" && in.Type != "StringList" && in.Type != "SecureString" {
		return nil, clientError("ValidationException", "1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]", in.Type)
	}
	if x.params[in.Name] != nil && !in.Overwrite {
		return nil, clientError("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
	}
	p := x.put(in.Name, in.Value, in.Type)
	return map[string]any{"Version": p.version, "Tier": "Standard"}, nil
}

// getParameters answers at most 10 names; each may carry a :version
// selector. Unknown names, unknown versions and labels (not simulated)
// go to InvalidParameters.
func (x *Parameters) getParameters(body []byte) (any, error) {
	var in struct {
		Names          []string
		WithDecryption bool
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.Names) < 1 || len(in.Names) > 10 {
		return nil, clientError("ValidationException", "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1")
	}
	type entry struct {
		ARN              string  `json:"ARN"`
		DataType         string  `json:"DataType"`
		LastModifiedDate float64 `json:"LastModifiedDate"`
		Name             string  `json:"Name"`
		Selector         string  `json:"Selector,omitempty"`
		Type             string  `json:"Type"`
		Value            string  `json:"Value"`
		Version          int64   `json:"Version"`
	}
	out := struct {
		Parameters        []entry  `json:"Parameters"`
		InvalidParameters []string `json:"InvalidParameters"`
	}{Parameters: []entry{}, InvalidParameters: []string{}}
	for _, asked := range in.Names {
		p, selector := x.find(asked)
		if p == nil {
			out.InvalidParameters = append(out.InvalidParameters, asked)
			continue
		}
		value := p.value
		if p.typ == "SecureString" && !in.WithDecryption {
			value = base64.StdEncoding.EncodeToString([]byte("awssim-kms:" + p.name)) // the ciphertext, never the value
		}
		out.Parameters = append(out.Parameters, entry{
			ARN: x.arn(p.name), DataType: "text", LastModifiedDate: secretTime(p.changed), Name: p.name,
			Selector: selector, Type: p.typ, Value: value, Version: p.version,
		})
	}
	return out, nil
}

// find resolves a name, name:version or ARN; a version other than the
// current one is unknown (older versions are not kept).
func (x *Parameters) find(asked string) (*parameter, string) {
	name, selector := asked, ""
	if rest, ok := strings.CutPrefix(asked, "arn:"); ok {
		_, path, found := strings.Cut(rest, ":parameter/")
		if !found {
			return nil, ""
		}
		name = path
		if x.params[name] == nil {
			name = "/" + path
		}
	}
	if i := strings.LastIndex(name, ":"); i >= 0 {
		name, selector = name[:i], name[i:]
	}
	p := x.params[name]
	if p == nil || (selector != "" && selector != fmt.Sprintf(":%d", p.version)) {
		return nil, ""
	}
	return p, selector
}
