package secrets

import (
	"fmt"
	"strings"
)

// Reference is one entry of an ECS container definition's secrets list.
type Reference struct {
	Container string // the container's name; may be empty
	Name      string // secrets[].name, the environment variable; may be empty
	ValueFrom string // secrets[].valueFrom
}

// label names the reference in messages, e.g. `container "app" secret DB_URL`.
func (r Reference) label(index int) string {
	field := fmt.Sprintf("secrets[%d].valueFrom", index)
	if r.Name != "" {
		field = "secret " + r.Name
	}
	if r.Container != "" {
		return fmt.Sprintf("container %q %s", r.Container, field)
	}
	return field
}

// source says where a valueFrom points.
type source int

const (
	// sourceInvalid is a valueFrom that is neither a Secrets Manager ARN nor a parameter.
	sourceInvalid source = iota
	// sourceSecretsManager is a Secrets Manager secret ARN.
	sourceSecretsManager
	// sourceParameterStore is an SSM Parameter Store ARN or parameter name.
	sourceParameterStore
)

// target is a parsed valueFrom.
type target struct {
	source       source
	secretID     string // the secret's ARN without ECS's :json-key:version-stage:version-id suffix
	jsonKey      string
	versionStage string
	versionID    string
	invalid      string // why the valueFrom is invalid
}

// parse splits an ECS valueFrom. Secrets Manager ARNs may carry ECS's suffix
// arn:aws:secretsmanager:region:account:secret:name-AbCdEf:json-key:version-stage:version-id.
func parse(valueFrom string) target {
	switch {
	case strings.TrimSpace(valueFrom) == "":
		return target{invalid: "valueFrom is empty"}
	case !strings.HasPrefix(valueFrom, "arn:"):
		return target{source: sourceParameterStore} // a parameter name in the task's region
	}
	parts := strings.Split(valueFrom, ":")
	if len(parts) < 6 {
		return target{invalid: fmt.Sprintf("%q is not a complete ARN", valueFrom)}
	}
	switch parts[2] {
	case "ssm":
		return target{source: sourceParameterStore}
	case "secretsmanager":
	default:
		return target{invalid: fmt.Sprintf("%q is neither a Secrets Manager secret ARN nor an SSM parameter", valueFrom)}
	}
	if parts[5] != "secret" || len(parts) < 7 || parts[6] == "" {
		return target{invalid: fmt.Sprintf("%q is not a Secrets Manager secret ARN (arn:aws:secretsmanager:region:account:secret:name)", valueFrom)}
	}
	if len(parts) > 10 {
		return target{invalid: fmt.Sprintf("%q has more than json-key:version-stage:version-id after the secret ARN", valueFrom)}
	}
	parts = append(parts, "", "", "")
	return target{
		source:       sourceSecretsManager,
		secretID:     strings.Join(parts[:7], ":"),
		jsonKey:      parts[7],
		versionStage: parts[8],
		versionID:    parts[9],
	}
}
