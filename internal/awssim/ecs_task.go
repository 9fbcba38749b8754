package awssim

import (
	"encoding/json"
	"slices"
	"strings"
)

// task is both the simulator's record and the DescribeTasks wire shape.
type task struct {
	TaskArn              string          `json:"taskArn"`
	ClusterArn           string          `json:"clusterArn"`
	TaskDefinitionArn    string          `json:"taskDefinitionArn"`
	LastStatus           string          `json:"lastStatus"`
	DesiredStatus        string          `json:"desiredStatus"`
	Containers           []container     `json:"containers"`
	Overrides            json.RawMessage `json:"overrides,omitempty"`
	CPU                  string          `json:"cpu,omitempty"`
	Memory               string          `json:"memory,omitempty"`
	Version              int64           `json:"version"`
	StopCode             string          `json:"stopCode,omitempty"`
	StoppedReason        string          `json:"stoppedReason,omitempty"`
	StartedBy            string          `json:"startedBy,omitempty"`
	Group                string          `json:"group,omitempty"`
	LaunchType           string          `json:"launchType,omitempty"`
	CapacityProviderName string          `json:"capacityProviderName,omitempty"`
	PlatformVersion      string          `json:"platformVersion,omitempty"`
	HealthStatus         string          `json:"healthStatus"`
	Connectivity         string          `json:"connectivity,omitempty"`
	CreatedAt            *epoch          `json:"createdAt,omitempty"`
	ConnectivityAt       *epoch          `json:"connectivityAt,omitempty"`
	PullStartedAt        *epoch          `json:"pullStartedAt,omitempty"`
	PullStoppedAt        *epoch          `json:"pullStoppedAt,omitempty"`
	StartedAt            *epoch          `json:"startedAt,omitempty"`
	StoppingAt           *epoch          `json:"stoppingAt,omitempty"`
	ExecutionStoppedAt   *epoch          `json:"executionStoppedAt,omitempty"`
	StoppedAt            *epoch          `json:"stoppedAt,omitempty"`
	Tags                 []tag           `json:"tags"`

	id       string
	cluster  *cluster
	td       *taskDef
	behavior TaskBehavior
	svc      *service    // nil for one-off tasks
	dep      *deployment // the service deployment that started it
	vanished bool
}

type container struct {
	ContainerArn    string `json:"containerArn"`
	TaskArn         string `json:"taskArn"`
	Name            string `json:"name"`
	Image           string `json:"image,omitempty"`
	LastStatus      string `json:"lastStatus"`
	ExitCode        *int32 `json:"exitCode,omitempty"`
	Reason          string `json:"reason,omitempty"`
	HealthStatus    string `json:"healthStatus"`
	NetworkBindings []any  `json:"networkBindings"`
}

// view copies the task so it can be encoded after the lock is released.
func (t *task) view() task {
	v := *t
	v.Containers = slices.Clone(t.Containers)
	v.Tags = nonNil(slices.Clone(t.Tags))
	return v
}

func (t *task) live() bool { return t.DesiredStatus == "RUNNING" && !t.vanished }

// newTask creates a PROVISIONING task of td in cluster c.
func (x *ECS) newTask(c *cluster, td *taskDef, b TaskBehavior) *task {
	id := randomHex(32)
	t := &task{
		TaskArn: x.arn("task/" + c.name + "/" + id), ClusterArn: c.arn, TaskDefinitionArn: td.arn,
		LastStatus: "PROVISIONING", DesiredStatus: "RUNNING", Version: 1, HealthStatus: "UNKNOWN",
		LaunchType: "FARGATE", PlatformVersion: "1.4.0", CreatedAt: at(x.now()),
		id: id, cluster: c, td: td, behavior: b,
	}
	if s, ok := td.request["cpu"]; ok {
		_ = json.Unmarshal(s, &t.CPU)
	}
	if s, ok := td.request["memory"]; ok {
		_ = json.Unmarshal(s, &t.Memory)
	}
	for _, cd := range td.containers {
		t.Containers = append(t.Containers, container{
			ContainerArn: x.arn("container/" + c.name + "/" + id + "/" + uuid()), TaskArn: t.TaskArn,
			Name: cd.Name, Image: cd.Image, LastStatus: "PENDING", HealthStatus: "UNKNOWN",
			NetworkBindings: []any{},
		})
	}
	x.tasks[t.TaskArn] = t
	x.taskOrder = append(x.taskOrder, t)
	return t
}

// stepTask moves a one-off task one lifecycle step:
// PROVISIONING→PENDING→RUNNING→DEPROVISIONING→STOPPED.
func (x *ECS) stepTask(t *task) {
	if t.vanished {
		return
	}
	b := t.behavior
	switch t.LastStatus {
	case "PROVISIONING":
		x.toPending(t)
	case "PENDING":
		switch {
		case b.Vanish:
			t.vanished = true
		case b.NeverRunning:
			x.failToStart(t)
		default:
			x.toRunning(t)
		}
	case "RUNNING":
		x.beginStop(t, stopCode(b), stoppedReason(b), exitCodes(t, nil))
	case "DEPROVISIONING":
		x.toStopped(t)
	}
}

func stopCode(b TaskBehavior) string {
	switch {
	case b.StopCode != "":
		return b.StopCode
	case b.NeverRunning:
		return "TaskFailedToStart"
	}
	return "EssentialContainerExited"
}

func stoppedReason(b TaskBehavior) string {
	switch {
	case b.StoppedReason != "":
		return b.StoppedReason
	case b.NeverRunning:
		return "Task failed to start"
	}
	return "Essential container in task exited"
}

// exitCodes returns each container's exit code from the behaviour, or
// fallback (when not nil) for containers it does not list.
func exitCodes(t *task, fallback *int32) map[string]*int32 {
	out := map[string]*int32{}
	if t.behavior.NoExitCode {
		return out
	}
	for _, c := range t.Containers {
		code := int32(0)
		if fallback != nil {
			code = *fallback
		}
		if n, ok := t.behavior.ExitCodes[c.Name]; ok {
			code = int32(n)
		}
		out[c.Name] = &code
	}
	return out
}

func (x *ECS) toPending(t *task) {
	now := at(x.now())
	t.LastStatus, t.Connectivity, t.ConnectivityAt, t.PullStartedAt = "PENDING", "CONNECTED", now, now
	t.Version++
}

func (x *ECS) toRunning(t *task) {
	now := x.now()
	t.LastStatus, t.PullStoppedAt, t.StartedAt = "RUNNING", at(now), at(now)
	t.Version++
	for i := range t.Containers {
		t.Containers[i].LastStatus = "RUNNING"
	}
	if t.svc != nil {
		// A service task that is about to crash is never seen healthy,
		// so a deployment cannot complete on it.
		switch {
		case t.behavior.Unhealthy:
			t.HealthStatus = "UNHEALTHY"
		case len(t.behavior.ExitCodes) == 0:
			t.HealthStatus = "HEALTHY"
		}
		for i := range t.Containers {
			t.Containers[i].HealthStatus = t.HealthStatus
		}
	}
	x.writeTaskLogs(t, now.UnixMilli())
}

// writeTaskLogs writes the scripted lines to each container's awslogs stream.
func (x *ECS) writeTaskLogs(t *task, ms int64) {
	for _, cd := range t.td.containers {
		lines := t.behavior.LogLines[cd.Name]
		group, prefix, ok := cd.awslogs()
		if !ok || len(lines) == 0 {
			continue
		}
		stream := cd.Name + "/" + t.id
		if prefix != "" {
			stream = prefix + "/" + stream
		}
		x.s.Logs.write(group, stream, ms, lines)
	}
}

// beginStop sets the task's stop record and moves it to DEPROVISIONING.
func (x *ECS) beginStop(t *task, code, reason string, exits map[string]*int32) {
	now := at(x.now())
	t.LastStatus, t.DesiredStatus, t.StopCode, t.StoppedReason = "DEPROVISIONING", "STOPPED", code, reason
	t.StoppingAt, t.ExecutionStoppedAt = now, now
	t.Version++
	for i := range t.Containers {
		t.Containers[i].LastStatus = "STOPPED"
		t.Containers[i].ExitCode = exits[t.Containers[i].Name]
	}
}

func (x *ECS) toStopped(t *task) {
	t.LastStatus, t.StoppedAt = "STOPPED", at(x.now())
	t.Version++
}

// failToStart stops a task that never ran: no exit codes, the reason on
// each container, straight to STOPPED.
func (x *ECS) failToStart(t *task) {
	reason := stoppedReason(t.behavior)
	x.beginStop(t, stopCode(t.behavior), reason, nil)
	for i := range t.Containers {
		t.Containers[i].Reason = reason
	}
	x.toStopped(t)
}

// findTask resolves a task ARN or ID within a cluster.
func (x *ECS) findTask(c *cluster, ref string) *task {
	if !strings.HasPrefix(ref, "arn:") {
		ref = x.arn("task/" + c.name + "/" + ref)
	}
	t := x.tasks[ref]
	if t == nil || t.cluster != c || t.vanished {
		return nil
	}
	return t
}

func (x *ECS) describeTasks(body []byte) (any, error) {
	var in struct {
		Cluster string   `json:"cluster"`
		Tasks   []string `json:"tasks"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, err := x.lookupCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	if len(in.Tasks) == 0 || len(in.Tasks) > 100 {
		return nil, clientError("InvalidParameterException", "Tasks should have at least 1 and at most 100 items.")
	}
	out := struct {
		Tasks    []task    `json:"tasks"`
		Failures []failure `json:"failures"`
	}{Tasks: []task{}, Failures: []failure{}}
	stepped := map[*task]bool{}
	for _, ref := range in.Tasks {
		t := x.findTask(c, ref)
		if t != nil && t.svc == nil && !stepped[t] {
			x.stepTask(t)
			stepped[t] = true
		}
		if t == nil || t.vanished {
			if !strings.HasPrefix(ref, "arn:") {
				ref = x.arn("task/" + c.name + "/" + ref)
			}
			out.Failures = append(out.Failures, missing(ref))
			continue
		}
		out.Tasks = append(out.Tasks, t.view())
	}
	return out, nil
}
