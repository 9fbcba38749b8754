package awssim

import (
	"cmp"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
)

type cluster struct {
	name, arn string
	services  map[string]*service
}

func (c *cluster) serviceList() []*service {
	var out []*service
	for _, name := range slices.Sorted(maps.Keys(c.services)) {
		out = append(out, c.services[name])
	}
	return out
}

// service is both the simulator's record and the DescribeServices wire shape.
type service struct {
	ServiceArn               string                  `json:"serviceArn"`
	ServiceName              string                  `json:"serviceName"`
	ClusterArn               string                  `json:"clusterArn"`
	Status                   string                  `json:"status"`
	DesiredCount             int32                   `json:"desiredCount"`
	RunningCount             int32                   `json:"runningCount"`
	PendingCount             int32                   `json:"pendingCount"`
	LaunchType               string                  `json:"launchType,omitempty"`
	CapacityProviderStrategy []CapacityProviderItem  `json:"capacityProviderStrategy,omitempty"`
	PlatformVersion          string                  `json:"platformVersion,omitempty"`
	TaskDefinition           string                  `json:"taskDefinition"`
	DeploymentConfiguration  deploymentConfiguration `json:"deploymentConfiguration"`
	NetworkConfiguration     *networkConfiguration   `json:"networkConfiguration,omitempty"`
	Deployments              []deployment            `json:"deployments"`
	Events                   []serviceEvent          `json:"events"`
	CreatedAt                *epoch                  `json:"createdAt,omitempty"`
	SchedulingStrategy       string                  `json:"schedulingStrategy"`
	DeploymentController     map[string]string       `json:"deploymentController"`
	// LoadBalancers is set for a CodeDeploy service by its deployment group.
	LoadBalancers []serviceLoadBalancer `json:"loadBalancers,omitempty"`

	cluster *cluster
	deps    []*deployment    // PRIMARY first
	tasks   []*task          // every task the scheduler started
	sds     []*svcDeployment // service deployments, newest first
	// failRollback makes the next rollback of a service deployment end
	// ROLLBACK_FAILED (FailRollbacks).
	failRollback bool
}

type serviceLoadBalancer struct {
	TargetGroupArn string `json:"targetGroupArn"`
	ContainerName  string `json:"containerName"`
	ContainerPort  int32  `json:"containerPort"`
}

type deploymentConfiguration struct {
	DeploymentCircuitBreaker *circuitBreaker      `json:"deploymentCircuitBreaker,omitempty"`
	MaximumPercent           int32                `json:"maximumPercent,omitempty"`
	MinimumHealthyPercent    int32                `json:"minimumHealthyPercent,omitempty"`
	Strategy                 string               `json:"strategy,omitempty"`
	BakeTimeInMinutes        *int32               `json:"bakeTimeInMinutes,omitempty"`
	LifecycleHooks           []lifecycleHook      `json:"lifecycleHooks,omitempty"`
	LinearConfiguration      *linearConfiguration `json:"linearConfiguration,omitempty"`
	CanaryConfiguration      *canaryConfiguration `json:"canaryConfiguration,omitempty"`
	Alarms                   *deploymentAlarms    `json:"alarms,omitempty"`
}

type circuitBreaker struct {
	Enable   bool `json:"enable"`
	Rollback bool `json:"rollback"`
}

type deployment struct {
	ID                       string                 `json:"id"`
	Status                   string                 `json:"status"`
	TaskDefinition           string                 `json:"taskDefinition"`
	DesiredCount             int32                  `json:"desiredCount"`
	PendingCount             int32                  `json:"pendingCount"`
	RunningCount             int32                  `json:"runningCount"`
	FailedTasks              int32                  `json:"failedTasks"`
	CreatedAt                *epoch                 `json:"createdAt,omitempty"`
	UpdatedAt                *epoch                 `json:"updatedAt,omitempty"`
	LaunchType               string                 `json:"launchType,omitempty"`
	CapacityProviderStrategy []CapacityProviderItem `json:"capacityProviderStrategy,omitempty"`
	PlatformVersion          string                 `json:"platformVersion,omitempty"`
	NetworkConfiguration     *networkConfiguration  `json:"networkConfiguration,omitempty"`
	RolloutState             string                 `json:"rolloutState"`
	RolloutStateReason       string                 `json:"rolloutStateReason"`

	td       *taskDef
	revision string // the service revision ARN its tasks run
}

type serviceEvent struct {
	ID        string `json:"id"`
	CreatedAt *epoch `json:"createdAt"`
	Message   string `json:"message"`
}

func (svc *service) view() service {
	v := *svc
	v.Deployments = make([]deployment, 0, len(svc.deps))
	for _, d := range svc.deps {
		if svc.DeploymentController["type"] != "ECS" {
			break // deployments describe only ECS-controlled services
		}
		v.Deployments = append(v.Deployments, *d)
	}
	v.Events = slices.Clone(svc.Events)
	v.LoadBalancers = slices.Clone(svc.LoadBalancers)
	v.CapacityProviderStrategy = slices.Clone(svc.CapacityProviderStrategy)
	return v
}

func (x *ECS) createCluster(name string) *cluster {
	if c := x.clusters[name]; c != nil {
		return c
	}
	c := &cluster{name: name, arn: x.arn("cluster/" + name), services: map[string]*service{}}
	x.clusters[name] = c
	return c
}

func (x *ECS) lookupCluster(ref string) (*cluster, error) {
	if ref == "" {
		ref = "default"
	}
	c := x.clusters[lastSegment(ref)]
	if c == nil || (strings.HasPrefix(ref, "arn:") && ref != c.arn) {
		return nil, clientError("ClusterNotFoundException", "Cluster not found.")
	}
	return c, nil
}

// CreateService creates a service whose single PRIMARY deployment is
// COMPLETED with DesiredCount healthy RUNNING tasks. The cluster is created
// if needed; an unknown task definition is a test bug and panics.
func (x *ECS) CreateService(clusterName string, in ServiceSpec) string {
	x.mu.Lock()
	defer x.mu.Unlock()
	c := x.createCluster(clusterName)
	td := x.lookupTaskDef(in.TaskDefinition)
	if td == nil || in.Name == "" {
		panic(fmt.Sprintf("awssim: CreateService %q: task definition %q is not registered", in.Name, in.TaskDefinition))
	}
	svc := &service{
		ServiceArn: x.arn("service/" + c.name + "/" + in.Name), ServiceName: in.Name, ClusterArn: c.arn,
		Status: "ACTIVE", DesiredCount: in.DesiredCount, CapacityProviderStrategy: in.CapacityProviderStrategy,
		PlatformVersion: "LATEST", TaskDefinition: td.arn, CreatedAt: at(x.now()), SchedulingStrategy: "REPLICA",
		DeploymentController: map[string]string{"type": cmp.Or(in.DeploymentController, "ECS")}, cluster: c,
		DeploymentConfiguration: deploymentConfiguration{MaximumPercent: 200, MinimumHealthyPercent: 100,
			DeploymentCircuitBreaker: &circuitBreaker{Enable: in.CircuitBreaker, Rollback: in.CircuitBreakerRollback}},
	}
	if err := applyStrategy(&svc.DeploymentConfiguration, in); err != nil {
		panic(fmt.Sprintf("awssim: CreateService %q: %v", in.Name, err))
	}
	if len(in.CapacityProviderStrategy) == 0 {
		svc.LaunchType = in.LaunchType
		if svc.LaunchType == "" {
			svc.LaunchType = "FARGATE"
		}
	}
	if len(in.Subnets) > 0 {
		nc := &networkConfiguration{}
		nc.AwsvpcConfiguration = &struct {
			Subnets        []string `json:"subnets"`
			SecurityGroups []string `json:"securityGroups,omitempty"`
			AssignPublicIP string   `json:"assignPublicIp,omitempty"`
		}{Subnets: in.Subnets, SecurityGroups: in.SecurityGroups, AssignPublicIP: map[bool]string{true: "ENABLED", false: "DISABLED"}[in.AssignPublicIP]}
		svc.NetworkConfiguration = nc
	}
	d := x.newDeployment(svc, td)
	d.RolloutState, d.RolloutStateReason = "COMPLETED", "ECS deployment "+d.ID+" completed."
	svc.deps = []*deployment{d}
	for range in.DesiredCount {
		t := x.startServiceTask(svc, d, TaskBehavior{})
		x.toPending(t)
		x.toRunning(t)
	}
	x.addEvent(svc, "(service %s) has reached a steady state.", svc.ServiceName)
	c.services[in.Name] = svc
	x.recount(svc)
	return svc.ServiceArn
}

func (x *ECS) newDeployment(svc *service, td *taskDef) *deployment {
	now := at(x.now())
	id := fmt.Sprintf("ecs-svc/%019d", rand.Uint64()%1e19)
	return &deployment{
		ID: id, Status: "PRIMARY", TaskDefinition: td.arn, DesiredCount: svc.DesiredCount,
		CreatedAt: now, UpdatedAt: now, LaunchType: svc.LaunchType,
		CapacityProviderStrategy: svc.CapacityProviderStrategy, PlatformVersion: "1.4.0",
		NetworkConfiguration: svc.NetworkConfiguration, RolloutState: "IN_PROGRESS",
		RolloutStateReason: "ECS deployment " + id + " in progress.", td: td,
		revision: x.arn(fmt.Sprintf("service-revision/%s/%s/%019d", svc.cluster.name, svc.ServiceName, rand.Uint64()%1e19)),
	}
}

// startServiceTask starts a PROVISIONING task for a deployment.
func (x *ECS) startServiceTask(svc *service, d *deployment, b TaskBehavior) *task {
	t := x.newTask(svc.cluster, d.td, b)
	t.svc, t.dep, t.StartedBy, t.Group = svc, d, d.ID, "service:"+svc.ServiceName
	setPlacement(t, d.LaunchType, d.CapacityProviderStrategy)
	svc.tasks = append(svc.tasks, t)
	return t
}

// addEvent prepends a service event, newest first as ECS returns them.
func (x *ECS) addEvent(svc *service, format string, args ...any) {
	e := serviceEvent{ID: uuid(), CreatedAt: at(x.now()), Message: fmt.Sprintf(format, args...)}
	svc.Events = append([]serviceEvent{e}, svc.Events...)
	if len(svc.Events) > 100 {
		svc.Events = svc.Events[:100]
	}
}

func (x *ECS) describeClusters(body []byte) (any, error) {
	var in struct {
		Clusters []string `json:"clusters"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.Clusters) == 0 {
		in.Clusters = []string{"default"}
	}
	out := struct {
		Clusters []map[string]any `json:"clusters"`
		Failures []failure        `json:"failures"`
	}{Clusters: []map[string]any{}, Failures: []failure{}}
	for _, ref := range in.Clusters {
		c, err := x.lookupCluster(ref)
		if err != nil {
			if !strings.HasPrefix(ref, "arn:") {
				ref = x.arn("cluster/" + ref)
			}
			out.Failures = append(out.Failures, missing(ref))
			continue
		}
		running, pending := 0, 0
		for _, t := range x.taskOrder {
			if t.cluster == c && t.live() && t.LastStatus == "RUNNING" {
				running++
			} else if t.cluster == c && t.live() && (t.LastStatus == "PENDING" || t.LastStatus == "PROVISIONING") {
				pending++
			}
		}
		out.Clusters = append(out.Clusters, map[string]any{
			"clusterArn": c.arn, "clusterName": c.name, "status": "ACTIVE",
			"runningTasksCount": running, "pendingTasksCount": pending,
			"activeServicesCount": len(c.services), "registeredContainerInstancesCount": 0,
			"capacityProviders": []string{"FARGATE", "FARGATE_SPOT"},
		})
	}
	return out, nil
}

func (x *ECS) describeServices(body []byte) (any, error) {
	var in struct {
		Cluster  string   `json:"cluster"`
		Services []string `json:"services"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, err := x.lookupCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	if len(in.Services) == 0 || len(in.Services) > 10 {
		return nil, clientError("InvalidParameterException", "Services should have at least 1 and at most 10 items.")
	}
	out := struct {
		Services []service `json:"services"`
		Failures []failure `json:"failures"`
	}{Services: []service{}, Failures: []failure{}}
	stepped := map[*service]bool{}
	for _, ref := range in.Services {
		svc := c.services[lastSegment(ref)]
		if svc == nil || (strings.HasPrefix(ref, "arn:") && ref != svc.ServiceArn) {
			if !strings.HasPrefix(ref, "arn:") {
				ref = x.arn("service/" + c.name + "/" + ref)
			}
			out.Failures = append(out.Failures, missing(ref))
			continue
		}
		if !stepped[svc] {
			x.stepService(svc)
			stepped[svc] = true
		}
		out.Services = append(out.Services, svc.view())
	}
	return out, nil
}
