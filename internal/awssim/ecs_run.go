package awssim

import (
	"encoding/json"
	"slices"
)

type networkConfiguration struct {
	AwsvpcConfiguration *struct {
		Subnets        []string `json:"subnets"`
		SecurityGroups []string `json:"securityGroups,omitempty"`
		AssignPublicIP string   `json:"assignPublicIp,omitempty"`
	} `json:"awsvpcConfiguration,omitempty"`
}

type runTaskInput struct {
	Cluster                  string                 `json:"cluster"`
	TaskDefinition           string                 `json:"taskDefinition"`
	Count                    int32                  `json:"count"`
	ClientToken              string                 `json:"clientToken"`
	LaunchType               string                 `json:"launchType"`
	CapacityProviderStrategy []CapacityProviderItem `json:"capacityProviderStrategy"`
	NetworkConfiguration     *networkConfiguration  `json:"networkConfiguration"`
	Overrides                json.RawMessage        `json:"overrides"`
	StartedBy                string                 `json:"startedBy"`
	Group                    string                 `json:"group"`
	Tags                     []tag                  `json:"tags"`
}

type containerOverrides struct {
	ContainerOverrides []struct {
		Name    string   `json:"name"`
		Command []string `json:"command"`
	} `json:"containerOverrides"`
}

func (x *ECS) runTask(body []byte) (any, error) {
	var in runTaskInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, err := x.lookupCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	if done, ok := x.tokens[in.ClientToken]; ok && in.ClientToken != "" {
		if done.request != string(body) {
			return nil, clientError("InvalidParameterException", "The clientToken %s was already used with different parameters.", in.ClientToken)
		}
		return x.runTaskOutput(done.arns), nil
	}
	td, call, err := x.validateRunTask(in)
	if err != nil {
		return nil, err
	}
	b := TaskBehavior{}
	if x.onRunTask != nil {
		b = x.onRunTask(call)
	}
	count := max(in.Count, 1)
	arns := make([]string, 0, count)
	for range count {
		t := x.newTask(c, td, b)
		t.StartedBy, t.Group, t.Tags = in.StartedBy, call.Group, in.Tags
		t.Overrides = in.Overrides
		setPlacement(t, in.LaunchType, in.CapacityProviderStrategy)
		arns = append(arns, t.TaskArn)
	}
	if in.ClientToken != "" {
		x.tokens[in.ClientToken] = runTaskDone{request: string(body), arns: arns}
	}
	return x.runTaskOutput(arns), nil
}

// validateRunTask checks the request as ECS does before anything starts.
func (x *ECS) validateRunTask(in runTaskInput) (*taskDef, RunTaskCall, error) {
	td, err := x.usableTaskDef(in.TaskDefinition)
	if err != nil {
		return nil, RunTaskCall{}, err
	}
	if in.Count > 10 || in.Count < 0 {
		return nil, RunTaskCall{}, clientError("InvalidParameterException", "count must be between 1 and 10.")
	}
	if in.LaunchType != "" && len(in.CapacityProviderStrategy) > 0 {
		return nil, RunTaskCall{}, clientError("InvalidParameterException", "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.")
	}
	if td.networkMode == "awsvpc" && (in.NetworkConfiguration == nil || in.NetworkConfiguration.AwsvpcConfiguration == nil) {
		return nil, RunTaskCall{}, clientError("InvalidParameterException", "Network Configuration must be provided when networkMode 'awsvpc' is specified.")
	}
	call := RunTaskCall{TaskDefinitionArn: td.arn, Command: map[string][]string{}, StartedBy: in.StartedBy, Group: in.Group}
	if call.Group == "" {
		call.Group = "family:" + td.family
	}
	if len(in.Overrides) > 0 {
		var o containerOverrides
		if err := json.Unmarshal(in.Overrides, &o); err != nil {
			return nil, RunTaskCall{}, clientError("SerializationException", "overrides: %v", err)
		}
		for _, co := range o.ContainerOverrides {
			if !slices.ContainsFunc(td.containers, func(c containerDef) bool { return c.Name == co.Name }) {
				return nil, RunTaskCall{}, clientError("InvalidParameterException", "Override for container named %s is not a container in the TaskDefinition.", co.Name)
			}
			if co.Command != nil {
				call.Command[co.Name] = co.Command
			}
		}
	}
	return td, call, nil
}

func setPlacement(t *task, launchType string, strategy []CapacityProviderItem) {
	if len(strategy) > 0 {
		t.LaunchType, t.CapacityProviderName = "", strategy[0].CapacityProvider
		if t.CapacityProviderName == "FARGATE" || t.CapacityProviderName == "FARGATE_SPOT" {
			t.LaunchType = "FARGATE"
		}
		return
	}
	if launchType != "" {
		t.LaunchType = launchType
	}
}

func (x *ECS) runTaskOutput(arns []string) any {
	out := struct {
		Tasks    []task    `json:"tasks"`
		Failures []failure `json:"failures"`
	}{Tasks: []task{}, Failures: []failure{}}
	for _, arn := range arns {
		out.Tasks = append(out.Tasks, x.tasks[arn].view())
	}
	return out
}

func (x *ECS) listTasks(body []byte) (any, error) {
	var in struct {
		Cluster       string `json:"cluster"`
		ServiceName   string `json:"serviceName"`
		StartedBy     string `json:"startedBy"`
		Family        string `json:"family"`
		DesiredStatus string `json:"desiredStatus"`
		LaunchType    string `json:"launchType"`
		NextToken     string `json:"nextToken"`
		MaxResults    int32  `json:"maxResults"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, err := x.lookupCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	var svc *service
	if in.ServiceName != "" {
		if svc = c.services[lastSegment(in.ServiceName)]; svc == nil {
			return nil, clientError("ServiceNotFoundException", "Service not found.")
		}
	}
	if in.DesiredStatus == "" {
		in.DesiredStatus = "RUNNING"
	}
	var arns []string
	for _, t := range x.taskOrder {
		if t.cluster != c || t.vanished || t.DesiredStatus != in.DesiredStatus ||
			(svc != nil && t.svc != svc) || (in.StartedBy != "" && t.StartedBy != in.StartedBy) ||
			(in.Family != "" && t.td.family != in.Family) || (in.LaunchType != "" && t.LaunchType != in.LaunchType) {
			continue
		}
		arns = append(arns, t.TaskArn)
	}
	items, next, err := page(arns, in.NextToken, in.MaxResults, 100)
	if err != nil {
		return nil, err
	}
	return struct {
		TaskArns  []string `json:"taskArns"`
		NextToken string   `json:"nextToken,omitempty"`
	}{nonNil(items), next}, nil
}

// stopTask stops a task as a user would: a running task's containers get
// SIGTERM and exit 143 unless ExitCodes says otherwise.
func (x *ECS) stopTask(body []byte) (any, error) {
	var in struct {
		Cluster string `json:"cluster"`
		Task    string `json:"task"`
		Reason  string `json:"reason"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, err := x.lookupCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	t := x.findTask(c, in.Task)
	if t == nil {
		return nil, clientError("InvalidParameterException", "The referenced task was not found.")
	}
	reason := in.Reason
	if reason == "" {
		reason = "Task stopped by user"
	}
	switch t.LastStatus {
	case "PROVISIONING", "PENDING":
		x.beginStop(t, "UserInitiated", reason, nil)
		x.toStopped(t)
	case "RUNNING":
		sigterm := int32(143)
		x.beginStop(t, "UserInitiated", reason, exitCodes(t, &sigterm))
	}
	return map[string]any{"task": t.view()}, nil
}
