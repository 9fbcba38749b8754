package awssim

import (
	"slices"
	"strings"
)

type updateServiceInput struct {
	Cluster                  string                   `json:"cluster"`
	Service                  string                   `json:"service"`
	TaskDefinition           string                   `json:"taskDefinition"`
	DesiredCount             *int32                   `json:"desiredCount"`
	ForceNewDeployment       bool                     `json:"forceNewDeployment"`
	DeploymentConfiguration  *deploymentConfiguration `json:"deploymentConfiguration"`
	NetworkConfiguration     *networkConfiguration    `json:"networkConfiguration"`
	CapacityProviderStrategy []CapacityProviderItem   `json:"capacityProviderStrategy"`
}

// updateService changes a service; a new task definition (or
// forceNewDeployment, or new network/capacity settings) starts a new
// PRIMARY deployment and turns the previous one ACTIVE.
func (x *ECS) updateService(body []byte) (any, error) {
	var in updateServiceInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, err := x.lookupCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	svc := c.services[lastSegment(in.Service)]
	if in.Service == "" || svc == nil || (strings.HasPrefix(in.Service, "arn:") && in.Service != svc.ServiceArn) {
		return nil, clientError("ServiceNotFoundException", "Service not found.")
	}
	td := svc.deps[0].td
	if in.TaskDefinition != "" {
		if td, err = x.usableTaskDef(in.TaskDefinition); err != nil {
			return nil, err
		}
	}
	if ctl := svc.DeploymentController["type"]; ctl != "ECS" && td != svc.deps[0].td {
		msg := "Unable to update task definition on services with a " + ctl + " deployment controller."
		if ctl == "CODE_DEPLOY" {
			msg += " Use AWS CodeDeploy to trigger a new deployment."
		}
		return nil, clientError("InvalidParameterException", "%s", msg)
	}
	if in.DesiredCount != nil && *in.DesiredCount < 0 {
		return nil, clientError("InvalidParameterException", "Invalid desiredCount %d: must be 0 or more.", *in.DesiredCount)
	}
	dc := svc.DeploymentConfiguration
	if in.DeploymentConfiguration != nil {
		if dc, err = mergeDeploymentConfiguration(dc, *in.DeploymentConfiguration); err != nil {
			return nil, err
		}
	}
	if in.DesiredCount != nil {
		svc.DesiredCount = *in.DesiredCount
		svc.deps[0].DesiredCount = *in.DesiredCount
	}
	svc.DeploymentConfiguration = dc
	redeploy := td != svc.deps[0].td || in.ForceNewDeployment
	if in.NetworkConfiguration != nil {
		svc.NetworkConfiguration, redeploy = in.NetworkConfiguration, true
	}
	if len(in.CapacityProviderStrategy) > 0 {
		svc.CapacityProviderStrategy, svc.LaunchType, redeploy = in.CapacityProviderStrategy, "", true
	}
	if redeploy {
		for _, d := range svc.deps {
			d.Status = "ACTIVE"
		}
		svc.deps = append([]*deployment{x.newDeployment(svc, td)}, svc.deps...)
		svc.TaskDefinition = td.arn
		if svc.DeploymentConfiguration.Strategy != StrategyRolling {
			x.startSvcDeployment(svc)
		}
	}
	x.recount(svc)
	return map[string]any{"service": svc.view()}, nil
}

// stepService advances the scheduler one step: tasks move one lifecycle
// step, then the PRIMARY deployment launches, drains or completes.
func (x *ECS) stepService(svc *service) {
	for _, t := range slices.Clone(svc.tasks) {
		x.stepServiceTask(svc, t)
	}
	if svc.DeploymentController["type"] == "CODE_DEPLOY" {
		// CodeDeploy owns the task sets (codedeploy_step.go): the scheduler
		// only keeps each at its desired count.
		for _, d := range svc.deps {
			x.launch(svc, d)
		}
	} else if sd := svc.activeSvcDeployment(); sd != nil {
		x.stepSvcDeployment(sd)
	} else {
		x.stepDeployments(svc)
	}
	x.recount(svc)
}

func (x *ECS) stepServiceTask(svc *service, t *task) {
	b := t.behavior
	switch t.LastStatus {
	case "PROVISIONING":
		x.toPending(t)
	case "PENDING":
		if b.NeverRunning {
			x.failToStart(t)
			t.dep.FailedTasks++
			return
		}
		x.toRunning(t)
	case "RUNNING":
		switch {
		case !t.live():
		case b.Unhealthy:
			sigterm := int32(143)
			x.beginStop(t, "ServiceSchedulerInitiated", "Task failed container health checks", exitCodes(t, &sigterm))
			x.addEvent(svc, "(service %s) (task %s) failed container health checks.", svc.ServiceName, t.id)
			t.dep.FailedTasks++
		case len(b.ExitCodes) > 0:
			x.beginStop(t, stopCode(b), stoppedReason(b), exitCodes(t, nil))
			t.dep.FailedTasks++
		}
	case "DEPROVISIONING":
		x.toStopped(t)
	}
}

func (x *ECS) stepDeployments(svc *service) {
	p := svc.deps[0]
	if p.RolloutState == "FAILED" {
		return
	}
	cb := svc.DeploymentConfiguration.DeploymentCircuitBreaker
	if p.RolloutState == "IN_PROGRESS" && cb != nil && cb.Enable && p.FailedTasks >= CircuitBreakerThreshold {
		x.tripCircuitBreaker(svc, cb.Rollback)
		return
	}
	if x.launch(svc, p) || p.RolloutState != "IN_PROGRESS" {
		return
	}
	for _, t := range x.depTasks(svc, p) {
		if t.LastStatus != "RUNNING" || t.HealthStatus != "HEALTHY" {
			return
		}
	}
	var old []*task
	draining := false
	for _, t := range svc.tasks {
		if t.dep != p && t.live() {
			old = append(old, t)
		}
		draining = draining || (t.dep != p && t.LastStatus == "DEPROVISIONING")
	}
	if len(old) > 0 {
		x.stopTasks(svc, old, "Scaling activity initiated by (deployment "+p.ID+")")
		return
	}
	if draining {
		return
	}
	svc.deps = svc.deps[:1]
	p.RolloutState, p.RolloutStateReason, p.UpdatedAt = "COMPLETED", "ECS deployment "+p.ID+" completed.", at(x.now())
	x.addEvent(svc, "(service %s) (deployment %s) deployment completed.", svc.ServiceName, p.ID)
	x.addEvent(svc, "(service %s) has reached a steady state.", svc.ServiceName)
}

// launch starts tasks until the deployment has DesiredCount live ones, or
// stops the extras; it reports whether it changed anything.
func (x *ECS) launch(svc *service, d *deployment) bool {
	live := x.depTasks(svc, d)
	if n := int(d.DesiredCount) - len(live); n > 0 {
		b := TaskBehavior{}
		if x.onServiceTask != nil {
			b = x.onServiceTask(d.TaskDefinition)
		}
		var ids []string
		for range n {
			ids = append(ids, "(task "+x.startServiceTask(svc, d, b).id+")")
		}
		d.UpdatedAt = at(x.now())
		x.addEvent(svc, "(service %s) has started %d tasks: %s.", svc.ServiceName, n, strings.Join(ids, " "))
		return true
	}
	if extra := len(live) - int(d.DesiredCount); extra > 0 {
		x.stopTasks(svc, live[:extra], "Scaling activity initiated by (service "+svc.ServiceName+")")
		return true
	}
	return false
}

// depTasks returns the live tasks of a deployment.
func (x *ECS) depTasks(svc *service, d *deployment) []*task {
	var out []*task
	for _, t := range svc.tasks {
		if t.dep == d && t.live() {
			out = append(out, t)
		}
	}
	return out
}

func (x *ECS) stopTasks(svc *service, tasks []*task, reason string) {
	var ids []string
	sigterm := int32(143)
	for _, t := range tasks {
		if t.LastStatus == "RUNNING" {
			x.beginStop(t, "ServiceSchedulerInitiated", reason, exitCodes(t, &sigterm))
		} else {
			x.beginStop(t, "ServiceSchedulerInitiated", reason, nil)
		}
		ids = append(ids, "(task "+t.id+")")
	}
	x.addEvent(svc, "(service %s) has stopped %d running tasks: %s.", svc.ServiceName, len(tasks), strings.Join(ids, " "))
}

// tripCircuitBreaker fails the PRIMARY deployment and, with rollback, starts
// a new PRIMARY deployment of the last deployment that completed
// successfully (as ECS documents), not merely the one it replaced.
func (x *ECS) tripCircuitBreaker(svc *service, rollback bool) {
	p := svc.deps[0]
	p.RolloutState, p.RolloutStateReason, p.UpdatedAt = "FAILED", "ECS deployment circuit breaker: tasks failed to start.", at(x.now())
	x.addEvent(svc, "(service %s) (deployment %s) deployment failed: tasks failed to start.", svc.ServiceName, p.ID)
	if live := x.depTasks(svc, p); len(live) > 0 {
		x.stopTasks(svc, live, "Scaling activity initiated by (deployment "+p.ID+")")
	}
	var target *deployment
	for _, d := range svc.deps[1:] {
		if d.RolloutState == "COMPLETED" {
			target = d
			break
		}
	}
	if !rollback || target == nil {
		return
	}
	p.Status = "ACTIVE"
	d := x.newDeployment(svc, target.td)
	svc.deps = append([]*deployment{d}, svc.deps...)
	svc.TaskDefinition = target.td.arn
	x.addEvent(svc, "(service %s) rolling back to deployment %s.", svc.ServiceName, target.ID)
}

// recount sets the running and pending counts from the tasks.
func (x *ECS) recount(svc *service) {
	svc.RunningCount, svc.PendingCount = 0, 0
	for _, d := range svc.deps {
		d.RunningCount, d.PendingCount = 0, 0
		for _, t := range x.depTasks(svc, d) {
			switch t.LastStatus {
			case "RUNNING":
				d.RunningCount++
			case "PROVISIONING", "PENDING":
				d.PendingCount++
			}
		}
		svc.RunningCount += d.RunningCount
		svc.PendingCount += d.PendingCount
	}
}
