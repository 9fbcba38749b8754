package awssim

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The deployment statuses (DeploymentInfo.status) and lifecycle event
// statuses (LifecycleEvent.status) of the CodeDeploy API reference.
const (
	cdCreated    = "Created"
	cdInProgress = "InProgress"
	cdReady      = "Ready"
	cdSucceeded  = "Succeeded"
	cdFailed     = "Failed"
	cdStopped    = "Stopped"
	evPending    = "Pending"
	evSkipped    = "Skipped"
)

// ecsEvents are the lifecycle events of an Amazon ECS deployment, in the
// order the CodeDeploy user guide gives ("Run order of hooks in an Amazon
// ECS deployment"); Install, AllowTestTraffic and AllowTraffic are
// CodeDeploy's own, the rest run the AppSpec's hooks.
var ecsEvents = []string{"BeforeInstall", "Install", "AfterInstall", "AllowTestTraffic",
	"AfterAllowTestTraffic", "BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic"}

type cdEvent struct {
	Name      string `json:"lifecycleEventName"`
	Status    string `json:"status"`
	StartTime *epoch `json:"startTime,omitempty"`
	EndTime   *epoch `json:"endTime,omitempty"`
}

type cdErrorInfo struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type cdRollbackInfo struct {
	RollbackDeploymentID           string `json:"rollbackDeploymentId,omitempty"`
	RollbackTriggeringDeploymentID string `json:"rollbackTriggeringDeploymentId,omitempty"`
	RollbackMessage                string `json:"rollbackMessage,omitempty"`
}

// cdDeployment is one deployment of a deployment group.
type cdDeployment struct {
	id      string
	group   *cdGroup
	creator string // user, or codeDeployRollback for a rollback
	status  string
	events  []cdEvent
	next    int // index of the event in progress or next to start
	// blue is the ECS deployment serving production when this one began,
	// green the replacement task set it starts at Install.
	blue, green *deployment
	blueTG      int // index into the group's TargetGroups of the original's
	td          *taskDef
	revision    json.RawMessage // as given, reported back
	// greenProd and greenTest are the replacement task set's share, in
	// percent, of production and test traffic.
	greenProd, greenTest float64
	held                 int // observations the current traffic step has held (shiftTraffic)
	errInfo              *cdErrorInfo
	rollback             *cdRollbackInfo
	triggering           *cdDeployment // for a rollback: the deployment it rolls back
	failAt               string
	failRollback         bool
	created              time.Time
	started, completed   *epoch
}

func (d *cdDeployment) done() bool {
	switch d.status {
	case cdSucceeded, cdFailed, cdStopped:
		return true
	}
	return false
}

// appSpec is the part of an ECS AppSpec file the simulator reads
// (Resources[0].TargetService), in YAML or JSON (a subset of YAML).
type appSpec struct {
	Version   any `yaml:"version"`
	Resources []map[string]struct {
		Type       string `yaml:"Type"`
		Properties struct {
			TaskDefinition   string `yaml:"TaskDefinition"`
			LoadBalancerInfo struct {
				ContainerName string `yaml:"ContainerName"`
				ContainerPort int32  `yaml:"ContainerPort"`
			} `yaml:"LoadBalancerInfo"`
		} `yaml:"Properties"`
	} `yaml:"Resources"`
}

// parseAppSpec checks an ECS AppSpec against the ECS simulator and returns
// its task definition. Every refusal is InvalidRevisionException ("The
// revision was specified in an invalid format"), the one error
// CreateDeployment lists for a revision's content.
func (cd *CodeDeploy) parseAppSpec(content string) (*taskDef, error) {
	invalid := func(format string, args ...any) error {
		return clientError("InvalidRevisionException", "AppSpec content is invalid: "+format, args...)
	}
	var spec appSpec
	if err := yaml.Unmarshal([]byte(content), &spec); err != nil {
		return nil, invalid("%v", err)
	}
	if len(spec.Resources) == 0 {
		return nil, invalid("Resources must name one TargetService")
	}
	target, ok := spec.Resources[0]["TargetService"]
	if !ok || len(spec.Resources[0]) != 1 {
		return nil, invalid("Resources[0] must be TargetService")
	}
	if target.Type != "AWS::ECS::Service" {
		return nil, invalid("TargetService Type must be AWS::ECS::Service, not %q", target.Type)
	}
	p := target.Properties
	td := cd.ecs.lookupTaskDef(p.TaskDefinition)
	if p.TaskDefinition == "" || td == nil || td.status != "ACTIVE" {
		return nil, invalid("task definition %q is not an ACTIVE registered task definition", p.TaskDefinition)
	}
	lb := p.LoadBalancerInfo
	if !slices.ContainsFunc(td.containers, func(c containerDef) bool { return c.Name == lb.ContainerName }) {
		return nil, invalid("container %q is not in task definition %s", lb.ContainerName, td.arn)
	}
	if lb.ContainerPort <= 0 {
		return nil, invalid("LoadBalancerInfo ContainerPort is required")
	}
	return td, nil
}

type revisionLocation struct {
	RevisionType   string `json:"revisionType"`
	AppSpecContent *struct {
		Content string `json:"content"`
	} `json:"appSpecContent"`
}

func (cd *CodeDeploy) createDeployment(body []byte) (any, error) {
	var in struct {
		ApplicationName     string          `json:"applicationName"`
		DeploymentGroupName string          `json:"deploymentGroupName"`
		Revision            json.RawMessage `json:"revision"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	g, err := cd.lookupGroup(in.ApplicationName, in.DeploymentGroupName)
	if err != nil {
		return nil, err
	}
	if len(in.Revision) == 0 {
		return nil, clientError("RevisionRequiredException", "The revision must be specified.")
	}
	var rev revisionLocation
	if err := json.Unmarshal(in.Revision, &rev); err != nil {
		return nil, clientError("SerializationException", "%v", err)
	}
	if rev.RevisionType != "AppSpecContent" || rev.AppSpecContent == nil || strings.TrimSpace(rev.AppSpecContent.Content) == "" {
		return nil, clientError("InvalidRevisionException", "An ECS deployment needs a revision of type AppSpecContent with content.")
	}
	td, err := cd.parseAppSpec(rev.AppSpecContent.Content)
	if err != nil {
		return nil, err
	}
	for _, d := range cd.order {
		if d.group == g && !d.done() {
			return nil, clientError("DeploymentLimitExceededException",
				"The Deployment Group '%s' already has an active Deployment '%s'", g.name, d.id)
		}
	}
	d := cd.newDeployment(g, "user", td, in.Revision)
	d.failAt, g.failAt = g.failAt, ""
	return map[string]string{"deploymentId": d.id}, nil
}

func (cd *CodeDeploy) newDeployment(g *cdGroup, creator string, td *taskDef, revision json.RawMessage) *cdDeployment {
	d := &cdDeployment{id: newDeploymentID(), group: g, creator: creator, status: cdCreated, td: td,
		revision: revision, created: cd.ecs.now(), blue: g.svc.deps[0], blueTG: g.blueTG}
	for _, name := range ecsEvents {
		d.events = append(d.events, cdEvent{Name: name, Status: evPending})
	}
	cd.deployments[d.id] = d
	cd.order = append(cd.order, d)
	return d
}

// deploymentInfo is GetDeployment's wire shape.
type deploymentInfo struct {
	ApplicationName     string          `json:"applicationName"`
	DeploymentGroupName string          `json:"deploymentGroupName"`
	DeploymentID        string          `json:"deploymentId"`
	Status              string          `json:"status"`
	Creator             string          `json:"creator"`
	Revision            json.RawMessage `json:"revision,omitempty"`
	ErrorInformation    *cdErrorInfo    `json:"errorInformation,omitempty"`
	RollbackInfo        *cdRollbackInfo `json:"rollbackInfo,omitempty"`
	CreateTime          *epoch          `json:"createTime"`
	StartTime           *epoch          `json:"startTime,omitempty"`
	CompleteTime        *epoch          `json:"completeTime,omitempty"`
	DeploymentOverview  map[string]int  `json:"deploymentOverview"`
	groupConfig
}

func (cd *CodeDeploy) getDeployment(body []byte) (any, error) {
	var in struct {
		DeploymentID string `json:"deploymentId"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	d, err := cd.lookupDeployment(in.DeploymentID)
	if err != nil {
		return nil, err
	}
	if !d.done() {
		cd.step(d)
	}
	info := deploymentInfo{ApplicationName: d.group.app, DeploymentGroupName: d.group.name, DeploymentID: d.id,
		Status: d.status, Creator: d.creator, Revision: d.revision, ErrorInformation: d.errInfo,
		RollbackInfo: d.rollback, CreateTime: at(d.created), StartTime: d.started, CompleteTime: d.completed,
		DeploymentOverview: map[string]int{"Pending": 0, "InProgress": 0, "Succeeded": 0, "Failed": 0, "Skipped": 0, "Ready": 0},
		groupConfig:        d.group.config()}
	info.DeploymentOverview[d.targetStatus()]++
	return map[string]any{"deploymentInfo": info}, nil
}

// targetStatus is the ECS target's status (TargetStatus), which the
// deployment overview counts: one target per deployment.
func (d *cdDeployment) targetStatus() string {
	switch d.status {
	case cdCreated:
		return evPending
	case cdStopped:
		return cdFailed
	}
	return d.status // InProgress, Ready, Succeeded, Failed
}
