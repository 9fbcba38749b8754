package awssim

import (
	"encoding/json"
	"fmt"
	"slices"
)

// creatorRollback is DeploymentCreator codeDeployRollback: the deployment
// CodeDeploy creates to roll a failed or stopped one back.
const creatorRollback = "codeDeployRollback"

// step advances an unfinished deployment one observation, after the
// service's tasks stepped. A user deployment runs its lifecycle events in
// order, each Pending → InProgress on one observation and InProgress →
// Succeeded on a later one; a rollback deployment moves traffic back to
// the original task set, then waits for the replacement's tasks to stop.
func (cd *CodeDeploy) step(d *cdDeployment) {
	x, svc := cd.ecs, d.group.svc
	x.stepService(svc)
	defer x.recount(svc)
	switch d.status {
	case cdCreated:
		d.status, d.started = cdInProgress, at(x.now())
		if d.creator == creatorRollback {
			cd.beginRollback(d)
			return
		}
		cd.progress(d)
	case cdInProgress:
		if d.creator == creatorRollback {
			cd.finishRollback(d)
			return
		}
		if cd.alarmStopped(d) {
			return
		}
		cd.progress(d)
	}
	// Ready waits for ContinueDeployment.
}

// progress starts the next event, or ends the one in progress once its
// work is done: Install waits for the replacement task set's tasks to be
// RUNNING and HEALTHY, and fails once they failed CircuitBreakerThreshold
// times.
func (cd *CodeDeploy) progress(d *cdDeployment) {
	x, svc := cd.ecs, d.group.svc
	ev := &d.events[d.next]
	if ev.Status == evPending {
		ev.Status, ev.StartTime = cdInProgress, at(x.now())
		if ev.Name == "Install" {
			d.green = x.newDeployment(svc, d.td)
			d.green.Status = "ACTIVE"
			svc.deps = append(svc.deps, d.green)
			x.launch(svc, d.green)
		}
		return
	}
	if ev.Name == "Install" {
		if d.green.FailedTasks >= CircuitBreakerThreshold {
			cd.fail(d, "ECS_UPDATE_ERROR", fmt.Sprintf("The replacement task set's tasks failed %d times and never became healthy.", d.green.FailedTasks))
			return
		}
		if !x.healthy(svc, d.green) {
			return
		}
	}
	if ev.Name == "AllowTraffic" && !cd.shiftTraffic(d) {
		return // a canary or linear step holds
	}
	if d.failAt == ev.Name {
		code := "HOOK_EXECUTION_FAILURE"
		if ev.Name == "Install" || ev.Name == "AllowTestTraffic" || ev.Name == "AllowTraffic" {
			code = "ECS_UPDATE_ERROR"
		}
		cd.fail(d, code, "Lifecycle event "+ev.Name+" failed.")
		return
	}
	ev.Status, ev.EndTime = cdSucceeded, at(x.now())
	switch ev.Name {
	case "AllowTestTraffic":
		d.greenTest = 100
	case "AllowTraffic":
		d.greenProd = 100
	}
	d.next++
	switch {
	case d.next == len(d.events):
		cd.succeed(d)
	case ev.Name == "AfterAllowTestTraffic" && d.group.spec.WaitForReady:
		d.status = cdReady
	}
}

// succeed makes the replacement task set the service's only one: the
// service runs the new task definition, the original tasks stop, and the
// target groups swap roles for the next deployment.
func (cd *CodeDeploy) succeed(d *cdDeployment) {
	x, svc, g := cd.ecs, d.group.svc, d.group
	now := at(x.now())
	d.status, d.completed = cdSucceeded, now
	if live := x.depTasks(svc, d.blue); len(live) > 0 {
		x.stopTasks(svc, live, "Scaling activity initiated by (deployment "+d.id+")")
	}
	svc.deps, svc.TaskDefinition = []*deployment{d.green}, d.td.arn
	d.green.Status, d.green.RolloutState, d.green.RolloutStateReason, d.green.UpdatedAt = "PRIMARY", "COMPLETED", "", now
	g.blueTG = 1 - g.blueTG
	svc.LoadBalancers[0].TargetGroupArn = cd.targetGroupArn(g.spec.TargetGroups[g.blueTG])
	x.addEvent(svc, "(service %s) updated by CodeDeploy deployment %s.", svc.ServiceName, d.id)
}

// end finishes a deployment Failed or Stopped: the event in progress
// fails, those not started are skipped.
func (cd *CodeDeploy) end(d *cdDeployment, status, code, message string) {
	now := at(cd.ecs.now())
	for i := range d.events {
		switch d.events[i].Status {
		case cdInProgress:
			d.events[i].Status, d.events[i].EndTime = cdFailed, now
		case evPending:
			d.events[i].Status = evSkipped
		}
	}
	d.status, d.completed, d.errInfo = status, now, &cdErrorInfo{Code: code, Message: message}
}

// fail ends a deployment Failed and, auto rollback being enabled on
// DEPLOYMENT_FAILURE, rolls it back if it started a replacement task set.
func (cd *CodeDeploy) fail(d *cdDeployment, code, message string) {
	cd.end(d, cdFailed, code, message)
	cd.rollBack(d, "Deployment failed: "+message)
}

// rollBack creates the rollback deployment of a failed or stopped one and
// reports it as CodeDeploy does: rollbackInfo.rollbackDeploymentId on the
// original, rollbackTriggeringDeploymentId on the rollback, whose creator
// is codeDeployRollback. Before Install there is nothing to roll back.
func (cd *CodeDeploy) rollBack(d *cdDeployment, reason string) {
	g := d.group
	if d.creator == creatorRollback {
		return // a stopped rollback is not rolled back
	}
	if d.green == nil {
		d.rollback = &cdRollbackInfo{RollbackMessage: "No rollback: the deployment ended before the replacement task set was created."}
		return
	}
	r := cd.newDeployment(g, creatorRollback, d.blue.td, rollbackRevision(d.blue.td, g.spec))
	r.blue, r.green, r.greenProd, r.greenTest, r.triggering, r.blueTG = d.blue, d.green, d.greenProd, d.greenTest, d, d.blueTG
	r.failRollback, g.failRollback = g.failRollback, false
	r.rollback = &cdRollbackInfo{RollbackTriggeringDeploymentID: d.id}
	for i := range r.events {
		if r.events[i].Name != "AllowTraffic" {
			r.events[i].Status = evSkipped
		}
	}
	r.next = slices.IndexFunc(r.events, func(e cdEvent) bool { return e.Name == "AllowTraffic" })
	d.rollback = &cdRollbackInfo{RollbackDeploymentID: r.id, RollbackMessage: reason}
}

// rollbackRevision is the AppSpec of the revision a rollback returns to.
func rollbackRevision(td *taskDef, spec DeploymentGroupSpec) json.RawMessage {
	content := fmt.Sprintf("version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n"+
		"        TaskDefinition: %s\n        LoadBalancerInfo:\n          ContainerName: %s\n          ContainerPort: %d\n",
		td.arn, spec.ContainerName, spec.ContainerPort)
	return mustJSON(map[string]any{"revisionType": "AppSpecContent", "appSpecContent": map[string]string{"content": content}})
}

// beginRollback moves production and test traffic back to the original
// task set and stops the replacement's tasks; a rollback scripted to fail
// (FailRollbacks) moves nothing.
func (cd *CodeDeploy) beginRollback(r *cdDeployment) {
	x, svc := cd.ecs, r.group.svc
	r.events[r.next].Status, r.events[r.next].StartTime = cdInProgress, at(x.now())
	if r.failRollback {
		return
	}
	r.greenProd, r.greenTest = 0, 0
	r.green.DesiredCount = 0
	if live := x.depTasks(svc, r.green); len(live) > 0 {
		x.stopTasks(svc, live, "Scaling activity initiated by (deployment "+r.id+")")
	}
}

// finishRollback ends the rollback once the original task set runs its
// desired healthy tasks and the replacement's are gone, or Failed as
// scripted, traffic left where the failed deployment left it.
func (cd *CodeDeploy) finishRollback(r *cdDeployment) {
	x, svc := cd.ecs, r.group.svc
	orig := r.triggering
	if r.failRollback {
		cd.end(r, cdFailed, "ECS_UPDATE_ERROR", "The rollback failed: traffic was not moved back to the original task set.")
		orig.rollback.RollbackMessage = "Rollback deployment " + r.id + " failed."
		return
	}
	if x.draining(svc, r.green) || !x.healthy(svc, r.blue) {
		return
	}
	svc.deps = slices.DeleteFunc(svc.deps, func(dep *deployment) bool { return dep == r.green })
	now := at(x.now())
	r.events[r.next].Status, r.events[r.next].EndTime = cdSucceeded, now
	r.status, r.completed = cdSucceeded, now
	orig.rollback.RollbackMessage = "Rolled back by deployment " + r.id + "."
}
