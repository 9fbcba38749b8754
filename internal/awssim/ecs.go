package awssim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ECS simulates the Amazon ECS control plane: clusters, task definitions,
// services with rolling deployments and the deployment circuit breaker,
// service deployments of the BLUE_GREEN, LINEAR and CANARY strategies
// (lifecycle stages, traffic weights, PAUSE hooks, rollbacks), and one-off
// tasks.
//
// Time is driven by observation: every DescribeTasks call advances each
// described one-off task one lifecycle step before answering, and every
// DescribeServices call advances each described service (its deployments,
// its service deployment in progress and the tasks its scheduler owns) one
// step, as does DescribeServiceDeployments for the services of the
// deployments it describes. Advance steps everything.
type ECS struct {
	s *Server

	mu            sync.Mutex
	clusters      map[string]*cluster    // by name
	families      map[string][]*taskDef  // by family, index revision-1
	tasks         map[string]*task       // by task ARN
	taskOrder     []*task                // creation order, for ListTasks
	tokens        map[string]runTaskDone // RunTask clientToken
	onRunTask     func(RunTaskCall) TaskBehavior
	onServiceTask func(taskDefinitionArn string) TaskBehavior
	last          time.Time
}

// CircuitBreakerThreshold is how many failed tasks turn a deployment with the
// circuit breaker enabled FAILED. (ECS uses max(3, min(200, desired/2)).)
const CircuitBreakerThreshold = 3

// CapacityProviderItem is one entry of a capacity provider strategy.
type CapacityProviderItem struct {
	CapacityProvider string `json:"capacityProvider"`
	Weight           int32  `json:"weight"`
	Base             int32  `json:"base"`
}

// ServiceSpec describes a service created directly in the simulator.
type ServiceSpec struct {
	// Name is the service name; TaskDefinition an ARN or family[:revision]
	// already registered.
	Name, TaskDefinition string
	DesiredCount         int32
	// LaunchType defaults to FARGATE unless CapacityProviderStrategy is set.
	LaunchType               string
	CapacityProviderStrategy []CapacityProviderItem
	Subnets, SecurityGroups  []string
	AssignPublicIP           bool
	// CircuitBreaker and CircuitBreakerRollback set
	// deploymentConfiguration.deploymentCircuitBreaker.
	CircuitBreaker, CircuitBreakerRollback bool
	// DeploymentController is ECS (the default), CODE_DEPLOY or EXTERNAL.
	// As in ECS, a service with another controller lists no deployments
	// (its task sets are not simulated) and UpdateService cannot change its
	// task definition.
	DeploymentController string
	// Strategy is deploymentConfiguration.strategy: ROLLING (the default),
	// BLUE_GREEN, LINEAR or CANARY. With any but ROLLING, UpdateService to a
	// new task definition starts a service deployment that moves through
	// ECS's lifecycle stages (see ecs_svcdeploy.go).
	Strategy string
	// BakeTimeInMinutes is reported as given; in the simulation BAKE_TIME
	// lasts BakeObservations observations whatever its value.
	BakeTimeInMinutes int32
	// PauseAt lists the lifecycle stages with a PAUSE lifecycle hook, e.g.
	// POST_TEST_TRAFFIC_SHIFT. ECS refuses PAUSE hooks at TEST_TRAFFIC_SHIFT
	// and PRODUCTION_TRAFFIC_SHIFT, so they panic here.
	PauseAt []string
	// LinearStepPercent (LINEAR, default 10) and CanaryPercent (CANARY,
	// default 5) are the production traffic moved per step.
	LinearStepPercent, CanaryPercent float64
	// Alarms are deploymentConfiguration.alarms, enabled with rollback: any
	// of them in ALARM from PRODUCTION_TRAFFIC_SHIFT to the end of BAKE_TIME
	// rolls the service deployment back.
	Alarms []string
}

// TaskBehavior scripts what a task does once started.
type TaskBehavior struct {
	// ExitCodes per container name; containers not listed exit 0. For a
	// service task, any entry makes the task exit after reaching RUNNING.
	ExitCodes map[string]int `json:"exitCodes,omitempty"`
	// NoExitCode makes containers stop without an exitCode.
	NoExitCode bool `json:"noExitCode,omitempty"`
	// StopCode defaults to EssentialContainerExited (TaskFailedToStart when
	// NeverRunning).
	StopCode string `json:"stopCode,omitempty"`
	// StoppedReason defaults to "Essential container in task exited".
	StoppedReason string `json:"stoppedReason,omitempty"`
	// NeverRunning stops the task from PENDING without it ever RUNNING; its
	// containers get no exit code and carry StoppedReason as their reason.
	NeverRunning bool `json:"neverRunning,omitempty"`
	// Vanish makes the task disappear once it has been PENDING: DescribeTasks
	// then reports it in failures with reason MISSING.
	Vanish bool `json:"vanish,omitempty"`
	// LogLines per container are written to its awslogs stream when the
	// task reaches RUNNING.
	LogLines map[string][]string `json:"logLines,omitempty"`
	// Unhealthy service tasks reach RUNNING but never become healthy; the
	// scheduler stops them and starts replacements.
	Unhealthy bool `json:"unhealthy,omitempty"`
}

// RunTaskCall is what a RunTask request asked for, given to OnRunTask.
type RunTaskCall struct {
	TaskDefinitionArn string
	Command           map[string][]string // per container override
	StartedBy, Group  string
}

type runTaskDone struct {
	request string
	arns    []string
}

func newECS(s *Server) *ECS {
	return &ECS{
		s:        s,
		clusters: map[string]*cluster{},
		families: map[string][]*taskDef{},
		tasks:    map[string]*task{},
		tokens:   map[string]runTaskDone{},
	}
}

// CreateCluster creates (or returns) an ACTIVE cluster and returns its ARN.
func (x *ECS) CreateCluster(name string) string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.createCluster(name).arn
}

// OnRunTask sets how tasks started by RunTask behave. Without it they run
// and exit 0. The callback runs while the ECS simulator holds its lock: it
// may use sim.Logs but must not call sim.ECS.
func (x *ECS) OnRunTask(f func(t RunTaskCall) TaskBehavior) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.onRunTask = f
}

// OnServiceTask sets how tasks started by the service scheduler behave,
// given the task definition ARN of their deployment. Without it they become
// RUNNING and healthy. Like OnRunTask, it must not call sim.ECS.
func (x *ECS) OnServiceTask(f func(taskDefinitionArn string) TaskBehavior) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.onServiceTask = f
}

// Advance moves every one-off task and every service one step.
func (x *ECS) Advance() {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, t := range x.taskOrder {
		if t.svc == nil {
			x.stepTask(t)
		}
	}
	for _, c := range x.clusters {
		for _, svc := range c.serviceList() {
			x.stepService(svc)
		}
	}
}

// RegisterTaskDefinition registers a task definition from the JSON body of
// a RegisterTaskDefinition request and returns its ARN (for seeding).
func (x *ECS) RegisterTaskDefinition(requestJSON []byte) (string, error) {
	out, err := x.handle("RegisterTaskDefinition", requestJSON)
	if err != nil {
		return "", err
	}
	return out.(registerTaskDefinitionOutput).TaskDefinition["taskDefinitionArn"].(string), nil
}

func (x *ECS) handle(op string, body []byte) (any, error) {
	h, ok := ecsOps[op]
	if !ok {
		return nil, clientError("UnknownOperationException", "operation %s is not simulated", op)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return h(x, body)
}

var ecsOps = map[string]func(x *ECS, body []byte) (any, error){
	"DescribeClusters":         (*ECS).describeClusters,
	"RegisterTaskDefinition":   (*ECS).registerTaskDefinition,
	"DescribeTaskDefinition":   (*ECS).describeTaskDefinition,
	"DeregisterTaskDefinition": (*ECS).deregisterTaskDefinition,
	"ListTaskDefinitions":      (*ECS).listTaskDefinitions,
	"DescribeServices":         (*ECS).describeServices,
	"UpdateService":            (*ECS).updateService,
	"RunTask":                  (*ECS).runTask,
	"DescribeTasks":            (*ECS).describeTasks,
	"ListTasks":                (*ECS).listTasks,
	"StopTask":                 (*ECS).stopTask,

	"ListServiceDeployments":     (*ECS).listServiceDeployments,
	"DescribeServiceDeployments": (*ECS).describeServiceDeployments,
	"StopServiceDeployment":      (*ECS).stopServiceDeployment,
	"ContinueServiceDeployment":  (*ECS).continueServiceDeployment,
}

// now is a clock that never repeats, so events and timestamps order strictly.
func (x *ECS) now() time.Time {
	t := time.Now().UTC().Truncate(time.Millisecond)
	if !t.After(x.last) {
		t = x.last.Add(time.Millisecond)
	}
	x.last = t
	return t
}

func (x *ECS) arn(resource string) string {
	return "arn:aws:ecs:" + x.s.opts.Region + ":" + x.s.opts.AccountID + ":" + resource
}

// epoch marshals a time as the fractional epoch seconds ECS uses.
type epoch time.Time

func (e epoch) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(time.Time(e).UnixMilli())/1000, 'f', 3, 64)), nil
}

func at(t time.Time) *epoch { e := epoch(t); return &e }

func randomHex(n int) string {
	b := make([]byte, n/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func uuid() string {
	h := randomHex(32)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// lastSegment returns what follows the last "/" of an ARN, or the string itself.
func lastSegment(s string) string { return s[strings.LastIndex(s, "/")+1:] }

func missing(arn string) failure { return failure{Arn: arn, Reason: "MISSING"} }

type failure struct {
	Arn    string `json:"arn,omitempty"`
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}

type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// pageToken encodes an offset as an opaque nextToken.
func pageToken(offset int) string { return "esteira-" + strconv.Itoa(offset) }

func pageOffset(token string) (int, error) {
	if token == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimPrefix(token, "esteira-"))
	if err != nil || !strings.HasPrefix(token, "esteira-") || n < 0 {
		return 0, clientError("InvalidParameterException", "Invalid nextToken %q.", token)
	}
	return n, nil
}

// page slices items [offset, offset+max) and returns the next token, if any.
func page[T any](items []T, token string, max int32, defaultMax int) ([]T, string, error) {
	off, err := pageOffset(token)
	if err != nil {
		return nil, "", err
	}
	n := defaultMax
	if max > 0 {
		n = int(max)
	}
	if off > len(items) {
		off = len(items)
	}
	end := min(off+n, len(items))
	next := ""
	if end < len(items) {
		next = pageToken(end)
	}
	return items[off:end], next, nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("awssim: marshal %T: %v", v, err))
	}
	return b
}
