package awssim

import (
	"slices"
	"strings"
	"time"
)

// A service deployment is how ECS carries out a BLUE_GREEN, LINEAR or
// CANARY release: UpdateService to a new task definition creates one that
// moves the service from its source revision (the one serving production)
// to a target revision through lifecycle stages, shifting test and then
// production traffic. Each DescribeServiceDeployments or DescribeServices
// of the service advances it one step (see ecs_svcdeploy_step.go).
//
// ECS also lists service deployments for ROLLING services (since October
// 2024); the simulator does not: a rolling service is followed through
// its deployments list, and ListServiceDeployments answers it with none.
type svcDeployment struct {
	arn            string
	svc            *service
	source, target *deployment
	config         deploymentConfiguration // the service's when it started
	status, reason string
	stage          string
	held           int // observations spent in the current stage
	hooks          []hookDetail
	// Requested traffic weights, in percent, of the source and target.
	srcProd, srcTest, tgtProd, tgtTest float64
	created, updated                   time.Time
	started, finished, stopped         *epoch
	rollback                           *rollbackInfo
	failRollback                       bool     // end the rollback ROLLBACK_FAILED
	triggered                          []string // alarms seen in ALARM
	breakerTripped                     bool
}

type hookDetail struct {
	HookID        string `json:"hookId"`
	TargetType    string `json:"targetType"`
	Status        string `json:"status"`
	ExpiresAt     *epoch `json:"expiresAt,omitempty"`
	TimeoutAction string `json:"timeoutAction"`
}

type rollbackInfo struct {
	Reason             string `json:"reason"`
	StartedAt          *epoch `json:"startedAt"`
	ServiceRevisionArn string `json:"serviceRevisionArn"`
}

// The service deployment statuses ECS reports (ServiceDeploymentStatus).
const (
	sdPending             = "PENDING"
	sdInProgress          = "IN_PROGRESS"
	sdSuccessful          = "SUCCESSFUL"
	sdStopped             = "STOPPED"
	sdRollbackRequested   = "ROLLBACK_REQUESTED"
	sdRollbackInProgress  = "ROLLBACK_IN_PROGRESS"
	sdRollbackSuccessful  = "ROLLBACK_SUCCESSFUL"
	sdRollbackFailed      = "ROLLBACK_FAILED"
	hookTimeoutMinutes    = 1440 // DeploymentLifecycleHookTimeoutConfiguration's default
	maxDescribeDeployment = 20
)

func (sd *svcDeployment) done() bool {
	switch sd.status {
	case sdSuccessful, sdStopped, sdRollbackSuccessful, sdRollbackFailed:
		return true
	}
	return false
}

// activeSvcDeployment returns the service's unfinished service deployment.
func (svc *service) activeSvcDeployment() *svcDeployment {
	if len(svc.sds) > 0 && !svc.sds[0].done() {
		return svc.sds[0]
	}
	return nil
}

// startSvcDeployment creates a PENDING service deployment from the revision
// serving production to the new PRIMARY deployment's. An unfinished one is
// stopped and its target's tasks with it: the new one replaces it.
func (x *ECS) startSvcDeployment(svc *service) {
	target, source := svc.deps[0], svc.deps[1]
	if prev := svc.activeSvcDeployment(); prev != nil {
		now := at(x.now())
		prev.status, prev.reason, prev.stopped, prev.finished = sdStopped, "Service deployment stopped: a newer service deployment replaced it.", now, now
		source = prev.source
		if live := x.depTasks(svc, prev.target); len(live) > 0 {
			x.stopTasks(svc, live, "Scaling activity initiated by (deployment "+prev.target.ID+")")
		}
	}
	now := x.now()
	sd := &svcDeployment{
		arn: x.arn("service-deployment/" + svc.cluster.name + "/" + svc.ServiceName + "/" + deploymentID()),
		svc: svc, source: source, target: target, config: svc.DeploymentConfiguration,
		status: sdPending, created: now, updated: now, srcProd: 100, srcTest: 100,
	}
	target.DesiredCount = svc.DesiredCount
	svc.sds = append([]*svcDeployment{sd}, svc.sds...)
}

// deploymentID is a service deployment ID shaped like the reference's
// example (service-deployment/MyCluster/MyService/r9i43YFjvgF_xlg7m2eJ1r).
func deploymentID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
	b := []byte(randomHex(44))
	out := make([]byte, 22)
	for i := range out {
		out[i] = alphabet[(int(b[2*i])*16+int(b[2*i+1]))%len(alphabet)]
	}
	return string(out)
}

// FailRollbacks makes the next rollback of a service deployment of the
// named service (in any cluster) end ROLLBACK_FAILED, its traffic weights
// left where they were when the rollback began.
func (x *ECS) FailRollbacks(service string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, c := range x.clusters {
		if svc := c.services[lastSegment(service)]; svc != nil {
			svc.failRollback = true
		}
	}
}

// findSvcDeployment looks a service deployment up by ARN.
func (x *ECS) findSvcDeployment(arn string) *svcDeployment {
	rest, ok := strings.CutPrefix(arn, x.arn("service-deployment/"))
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 3 {
		return nil
	}
	c := x.clusters[parts[0]]
	if c == nil || c.services[parts[1]] == nil {
		return nil
	}
	for _, sd := range c.services[parts[1]].sds {
		if sd.arn == arn {
			return sd
		}
	}
	return nil
}

type revisionSummary struct {
	Arn                              string  `json:"arn"`
	RequestedTaskCount               int32   `json:"requestedTaskCount"`
	RunningTaskCount                 int32   `json:"runningTaskCount"`
	PendingTaskCount                 int32   `json:"pendingTaskCount"`
	RequestedTestTrafficWeight       float64 `json:"requestedTestTrafficWeight"`
	RequestedProductionTrafficWeight float64 `json:"requestedProductionTrafficWeight"`
}

type rollbackMonitor struct {
	Status              string   `json:"status"`
	FailureCount        *int32   `json:"failureCount,omitempty"`
	Threshold           *int32   `json:"threshold,omitempty"`
	AlarmNames          []string `json:"alarmNames,omitempty"`
	TriggeredAlarmNames []string `json:"triggeredAlarmNames,omitempty"`
}

// serviceDeploymentView is the DescribeServiceDeployments wire shape.
type serviceDeploymentView struct {
	ServiceDeploymentArn     string                  `json:"serviceDeploymentArn"`
	ServiceArn               string                  `json:"serviceArn"`
	ClusterArn               string                  `json:"clusterArn"`
	CreatedAt                *epoch                  `json:"createdAt"`
	StartedAt                *epoch                  `json:"startedAt,omitempty"`
	FinishedAt               *epoch                  `json:"finishedAt,omitempty"`
	StoppedAt                *epoch                  `json:"stoppedAt,omitempty"`
	UpdatedAt                *epoch                  `json:"updatedAt"`
	SourceServiceRevisions   []revisionSummary       `json:"sourceServiceRevisions"`
	TargetServiceRevision    revisionSummary         `json:"targetServiceRevision"`
	Status                   string                  `json:"status"`
	StatusReason             string                  `json:"statusReason,omitempty"`
	LifecycleStage           string                  `json:"lifecycleStage,omitempty"`
	LifecycleHookDetails     []hookDetail            `json:"lifecycleHookDetails,omitempty"`
	DeploymentConfiguration  deploymentConfiguration `json:"deploymentConfiguration"`
	Rollback                 *rollbackInfo           `json:"rollback,omitempty"`
	DeploymentCircuitBreaker rollbackMonitor         `json:"deploymentCircuitBreaker"`
	Alarms                   rollbackMonitor         `json:"alarms"`
}

func (x *ECS) viewSvcDeployment(sd *svcDeployment) serviceDeploymentView {
	v := serviceDeploymentView{
		ServiceDeploymentArn: sd.arn, ServiceArn: sd.svc.ServiceArn, ClusterArn: sd.svc.ClusterArn,
		CreatedAt: at(sd.created), StartedAt: sd.started, FinishedAt: sd.finished, StoppedAt: sd.stopped,
		UpdatedAt: at(sd.updated), Status: sd.status, StatusReason: sd.reason, LifecycleStage: sd.stage,
		LifecycleHookDetails: slices.Clone(sd.hooks), DeploymentConfiguration: sd.config, Rollback: sd.rollback,
		SourceServiceRevisions: []revisionSummary{x.revisionSummary(sd, sd.source, sd.srcProd, sd.srcTest)},
		TargetServiceRevision:  x.revisionSummary(sd, sd.target, sd.tgtProd, sd.tgtTest),
	}
	cb := sd.config.DeploymentCircuitBreaker
	v.DeploymentCircuitBreaker.Status = monitorStatus(sd, cb != nil && cb.Enable, sd.breakerTripped)
	if cb != nil && cb.Enable {
		failures, threshold := sd.target.FailedTasks, int32(CircuitBreakerThreshold)
		v.DeploymentCircuitBreaker.FailureCount, v.DeploymentCircuitBreaker.Threshold = &failures, &threshold
	}
	al := sd.config.Alarms
	v.Alarms.Status = monitorStatus(sd, al != nil && al.Enable, len(sd.triggered) > 0)
	if al != nil && al.Enable {
		v.Alarms.AlarmNames, v.Alarms.TriggeredAlarmNames = al.AlarmNames, slices.Clone(sd.triggered)
	}
	return v
}

// monitorStatus is a ServiceDeploymentRollbackMonitorsStatus.
func monitorStatus(sd *svcDeployment, enabled, triggered bool) string {
	switch {
	case !enabled:
		return "DISABLED"
	case triggered:
		return "TRIGGERED"
	case sd.done():
		return "MONITORING_COMPLETE"
	}
	return "MONITORING"
}

func (x *ECS) revisionSummary(sd *svcDeployment, d *deployment, prod, test float64) revisionSummary {
	r := revisionSummary{Arn: d.revision, RequestedProductionTrafficWeight: prod, RequestedTestTrafficWeight: test}
	for _, t := range x.depTasks(sd.svc, d) {
		switch t.LastStatus {
		case "RUNNING":
			r.RunningTaskCount++
		case "PROVISIONING", "PENDING":
			r.PendingTaskCount++
		}
	}
	if x.runsTasks(sd, d) {
		r.RequestedTaskCount = sd.svc.DesiredCount
	}
	return r
}

// runsTasks reports whether the revision is meant to have tasks now: the
// source until CLEAN_UP (or again once rolled back), the target from
// SCALE_UP until a rollback or a stop.
func (x *ECS) runsTasks(sd *svcDeployment, d *deployment) bool {
	rolledBack := sd.status == sdRollbackInProgress || sd.status == sdRollbackSuccessful || sd.status == sdStopped
	if d == sd.source {
		return rolledBack || (sd.stage != "CLEAN_UP" && sd.status != sdSuccessful)
	}
	return !rolledBack && sd.stage != "" && sd.stage != "PRE_SCALE_UP"
}
