package awssim

import (
	"crypto/rand"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Secrets simulates the Secrets Manager calls esteira makes or that tests use
// to set up: CreateSecret, DescribeSecret, GetSecretValue and ListSecrets.
// Secrets are found by name, full ARN or partial ARN (without the random
// six-character suffix), as AWS finds them. Only the current version of a
// value is kept; older versions are forgotten.
type Secrets struct {
	s *Server

	mu      sync.Mutex
	secrets []*secret // in creation order
}

type secret struct {
	arn, name, description string
	value                  *string
	binary                 []byte
	versionID              string
	created, changed       time.Time
	tags                   []secretTag
}

type secretTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func newSecrets(s *Server) *Secrets { return &Secrets{s: s} }

// errSecretNotFound is AWS's answer for an unknown secret id.
func errSecretNotFound() *APIError {
	return clientError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
}

// Put creates the secret name holding value, or gives an existing one a new
// current value, and returns the secret's ARN.
func (x *Secrets) Put(name, value string) (arn string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	now := time.Now()
	if sec := x.byName(name); sec != nil {
		sec.value, sec.binary, sec.versionID, sec.changed = &value, nil, secretVersionID(), now
		return sec.arn
	}
	sec := x.create(name, now)
	sec.value = &value
	return sec.arn
}

// ARN returns the ARN of the secret called name, or "" when there is none.
func (x *Secrets) ARN(name string) string {
	x.mu.Lock()
	defer x.mu.Unlock()
	if sec := x.byName(name); sec != nil {
		return sec.arn
	}
	return ""
}

func (x *Secrets) create(name string, now time.Time) *secret {
	o := x.s.opts
	sec := &secret{
		arn:  fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", o.Region, o.AccountID, name, secretSuffix()),
		name: name, versionID: secretVersionID(), created: now, changed: now,
	}
	x.secrets = append(x.secrets, sec)
	return sec
}

func (x *Secrets) byName(name string) *secret {
	for _, sec := range x.secrets {
		if sec.name == name {
			return sec
		}
	}
	return nil
}

// find resolves a SecretId as AWS does: a full ARN, a partial ARN (the full
// ARN without "-" and the six random characters), or a name.
func (x *Secrets) find(id string) (*secret, error) {
	if id == "" {
		return nil, clientError("InvalidParameterException", "You must provide a value for the SecretId parameter.")
	}
	for _, sec := range x.secrets {
		if sec.arn == id || sec.name == id || sec.arn[:len(sec.arn)-7] == id {
			return sec, nil
		}
	}
	return nil, errSecretNotFound()
}

func (x *Secrets) handle(op string, body []byte) (any, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	switch op {
	case "CreateSecret":
		return x.createSecret(body)
	case "DescribeSecret":
		return x.describeSecret(body)
	case "GetSecretValue":
		return x.getSecretValue(body)
	case "ListSecrets":
		return x.listSecrets(body)
	}
	return nil, clientError("UnknownOperationException", "operation %s is not simulated", op)
}

var secretNameChars = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,512}$`)

func (x *Secrets) createSecret(body []byte) (any, error) {
	var in struct {
		Name, Description, SecretString string
		ClientRequestToken              string
		SecretBinary                    []byte
		Tags                            []secretTag
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if !secretNameChars.MatchString(in.Name) {
		return nil, clientError("InvalidParameterException", "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
	}
	if in.SecretString != "" && in.SecretBinary != nil {
		return nil, clientError("InvalidParameterException", "You can't specify both a binary secret value and a string secret value in the same secret.")
	}
	if x.byName(in.Name) != nil {
		return nil, clientError("ResourceExistsException", "The operation failed because the secret %s already exists.", in.Name)
	}
	sec := x.create(in.Name, time.Now())
	sec.description, sec.tags, sec.binary = in.Description, in.Tags, in.SecretBinary
	if in.ClientRequestToken != "" {
		sec.versionID = in.ClientRequestToken
	}
	if in.SecretBinary == nil {
		v := in.SecretString
		sec.value = &v
	}
	return map[string]any{"ARN": sec.arn, "Name": sec.name, "VersionId": sec.versionID}, nil
}

// secretEntry is a secret's metadata as DescribeSecret and ListSecrets return it.
type secretEntry struct {
	ARN                    string              `json:"ARN"`
	Name                   string              `json:"Name"`
	Description            string              `json:"Description,omitempty"`
	CreatedDate            float64             `json:"CreatedDate"`
	LastChangedDate        float64             `json:"LastChangedDate"`
	Tags                   []secretTag         `json:"Tags,omitempty"`
	VersionIdsToStages     map[string][]string `json:"VersionIdsToStages,omitempty"`
	SecretVersionsToStages map[string][]string `json:"SecretVersionsToStages,omitempty"`
}

func (sec *secret) entry() secretEntry {
	return secretEntry{
		ARN: sec.arn, Name: sec.name, Description: sec.description, Tags: sec.tags,
		CreatedDate: secretTime(sec.created), LastChangedDate: secretTime(sec.changed),
	}
}

func (x *Secrets) describeSecret(body []byte) (any, error) {
	var in struct{ SecretId string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	sec, err := x.find(in.SecretId)
	if err != nil {
		return nil, err
	}
	e := sec.entry()
	e.VersionIdsToStages = map[string][]string{sec.versionID: {"AWSCURRENT"}}
	return e, nil
}

func (x *Secrets) getSecretValue(body []byte) (any, error) {
	var in struct{ SecretId, VersionId, VersionStage string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	sec, err := x.find(in.SecretId)
	if err != nil {
		return nil, err
	}
	if in.VersionId != "" && in.VersionId != sec.versionID {
		return nil, clientError("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for VersionId: %s", in.VersionId)
	}
	if in.VersionStage != "" && in.VersionStage != "AWSCURRENT" {
		return nil, clientError("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: %s", in.VersionStage)
	}
	out := map[string]any{
		"ARN": sec.arn, "Name": sec.name, "VersionId": sec.versionID,
		"VersionStages": []string{"AWSCURRENT"}, "CreatedDate": secretTime(sec.changed),
	}
	if sec.value != nil {
		out["SecretString"] = *sec.value
	} else {
		out["SecretBinary"] = sec.binary // encoding/json writes base64, as the protocol wants
	}
	return out, nil
}

type secretFilter struct {
	Key    string   `json:"Key"`
	Values []string `json:"Values"`
}

func (x *Secrets) listSecrets(body []byte) (any, error) {
	var in struct {
		MaxResults int
		NextToken  string
		Filters    []secretFilter
		SortOrder  string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.MaxResults == 0 {
		in.MaxResults = 100
	}
	if in.MaxResults < 1 || in.MaxResults > 100 {
		return nil, clientError("InvalidParameterException", "MaxResults must be between 1 and 100.")
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(in.NextToken, "secrets/"))
		if err != nil || !strings.HasPrefix(in.NextToken, "secrets/") || n < 0 {
			return nil, clientError("InvalidNextTokenException", "The NextToken value is invalid.")
		}
		start = n
	}
	matched, err := x.filtered(in.Filters)
	if err != nil {
		return nil, err
	}
	if in.SortOrder == "desc" {
		slices.Reverse(matched)
	}
	out := struct {
		SecretList []secretEntry `json:"SecretList"`
		NextToken  string        `json:"NextToken,omitempty"`
	}{SecretList: []secretEntry{}}
	for i := start; i < len(matched) && i < start+in.MaxResults; i++ {
		e := matched[i].entry()
		e.SecretVersionsToStages = map[string][]string{matched[i].versionID: {"AWSCURRENT"}}
		out.SecretList = append(out.SecretList, e)
	}
	if start+in.MaxResults < len(matched) {
		out.NextToken = "secrets/" + strconv.Itoa(start+in.MaxResults)
	}
	return out, nil
}

// filtered applies ListSecrets filters: "name" and "all" match a prefix of
// the name (AWS matches prefixes of words; a name prefix is the case tests use).
func (x *Secrets) filtered(filters []secretFilter) ([]*secret, error) {
	var out []*secret
	for _, sec := range x.secrets {
		ok := true
		for _, f := range filters {
			switch f.Key {
			case "name", "all":
				ok = ok && slices.ContainsFunc(f.Values, func(v string) bool { return strings.HasPrefix(sec.name, v) })
			default:
				return nil, clientError("InvalidParameterException", "filter key %s is not simulated", f.Key)
			}
		}
		if ok {
			out = append(out, sec)
		}
	}
	return out, nil
}

func secretTime(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

const secretSuffixChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// secretSuffix returns the six random characters AWS appends to secret ARNs.
func secretSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = secretSuffixChars[int(b[i])%len(secretSuffixChars)]
	}
	return string(b)
}

func secretVersionID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
