package awssim

import (
	"fmt"
	"regexp"
)

// CodeDeploy simulates AWS CodeDeploy's ECS compute platform: blue/green
// deployments of an ECS service whose deployment controller is
// CODE_DEPLOY, with an AppSpec given inline (revisionType AppSpecContent).
//
// A deployment moves through the ECS lifecycle events of the CodeDeploy
// user guide (BeforeInstall, Install, AfterInstall, AllowTestTraffic,
// AfterAllowTestTraffic, BeforeAllowTraffic, AllowTraffic,
// AfterAllowTraffic), one step per GetDeployment call (or Advance): the
// replacement (Green) task set is started in the ECS simulator at
// Install, test traffic moves to it at AllowTestTraffic, production at
// AllowTraffic; on success the service runs the new task definition and
// the original (Blue) tasks are stopped. See codedeploy_step.go.
//
// It shares the ECS simulator's lock and state: the tasks it starts are
// the ECS simulator's, scripted by OnServiceTask like any other.
type CodeDeploy struct {
	s   *Server
	ecs *ECS

	apps        map[string]map[string]*cdGroup // application → group name → group
	deployments map[string]*cdDeployment       // by deployment ID
	order       []*cdDeployment                // creation order
	listPage    int                            // ListDeployments's page size
}

// DeploymentGroupSpec describes an ECS blue/green deployment group created
// directly in the simulator.
type DeploymentGroupSpec struct {
	// Cluster and Service name an ECS service created in the ECS simulator
	// with DeploymentController CODE_DEPLOY.
	Cluster, Service string
	// ProdListenerArn and TestListenerArn are the load balancer listeners
	// of production and test traffic (loadBalancerInfo's target group pair).
	ProdListenerArn, TestListenerArn string
	// TargetGroups are the two target groups' names; the first serves
	// production before the first deployment.
	TargetGroups [2]string
	// ContainerName and ContainerPort are what the service's load balancer
	// sends traffic to, reported in the ECS service's loadBalancers.
	ContainerName string
	ContainerPort int32
	// WaitForReady sets deploymentReadyOption.actionOnTimeout
	// STOP_DEPLOYMENT: a deployment waits in Ready, test traffic on the
	// replacement task set and production on the original, until
	// ContinueDeployment READY_WAIT. Otherwise CONTINUE_DEPLOYMENT.
	WaitForReady bool
	// DeploymentConfigName is a predefined ECS deployment config (default
	// CodeDeployDefault.ECSAllAtOnce): canary and linear ones shift
	// production traffic in steps during AllowTraffic (codedeploy_traffic.go).
	DeploymentConfigName string
	// Alarms are CloudWatch alarms (Server.Alarms) watched once production
	// traffic moves: one in ALARM stops the deployment and, unless
	// NoRollbackOnAlarm, rolls it back (DEPLOYMENT_STOP_ON_ALARM).
	Alarms            []string
	NoRollbackOnAlarm bool
}

// cdGroup is a deployment group; auto rollback is always enabled, on
// DEPLOYMENT_FAILURE and DEPLOYMENT_STOP_ON_REQUEST, and on
// DEPLOYMENT_STOP_ON_ALARM when it has alarms.
type cdGroup struct {
	id, app, name string
	spec          DeploymentGroupSpec
	svc           *service
	blueTG        int    // index into spec.TargetGroups of the one serving production
	failAt        string // lifecycle event the next deployment fails at (FailAt)
	failRollback  bool   // the next rollback deployment fails (FailRollbacks)
}

func newCodeDeploy(s *Server) *CodeDeploy {
	return &CodeDeploy{s: s, ecs: s.ECS, apps: map[string]map[string]*cdGroup{}, deployments: map[string]*cdDeployment{},
		listPage: listDeploymentsPage}
}

// CreateDeploymentGroup creates the application if needed and an ECS
// blue/green deployment group in it. A service that is not in the ECS
// simulator or not controlled by CODE_DEPLOY is a test bug and panics.
func (cd *CodeDeploy) CreateDeploymentGroup(app, group string, spec DeploymentGroupSpec) {
	cd.ecs.mu.Lock()
	defer cd.ecs.mu.Unlock()
	if err := cd.createGroup(app, group, spec); err != nil {
		panic("awssim: CreateDeploymentGroup: " + err.Error())
	}
}

func (cd *CodeDeploy) createGroup(app, group string, spec DeploymentGroupSpec) error {
	c := cd.ecs.clusters[spec.Cluster]
	switch {
	case app == "" || group == "":
		return fmt.Errorf("deployment group %q of application %q: both names are required", group, app)
	case c == nil || c.services[spec.Service] == nil:
		return fmt.Errorf("deployment group %q: service %s/%s is not in the ECS simulator", group, spec.Cluster, spec.Service)
	case c.services[spec.Service].DeploymentController["type"] != "CODE_DEPLOY":
		return fmt.Errorf("deployment group %q: service %s has deployment controller %s, not CODE_DEPLOY",
			group, spec.Service, c.services[spec.Service].DeploymentController["type"])
	case spec.TargetGroups[0] == "" || spec.TargetGroups[1] == "" || spec.ProdListenerArn == "":
		return fmt.Errorf("deployment group %q: two target groups and a production listener are required", group)
	}
	if err := checkDeploymentConfig(spec.DeploymentConfigName); err != nil {
		return fmt.Errorf("deployment group %q: %w", group, err)
	}
	svc := c.services[spec.Service]
	if cd.apps[app] == nil {
		cd.apps[app] = map[string]*cdGroup{}
	}
	cd.apps[app][group] = &cdGroup{id: uuid(), app: app, name: group, spec: spec, svc: svc}
	svc.LoadBalancers = []serviceLoadBalancer{{TargetGroupArn: cd.targetGroupArn(spec.TargetGroups[0]),
		ContainerName: spec.ContainerName, ContainerPort: spec.ContainerPort}}
	return nil
}

// FailAt makes the next deployment of the group fail at a lifecycle event
// (e.g. AfterAllowTestTraffic): the event ends Failed, as a hook whose
// Lambda function reported Failed does, and the deployment is rolled back.
func (cd *CodeDeploy) FailAt(group, event string) {
	cd.ecs.mu.Lock()
	defer cd.ecs.mu.Unlock()
	cd.mustGroup(group).failAt = event
}

// FailRollbacks makes the next rollback deployment of the group end
// Failed, traffic left where it was when the rollback began.
func (cd *CodeDeploy) FailRollbacks(group string) {
	cd.ecs.mu.Lock()
	defer cd.ecs.mu.Unlock()
	cd.mustGroup(group).failRollback = true
}

// Advance moves every unfinished deployment one step.
func (cd *CodeDeploy) Advance() {
	cd.ecs.mu.Lock()
	defer cd.ecs.mu.Unlock()
	for _, d := range cd.order {
		if !d.done() {
			cd.step(d)
		}
	}
}

func (cd *CodeDeploy) mustGroup(name string) *cdGroup {
	for _, groups := range cd.apps {
		if g := groups[name]; g != nil {
			return g
		}
	}
	panic(fmt.Sprintf("awssim: no deployment group %q", name))
}

func (cd *CodeDeploy) targetGroupArn(name string) string {
	return fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:targetgroup/%s/%s", cd.s.opts.Region, cd.s.opts.AccountID, name, "0123456789abcdef")
}

// handle serves one operation under the ECS simulator's lock, since
// deployments change ECS services and tasks.
func (cd *CodeDeploy) handle(op string, body []byte) (any, error) {
	h, ok := codeDeployOps[op]
	if !ok {
		return nil, clientError("UnknownOperationException", "operation %s is not simulated", op)
	}
	cd.ecs.mu.Lock()
	defer cd.ecs.mu.Unlock()
	return h(cd, body)
}

var codeDeployOps = map[string]func(cd *CodeDeploy, body []byte) (any, error){
	"GetDeploymentGroup":    (*CodeDeploy).getDeploymentGroup,
	"CreateDeployment":      (*CodeDeploy).createDeployment,
	"GetDeployment":         (*CodeDeploy).getDeployment,
	"ListDeploymentTargets": (*CodeDeploy).listDeploymentTargets,
	"GetDeploymentTarget":   (*CodeDeploy).getDeploymentTarget,
	"ContinueDeployment":    (*CodeDeploy).continueDeployment,
	"StopDeployment":        (*CodeDeploy).stopDeployment,
	"ListDeployments":       (*CodeDeploy).listDeployments,
}

// lookupGroup resolves an application and a deployment group, with the
// errors GetDeploymentGroup and CreateDeployment list.
func (cd *CodeDeploy) lookupGroup(app, group string) (*cdGroup, error) {
	switch {
	case app == "":
		return nil, clientError("ApplicationNameRequiredException", "The application name must be specified.")
	case group == "":
		return nil, clientError("DeploymentGroupNameRequiredException", "The deployment group name must be specified.")
	case cd.apps[app] == nil:
		return nil, clientError("ApplicationDoesNotExistException", "No application found for name: %s", app)
	case cd.apps[app][group] == nil:
		return nil, clientError("DeploymentGroupDoesNotExistException", "No Deployment Group found for name: %s", group)
	}
	return cd.apps[app][group], nil
}

var deploymentIDPattern = regexp.MustCompile(`^d-[A-Z0-9]{9}$`)

// lookupDeployment resolves a deployment ID: none is
// DeploymentIdRequiredException, a malformed one
// InvalidDeploymentIdException, an unknown one
// DeploymentDoesNotExistException (GetDeployment's errors).
func (cd *CodeDeploy) lookupDeployment(id string) (*cdDeployment, error) {
	switch {
	case id == "":
		return nil, clientError("DeploymentIdRequiredException", "Deployment ID is required.")
	case !deploymentIDPattern.MatchString(id):
		return nil, clientError("InvalidDeploymentIdException", "Specified DeploymentId is not in the valid format: %s", id)
	case cd.deployments[id] == nil:
		return nil, clientError("DeploymentDoesNotExistException", "Deployment %s does not exist", id)
	}
	return cd.deployments[id], nil
}

func newDeploymentID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := []byte(randomHex(18))
	out := make([]byte, 9)
	for i := range out {
		out[i] = alphabet[(int(b[2*i])*16+int(b[2*i+1]))%len(alphabet)]
	}
	return "d-" + string(out)
}

type cdTrafficRoute struct {
	ListenerArns []string `json:"listenerArns"`
}

type cdTargetGroup struct {
	Name string `json:"name"`
}

type cdLoadBalancerInfo struct {
	TargetGroupPairInfoList []struct {
		TargetGroups     []cdTargetGroup `json:"targetGroups"`
		ProdTrafficRoute cdTrafficRoute  `json:"prodTrafficRoute"`
		TestTrafficRoute *cdTrafficRoute `json:"testTrafficRoute,omitempty"`
	} `json:"targetGroupPairInfoList"`
}

func (g *cdGroup) loadBalancerInfo() cdLoadBalancerInfo {
	var lb cdLoadBalancerInfo
	lb.TargetGroupPairInfoList = make([]struct {
		TargetGroups     []cdTargetGroup `json:"targetGroups"`
		ProdTrafficRoute cdTrafficRoute  `json:"prodTrafficRoute"`
		TestTrafficRoute *cdTrafficRoute `json:"testTrafficRoute,omitempty"`
	}, 1)
	p := &lb.TargetGroupPairInfoList[0]
	p.TargetGroups = []cdTargetGroup{{Name: g.spec.TargetGroups[0]}, {Name: g.spec.TargetGroups[1]}}
	p.ProdTrafficRoute.ListenerArns = []string{g.spec.ProdListenerArn}
	if g.spec.TestListenerArn != "" {
		p.TestTrafficRoute = &cdTrafficRoute{ListenerArns: []string{g.spec.TestListenerArn}}
	}
	return lb
}

// groupConfig is what a deployment group and its deployments both report.
type groupConfig struct {
	DeploymentConfigName string `json:"deploymentConfigName"`
	DeploymentStyle      struct {
		DeploymentType   string `json:"deploymentType"`
		DeploymentOption string `json:"deploymentOption"`
	} `json:"deploymentStyle"`
	BlueGreenDeploymentConfiguration struct {
		DeploymentReadyOption struct {
			ActionOnTimeout   string `json:"actionOnTimeout"`
			WaitTimeInMinutes int32  `json:"waitTimeInMinutes"`
		} `json:"deploymentReadyOption"`
		TerminateBlueInstancesOnDeploymentSuccess struct {
			Action                       string `json:"action"`
			TerminationWaitTimeInMinutes int32  `json:"terminationWaitTimeInMinutes"`
		} `json:"terminateBlueInstancesOnDeploymentSuccess"`
	} `json:"blueGreenDeploymentConfiguration"`
	AutoRollbackConfiguration struct {
		Enabled bool     `json:"enabled"`
		Events  []string `json:"events"`
	} `json:"autoRollbackConfiguration"`
	LoadBalancerInfo cdLoadBalancerInfo `json:"loadBalancerInfo"`
	ComputePlatform  string             `json:"computePlatform"`
}

func (g *cdGroup) config() groupConfig {
	var c groupConfig
	c.DeploymentConfigName, c.ComputePlatform = g.configName(), "ECS"
	c.DeploymentStyle.DeploymentType, c.DeploymentStyle.DeploymentOption = "BLUE_GREEN", "WITH_TRAFFIC_CONTROL"
	ready := &c.BlueGreenDeploymentConfiguration.DeploymentReadyOption
	ready.ActionOnTimeout = "CONTINUE_DEPLOYMENT"
	if g.spec.WaitForReady {
		ready.ActionOnTimeout, ready.WaitTimeInMinutes = "STOP_DEPLOYMENT", 60
	}
	c.BlueGreenDeploymentConfiguration.TerminateBlueInstancesOnDeploymentSuccess.Action = "TERMINATE"
	c.AutoRollbackConfiguration.Enabled = true
	c.AutoRollbackConfiguration.Events = g.rollbackEvents()
	c.LoadBalancerInfo = g.loadBalancerInfo()
	return c
}

func (cd *CodeDeploy) getDeploymentGroup(body []byte) (any, error) {
	var in struct {
		ApplicationName     string `json:"applicationName"`
		DeploymentGroupName string `json:"deploymentGroupName"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	g, err := cd.lookupGroup(in.ApplicationName, in.DeploymentGroupName)
	if err != nil {
		return nil, err
	}
	type ecsService struct {
		ServiceName string `json:"serviceName"`
		ClusterName string `json:"clusterName"`
	}
	info := struct {
		ApplicationName     string               `json:"applicationName"`
		DeploymentGroupID   string               `json:"deploymentGroupId"`
		DeploymentGroupName string               `json:"deploymentGroupName"`
		ServiceRoleArn      string               `json:"serviceRoleArn"`
		EcsServices         []ecsService         `json:"ecsServices"`
		AlarmConfiguration  cdAlarmConfiguration `json:"alarmConfiguration"`
		groupConfig
	}{ApplicationName: g.app, DeploymentGroupID: g.id, DeploymentGroupName: g.name, AlarmConfiguration: g.alarmConfiguration(),
		ServiceRoleArn: "arn:aws:iam::" + cd.s.opts.AccountID + ":role/ecsCodeDeployRole",
		EcsServices:    []ecsService{{ServiceName: g.spec.Service, ClusterName: g.spec.Cluster}}, groupConfig: g.config()}
	return map[string]any{"deploymentGroupInfo": info}, nil
}
