package awssim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// lambdaPrefix is where the Lambda API's function resources live (API
// version 2015-03-31, REST-JSON).
const lambdaPrefix = "/2015-03-31/functions"

// maxZipUpload is the largest zip UpdateFunctionCode takes inline (50 MB).
const maxZipUpload = 50 << 20

// Lambda simulates what a release does to a function: its code updated
// (UpdateFunctionCode, a zip or a container image) and configuration
// (UpdateFunctionConfiguration: environment), LastUpdateStatus going from
// InProgress to Successful or Failed as GetFunction(Configuration) is
// polled, versions published (PublishVersion) and aliases moved, with
// weighted routing (Get/Create/UpdateAlias). An update in progress refuses
// another one with ResourceConflictException, as Lambda does.
type Lambda struct {
	s *Server

	mu        sync.Mutex
	functions map[string]*function
	onUpdate  func(function string) UpdateBehavior
}

// UpdateBehavior is how the next code or configuration update of a
// function ends.
type UpdateBehavior struct {
	// Steps is how many polls it stays InProgress for (0: one).
	Steps int `json:"steps,omitempty"`
	// Fail, when set, ends it Failed with this LastUpdateStatusReason.
	Fail string `json:"fail,omitempty"`
}

type function struct {
	name, packageType, role, runtime, handler string
	latest                                    codeConfig
	status, reason                            string
	stepsLeft                                 int
	fail                                      string
	revision                                  int
	versions                                  []codeConfig // versions[i] is version i+1
	aliases                                   map[string]*alias
}

// codeConfig is what a version freezes: code and environment.
type codeConfig struct {
	sha256   string
	size     int64
	imageURI string
	env      map[string]string
}

type alias struct {
	name, version string
	weights       map[string]float64
	revision      int
}

func newLambda(s *Server) *Lambda {
	return &Lambda{s: s, functions: map[string]*function{}}
}

// AddFunction creates a function ("Zip" or "Image" package type) with
// version 1 published from its initial code and alias "live" on it.
func (x *Lambda) AddFunction(name, packageType string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	f := &function{name: name, packageType: packageType, role: "arn:aws:iam::" + x.s.opts.AccountID + ":role/" + name,
		status: "Successful", aliases: map[string]*alias{}}
	if packageType == "Image" {
		f.latest = codeConfig{imageURI: x.s.opts.AccountID + ".dkr.ecr." + x.s.opts.Region + ".amazonaws.com/" + name + ":initial"}
		f.latest.sha256 = digest([]byte(f.latest.imageURI))
	} else {
		f.runtime, f.handler = "provided.al2023", "bootstrap"
		f.latest = codeConfig{sha256: digest([]byte("initial")), size: 7}
	}
	f.versions = append(f.versions, f.latest)
	f.aliases["live"] = &alias{name: "live", version: "1"}
	x.functions[name] = f
}

// OnUpdate sets how code and configuration updates end, given the function.
func (x *Lambda) OnUpdate(f func(function string) UpdateBehavior) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.onUpdate = f
}

// Alias returns the version an alias points at and its additional weights.
func (x *Lambda) Alias(function, name string) (string, map[string]float64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	f := x.functions[function]
	if f == nil || f.aliases[name] == nil {
		return "", nil
	}
	a := f.aliases[name]
	return a.version, maps.Clone(a.weights)
}

// Versions returns how many versions of the function are published.
func (x *Lambda) Versions(function string) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	if f := x.functions[function]; f != nil {
		return len(f.versions)
	}
	return 0
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// route answers one Lambda request: the status, the JSON body, or an error.
func (x *Lambda) route(method, path string, query url.Values, body []byte) (int, any, error) {
	rest := strings.Trim(strings.TrimPrefix(path, lambdaPrefix), "/")
	parts := strings.Split(rest, "/")
	name, err := url.PathUnescape(parts[0])
	if err != nil || name == "" {
		return 0, nil, clientError("InvalidParameterValueException", "function name is missing")
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	f := x.functions[name]
	if f == nil {
		return 0, nil, notFound("ResourceNotFoundException", "Function not found: %s", x.arn(name, ""))
	}
	switch op := method + " " + strings.Join(parts[1:], "/"); {
	case op == "GET ":
		return x.getFunction(f, query.Get("Qualifier"))
	case op == "GET configuration":
		cfg, err := x.configOf(f, query.Get("Qualifier"))
		return http.StatusOK, cfg, err
	case op == "PUT code":
		return x.updateCode(f, body)
	case op == "PUT configuration":
		return x.updateConfiguration(f, body)
	case op == "POST versions":
		return x.publish(f, body)
	case op == "POST aliases":
		return x.createAlias(f, body)
	case method == http.MethodGet && len(parts) == 3 && parts[1] == "aliases":
		a := f.aliases[parts[2]]
		if a == nil {
			return 0, nil, notFound("ResourceNotFoundException", "Alias not found: %s", x.arn(f.name, parts[2]))
		}
		return http.StatusOK, x.aliasView(f, a), nil
	case method == http.MethodPut && len(parts) == 3 && parts[1] == "aliases":
		return x.updateAlias(f, parts[2], body)
	}
	return 0, nil, clientError("UnknownOperationException", "%s %s is not simulated", method, path)
}

// lambdaOperation names a Lambda request as the API reference does, for
// Server.Count: "UpdateFunctionCode", "UpdateAlias"...
func lambdaOperation(method, path string) string {
	parts := strings.Split(strings.Trim(strings.TrimPrefix(path, lambdaPrefix), "/"), "/")
	key := method + " " + strings.Join(parts[min(1, len(parts)):min(2, len(parts))], "")
	if len(parts) == 3 {
		key += "/"
	}
	return map[string]string{
		"GET ": "GetFunction", "GET configuration": "GetFunctionConfiguration", "PUT code": "UpdateFunctionCode",
		"PUT configuration": "UpdateFunctionConfiguration", "POST versions": "PublishVersion", "POST aliases": "CreateAlias",
		"GET aliases/": "GetAlias", "PUT aliases/": "UpdateAlias",
	}[key]
}

func (x *Lambda) arn(name, qualifier string) string {
	a := "arn:aws:lambda:" + x.s.opts.Region + ":" + x.s.opts.AccountID + ":function:" + name
	if qualifier != "" {
		a += ":" + qualifier
	}
	return a
}

// poll moves an update in progress one step, as time passing would.
func (f *function) poll() {
	if f.status != "InProgress" {
		return
	}
	if f.stepsLeft--; f.stepsLeft > 0 {
		return
	}
	f.status, f.reason = "Successful", ""
	if f.fail != "" {
		f.status, f.reason = "Failed", f.fail
	}
}

func (x *Lambda) configOf(f *function, qualifier string) (map[string]any, error) {
	f.poll()
	version, cc := "$LATEST", f.latest
	if qualifier != "" && qualifier != "$LATEST" {
		if a := f.aliases[qualifier]; a != nil {
			qualifier = a.version
		}
		n, err := strconv.Atoi(qualifier)
		if err != nil || n < 1 || n > len(f.versions) {
			return nil, notFound("ResourceNotFoundException", "Function not found: %s", x.arn(f.name, qualifier))
		}
		version, cc = qualifier, f.versions[n-1]
	}
	cfg := map[string]any{
		"FunctionName": f.name, "FunctionArn": x.arn(f.name, map[bool]string{true: "", false: version}[version == "$LATEST"]),
		"Role": f.role, "PackageType": f.packageType, "Version": version, "State": "Active",
		"CodeSha256": cc.sha256, "CodeSize": cc.size, "LastModified": time.Now().UTC().Format("2006-01-02T15:04:05.000-0700"),
		"RevisionId": strconv.Itoa(f.revision), "Environment": map[string]any{"Variables": nonNilMap(cc.env)},
	}
	if f.packageType == "Zip" {
		cfg["Runtime"], cfg["Handler"] = f.runtime, f.handler
	}
	if version == "$LATEST" {
		cfg["LastUpdateStatus"] = f.status
		if f.reason != "" {
			cfg["LastUpdateStatusReason"], cfg["LastUpdateStatusReasonCode"] = f.reason, "InternalError"
		}
	} else {
		cfg["LastUpdateStatus"] = "Successful"
	}
	return cfg, nil
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func (x *Lambda) getFunction(f *function, qualifier string) (int, any, error) {
	cfg, err := x.configOf(f, qualifier)
	if err != nil {
		return 0, nil, err
	}
	code := map[string]any{"RepositoryType": "S3", "Location": "https://awslambda-" + x.s.opts.Region + "-tasks.s3.amazonaws.com/snapshots/" + f.name}
	if f.packageType == "Image" {
		image := f.latest.imageURI // the qualified version's own image
		if v, ok := cfg["Version"].(string); ok && v != "$LATEST" {
			n, _ := strconv.Atoi(v)
			image = f.versions[n-1].imageURI
		}
		code = map[string]any{"RepositoryType": "ECR", "ImageUri": image, "ResolvedImageUri": image}
	}
	return http.StatusOK, map[string]any{"Configuration": cfg, "Code": code}, nil
}

// startUpdate checks no update is in progress and starts one.
func (x *Lambda) startUpdate(f *function) error {
	f.poll()
	if f.status == "InProgress" {
		return &APIError{Status: http.StatusConflict, Code: "ResourceConflictException",
			Message: "The operation cannot be performed at this time. An update is in progress for resource: " + x.arn(f.name, "")}
	}
	var b UpdateBehavior
	if x.onUpdate != nil {
		b = x.onUpdate(f.name)
	}
	f.status, f.reason, f.stepsLeft, f.fail = "InProgress", "", max(b.Steps, 1), b.Fail
	f.revision++
	return nil
}

func (x *Lambda) updateCode(f *function, body []byte) (int, any, error) {
	var in struct {
		ZipFile  []byte
		ImageUri string
		Publish  bool
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return 0, nil, clientError("InvalidParameterValueException", "could not read the request: %v", err)
	}
	switch {
	case f.packageType == "Image" && in.ImageUri == "":
		return 0, nil, clientError("InvalidParameterValueException", "Please provide ImageUri when updating a function with packageType Image.")
	case f.packageType == "Zip" && in.ImageUri != "":
		return 0, nil, clientError("InvalidParameterValueException", "Please don't provide ImageUri when updating a function with packageType Zip.")
	case f.packageType == "Zip" && len(in.ZipFile) == 0:
		return 0, nil, clientError("InvalidParameterValueException", "Please provide a source for function code.")
	case len(in.ZipFile) > maxZipUpload:
		return 0, nil, &APIError{Status: http.StatusRequestEntityTooLarge, Code: "RequestEntityTooLargeException", Message: "Request must be smaller than 69905067 bytes for the UpdateFunctionCode operation"}
	}
	if err := x.startUpdate(f); err != nil {
		return 0, nil, err
	}
	if in.ImageUri != "" {
		f.latest.imageURI, f.latest.sha256, f.latest.size = in.ImageUri, digest([]byte(in.ImageUri)), 0
	} else {
		f.latest.sha256, f.latest.size = digest(in.ZipFile), int64(len(in.ZipFile))
	}
	cfg, err := x.configOf(f, "")
	return http.StatusOK, cfg, err
}

func (x *Lambda) updateConfiguration(f *function, body []byte) (int, any, error) {
	var in struct {
		Environment *struct{ Variables map[string]string }
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return 0, nil, clientError("InvalidParameterValueException", "could not read the request: %v", err)
	}
	if err := x.startUpdate(f); err != nil {
		return 0, nil, err
	}
	if in.Environment != nil {
		f.latest.env = maps.Clone(in.Environment.Variables)
	}
	cfg, err := x.configOf(f, "")
	return http.StatusOK, cfg, err
}

// publish freezes $LATEST as a new version, or returns the last version
// when nothing changed since it (as Lambda does). A CodeSha256 that is not
// $LATEST's is refused, as Lambda refuses it.
func (x *Lambda) publish(f *function, body []byte) (int, any, error) {
	var in struct{ CodeSha256 string }
	_ = json.Unmarshal(body, &in)
	f.poll()
	if in.CodeSha256 != "" && f.status != "InProgress" && in.CodeSha256 != f.latest.sha256 {
		return 0, nil, &APIError{Status: http.StatusPreconditionFailed, Code: "PreconditionFailedException",
			Message: "CodeSHA256 (" + in.CodeSha256 + ") is different from current CodeSHA256 in $LATEST (" + f.latest.sha256 + "). Please try again with the CodeSHA256 in $LATEST."}
	}
	switch f.status {
	case "InProgress":
		return 0, nil, &APIError{Status: http.StatusConflict, Code: "ResourceConflictException",
			Message: "The operation cannot be performed at this time. An update is in progress for resource: " + x.arn(f.name, "")}
	case "Failed":
		return 0, nil, clientError("InvalidParameterValueException", "The function's last update failed (%s): there is nothing to publish", f.reason)
	}
	last := f.versions[len(f.versions)-1]
	if last.sha256 != f.latest.sha256 || last.imageURI != f.latest.imageURI || !maps.Equal(last.env, f.latest.env) {
		cc := f.latest
		cc.env = maps.Clone(f.latest.env)
		f.versions = append(f.versions, cc)
	}
	cfg, err := x.configOf(f, strconv.Itoa(len(f.versions)))
	return http.StatusCreated, cfg, err
}

type aliasInput struct {
	Name            string
	FunctionVersion string
	RoutingConfig   *struct {
		AdditionalVersionWeights map[string]float64
	}
}

func (x *Lambda) checkAlias(f *function, in aliasInput) error {
	published := func(v string) bool {
		n, err := strconv.Atoi(v)
		return err == nil && n >= 1 && n <= len(f.versions)
	}
	if !published(in.FunctionVersion) {
		return notFound("ResourceNotFoundException", "Function not found: %s", x.arn(f.name, in.FunctionVersion))
	}
	if in.RoutingConfig != nil {
		if len(in.RoutingConfig.AdditionalVersionWeights) > 1 {
			return clientError("InvalidParameterValueException", "Number of items in AdditionalVersionWeights cannot be greater than 1")
		}
		for v, w := range in.RoutingConfig.AdditionalVersionWeights {
			switch {
			case !published(v):
				return notFound("ResourceNotFoundException", "Function not found: %s", x.arn(f.name, v))
			case v == in.FunctionVersion:
				return clientError("InvalidParameterValueException", "Invalid function version %s. Function version %s is already included in routing configuration.", v, v)
			case w < 0 || w > 1:
				return clientError("ValidationException", "1 validation error detected: Value at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]")
			}
		}
	}
	return nil
}

func (x *Lambda) createAlias(f *function, body []byte) (int, any, error) {
	var in aliasInput
	if err := json.Unmarshal(body, &in); err != nil || in.Name == "" {
		return 0, nil, clientError("InvalidParameterValueException", "could not read the request: give Name and FunctionVersion")
	}
	if f.aliases[in.Name] != nil {
		return 0, nil, &APIError{Status: http.StatusConflict, Code: "ResourceConflictException", Message: "Alias already exists: " + x.arn(f.name, in.Name)}
	}
	if err := x.checkAlias(f, in); err != nil {
		return 0, nil, err
	}
	a := &alias{name: in.Name, version: in.FunctionVersion}
	if in.RoutingConfig != nil {
		a.weights = maps.Clone(in.RoutingConfig.AdditionalVersionWeights)
	}
	f.aliases[in.Name] = a
	return http.StatusCreated, x.aliasView(f, a), nil
}

func (x *Lambda) updateAlias(f *function, name string, body []byte) (int, any, error) {
	a := f.aliases[name]
	if a == nil {
		return 0, nil, notFound("ResourceNotFoundException", "Alias not found: %s", x.arn(f.name, name))
	}
	var in aliasInput
	if err := json.Unmarshal(body, &in); err != nil {
		return 0, nil, clientError("InvalidParameterValueException", "could not read the request: %v", err)
	}
	if in.FunctionVersion == "" {
		in.FunctionVersion = a.version
	}
	if err := x.checkAlias(f, in); err != nil {
		return 0, nil, err
	}
	a.version = in.FunctionVersion
	if in.RoutingConfig != nil {
		a.weights = maps.Clone(in.RoutingConfig.AdditionalVersionWeights)
	}
	a.revision++
	return http.StatusOK, x.aliasView(f, a), nil
}

func (x *Lambda) aliasView(f *function, a *alias) map[string]any {
	out := map[string]any{"AliasArn": x.arn(f.name, a.name), "Name": a.name, "FunctionVersion": a.version, "RevisionId": fmt.Sprint(a.revision)}
	if len(a.weights) > 0 {
		out["RoutingConfig"] = map[string]any{"AdditionalVersionWeights": a.weights}
	}
	return out
}
