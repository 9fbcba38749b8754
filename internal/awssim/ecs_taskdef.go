package awssim

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// taskDef is one registered revision. The request is kept verbatim and the
// read-only fields are added when it is described.
type taskDef struct {
	family         string
	revision       int32
	arn            string
	request        map[string]json.RawMessage
	tags           []tag
	status         string
	registeredAt   time.Time
	deregisteredAt time.Time
	containers     []containerDef
	networkMode    string
	fargate        bool
}

type containerDef struct {
	Name             string            `json:"name"`
	Image            string            `json:"image"`
	Essential        *bool             `json:"essential"`
	Secrets          []json.RawMessage `json:"secrets"`
	LogConfiguration *struct {
		LogDriver string            `json:"logDriver"`
		Options   map[string]string `json:"options"`
	} `json:"logConfiguration"`
}

// awslogs returns the log group and stream prefix of an awslogs container.
func (c containerDef) awslogs() (group, prefix string, ok bool) {
	if c.LogConfiguration == nil || c.LogConfiguration.LogDriver != "awslogs" {
		return "", "", false
	}
	o := c.LogConfiguration.Options
	return o["awslogs-group"], o["awslogs-stream-prefix"], o["awslogs-group"] != ""
}

type registerTaskDefinitionInput struct {
	Family                  string         `json:"family"`
	ContainerDefinitions    []containerDef `json:"containerDefinitions"`
	NetworkMode             string         `json:"networkMode"`
	RequiresCompatibilities []string       `json:"requiresCompatibilities"`
	CPU                     string         `json:"cpu"`
	Memory                  string         `json:"memory"`
	ExecutionRoleArn        string         `json:"executionRoleArn"`
	Tags                    []tag          `json:"tags"`
}

type registerTaskDefinitionOutput struct {
	TaskDefinition map[string]any `json:"taskDefinition"`
	Tags           []tag          `json:"tags,omitempty"`
}

func (x *ECS) registerTaskDefinition(body []byte) (any, error) {
	var in registerTaskDefinitionInput
	var raw map[string]json.RawMessage
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := decode(body, &raw); err != nil {
		return nil, err
	}
	if err := validateTaskDef(in); err != nil {
		return nil, err
	}
	delete(raw, "tags")
	revs := x.families[in.Family]
	td := &taskDef{
		family: in.Family, revision: int32(len(revs) + 1), request: raw, tags: in.Tags,
		status: "ACTIVE", registeredAt: x.now(), containers: in.ContainerDefinitions,
		networkMode: in.NetworkMode, fargate: slices.Contains(in.RequiresCompatibilities, "FARGATE"),
	}
	td.arn = x.arn("task-definition/" + td.family + ":" + strconv.Itoa(int(td.revision)))
	x.families[in.Family] = append(revs, td)
	return registerTaskDefinitionOutput{TaskDefinition: x.renderTaskDef(td), Tags: td.tags}, nil
}

func validateTaskDef(in registerTaskDefinitionInput) error {
	if in.Family == "" {
		return clientError("ClientException", "Family must be specified.")
	}
	if len(in.ContainerDefinitions) == 0 {
		return clientError("ClientException", "Container list cannot be empty.")
	}
	for _, c := range in.ContainerDefinitions {
		if c.Name == "" {
			return clientError("ClientException", "Container.name should not be null or empty.")
		}
		if c.Image == "" {
			return clientError("ClientException", "Container.image should not be null or empty.")
		}
		if len(c.Secrets) > 0 && in.ExecutionRoleArn == "" {
			return clientError("ClientException", "When you are specifying container secrets, you must also specify a value for 'executionRoleArn'.")
		}
	}
	if !slices.Contains(in.RequiresCompatibilities, "FARGATE") {
		return nil
	}
	if in.NetworkMode != "awsvpc" {
		return clientError("ClientException", "Fargate only supports network mode 'awsvpc'.")
	}
	if in.CPU == "" || in.Memory == "" {
		return clientError("ClientException", "Fargate requires that 'cpu' and 'memory' be defined at the task level.")
	}
	for _, c := range in.ContainerDefinitions {
		if _, _, ok := c.awslogs(); ok && in.ExecutionRoleArn == "" {
			return clientError("ClientException", "Fargate requires task definition to have execution role ARN to support log driver awslogs.")
		}
	}
	return nil
}

// renderTaskDef returns the stored request plus the read-only fields.
func (x *ECS) renderTaskDef(td *taskDef) map[string]any {
	out := map[string]any{}
	for k, v := range td.request {
		out[k] = v
	}
	out["taskDefinitionArn"] = td.arn
	out["family"] = td.family
	out["revision"] = td.revision
	out["status"] = td.status
	out["registeredAt"] = at(td.registeredAt)
	out["registeredBy"] = "arn:aws:iam::" + x.s.opts.AccountID + ":user/esteira-deployer"
	if !td.deregisteredAt.IsZero() {
		out["deregisteredAt"] = at(td.deregisteredAt)
	}
	compat := []string{"EC2"}
	if td.fargate {
		compat = append(compat, "FARGATE")
	}
	out["compatibilities"] = compat
	out["requiresAttributes"] = requiresAttributes(td)
	return out
}

func requiresAttributes(td *taskDef) []map[string]string {
	attrs := map[string]bool{}
	for _, c := range td.containers {
		if _, _, ok := c.awslogs(); ok {
			attrs["com.amazonaws.ecs.capability.logging-driver.awslogs"] = true
			attrs["ecs.capability.execution-role-awslogs"] = true
		}
		if len(c.Secrets) > 0 {
			attrs["ecs.capability.secrets.asm.environment-variables"] = true
		}
	}
	if td.networkMode == "awsvpc" {
		attrs["ecs.capability.task-eni"] = true
	}
	out := []map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		out = append(out, map[string]string{"name": name})
	}
	return out
}

// lookupTaskDef resolves an ARN, family:revision or family (latest ACTIVE).
func (x *ECS) lookupTaskDef(ref string) *taskDef {
	if strings.HasPrefix(ref, "arn:") {
		if !strings.HasPrefix(ref, x.arn("task-definition/")) {
			return nil
		}
		ref = lastSegment(ref)
	}
	family, rev, hasRev := strings.Cut(ref, ":")
	revs := x.families[family]
	if !hasRev {
		for i := len(revs) - 1; i >= 0; i-- {
			if revs[i].status == "ACTIVE" {
				return revs[i]
			}
		}
		return nil
	}
	n, err := strconv.Atoi(rev)
	if err != nil || n < 1 || n > len(revs) {
		return nil
	}
	return revs[n-1]
}

// usableTaskDef resolves a task definition that new tasks may use.
func (x *ECS) usableTaskDef(ref string) (*taskDef, error) {
	if ref == "" {
		return nil, clientError("InvalidParameterException", "TaskDefinition can not be blank.")
	}
	td := x.lookupTaskDef(ref)
	if td == nil {
		return nil, clientError("InvalidParameterException", "TaskDefinition not found.")
	}
	if td.status != "ACTIVE" {
		return nil, clientError("ClientException", "TaskDefinition is inactive")
	}
	return td, nil
}

func (x *ECS) describeTaskDefinition(body []byte) (any, error) {
	var in struct {
		TaskDefinition string   `json:"taskDefinition"`
		Include        []string `json:"include"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	td := x.lookupTaskDef(in.TaskDefinition)
	if td == nil {
		return nil, clientError("ClientException", "Unable to describe task definition.")
	}
	out := registerTaskDefinitionOutput{TaskDefinition: x.renderTaskDef(td)}
	if slices.Contains(in.Include, "TAGS") {
		out.Tags = append([]tag{}, td.tags...)
	}
	return out, nil
}

func (x *ECS) deregisterTaskDefinition(body []byte) (any, error) {
	var in struct {
		TaskDefinition string `json:"taskDefinition"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if !strings.Contains(lastSegment(in.TaskDefinition), ":") {
		return nil, clientError("ClientException", "Invalid revision number. Number: %s", in.TaskDefinition)
	}
	td := x.lookupTaskDef(in.TaskDefinition)
	if td == nil {
		return nil, clientError("ClientException", "The specified task definition does not exist.")
	}
	if td.status == "ACTIVE" {
		td.status = "INACTIVE"
		td.deregisteredAt = x.now()
	}
	return map[string]any{"taskDefinition": x.renderTaskDef(td)}, nil
}

func (x *ECS) listTaskDefinitions(body []byte) (any, error) {
	var in struct {
		FamilyPrefix string `json:"familyPrefix"`
		Status       string `json:"status"`
		Sort         string `json:"sort"`
		NextToken    string `json:"nextToken"`
		MaxResults   int32  `json:"maxResults"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Status == "" {
		in.Status = "ACTIVE"
	}
	var arns []string
	for _, family := range slices.Sorted(maps.Keys(x.families)) {
		if in.FamilyPrefix != "" && family != in.FamilyPrefix {
			continue
		}
		for _, td := range x.families[family] {
			if td.status == in.Status {
				arns = append(arns, td.arn)
			}
		}
	}
	if in.Sort == "DESC" {
		slices.Reverse(arns)
	}
	items, next, err := page(arns, in.NextToken, in.MaxResults, 100)
	if err != nil {
		return nil, err
	}
	return struct {
		TaskDefinitionArns []string `json:"taskDefinitionArns"`
		NextToken          string   `json:"nextToken,omitempty"`
	}{nonNil(items), next}, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
