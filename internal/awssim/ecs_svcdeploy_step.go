package awssim

import (
	"strings"
	"time"
)

// The lifecycle stages of a service deployment, in order. For LINEAR and
// CANARY, PRE_PRODUCTION_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT repeat
// once per traffic step. (The SDK's ServiceDeploymentLifecycleStage enum
// lacks PRE_PRODUCTION_TRAFFIC_SHIFT, but the reference lists it among the
// values of ServiceDeployment.lifecycleStage; the SDK passes it through.)
var nextStage = map[string]string{
	"PRE_SCALE_UP":                  "SCALE_UP",
	"SCALE_UP":                      "POST_SCALE_UP",
	"POST_SCALE_UP":                 "TEST_TRAFFIC_SHIFT",
	"TEST_TRAFFIC_SHIFT":            "POST_TEST_TRAFFIC_SHIFT",
	"POST_TEST_TRAFFIC_SHIFT":       "PRE_PRODUCTION_TRAFFIC_SHIFT",
	"PRE_PRODUCTION_TRAFFIC_SHIFT":  "PRODUCTION_TRAFFIC_SHIFT",
	"PRODUCTION_TRAFFIC_SHIFT":      "POST_PRODUCTION_TRAFFIC_SHIFT",
	"POST_PRODUCTION_TRAFFIC_SHIFT": "BAKE_TIME",
	"BAKE_TIME":                     "CLEAN_UP",
}

// stepSvcDeployment advances an unfinished service deployment one step,
// after the service's tasks stepped.
func (x *ECS) stepSvcDeployment(sd *svcDeployment) {
	switch sd.status {
	case sdPending:
		sd.status, sd.started = sdInProgress, at(x.now())
		x.enterStage(sd, "PRE_SCALE_UP")
	case sdInProgress:
		x.progress(sd)
	case sdRollbackRequested:
		x.beginRollback(sd)
	case sdRollbackInProgress:
		x.finishRollback(sd)
	}
}

// progress holds the deployment in its stage while the stage's work is
// unfinished or a PAUSE hook awaits action, and otherwise enters the next.
func (x *ECS) progress(sd *svcDeployment) {
	svc := sd.svc
	if fired := x.firedAlarms(sd); len(fired) > 0 {
		sd.triggered = fired
		x.failSvcDeployment(sd, "Service deployment rolled back because the CloudWatch alarm(s) "+strings.Join(fired, ", ")+" went into ALARM state.",
			sd.config.Alarms.Rollback)
		return
	}
	for _, h := range sd.hooks {
		if h.Status == "AWAITING_ACTION" {
			return
		}
	}
	if cb := sd.config.DeploymentCircuitBreaker; cb != nil && cb.Enable && sd.target.FailedTasks >= CircuitBreakerThreshold {
		sd.breakerTripped = true
		x.failSvcDeployment(sd, "Service deployment rolled back because the circuit breaker threshold was exceeded: tasks failed to start.", cb.Rollback)
		return
	}
	sd.held++
	switch sd.stage {
	case "PRE_SCALE_UP", "CLEAN_UP":
	default:
		// The scheduler replaces green tasks that stopped, in SCALE_UP
		// and after: a task that crashes once RUNNING counts as a failure.
		if x.launch(svc, sd.target) && sd.stage != "SCALE_UP" {
			return
		}
	}
	switch sd.stage {
	case "SCALE_UP":
		if !x.healthy(svc, sd.target) {
			return
		}
	case "PRODUCTION_TRAFFIC_SHIFT":
		if sd.tgtProd < 100 {
			if sd.held < BakeObservations {
				return // the step bake of a linear or canary step
			}
			x.enterStage(sd, "PRE_PRODUCTION_TRAFFIC_SHIFT")
			return
		}
	case "BAKE_TIME":
		if sd.held < BakeObservations {
			return
		}
	case "CLEAN_UP":
		if x.draining(svc, sd.source) {
			return
		}
		x.succeed(sd)
		return
	}
	x.enterStage(sd, nextStage[sd.stage])
}

// enterStage moves the deployment into a stage and does what entering it
// does: launch the target, shift traffic, stop the source, pause.
func (x *ECS) enterStage(sd *svcDeployment, stage string) {
	now := x.now()
	sd.stage, sd.held, sd.hooks, sd.updated = stage, 0, nil, now
	svc := sd.svc
	switch stage {
	case "SCALE_UP":
		x.launch(svc, sd.target)
	case "POST_TEST_TRAFFIC_SHIFT":
		sd.tgtTest, sd.srcTest = 100, 0
	case "PRODUCTION_TRAFFIC_SHIFT":
		sd.tgtProd = sd.config.nextProductionWeight(sd.tgtProd)
		sd.srcProd = 100 - sd.tgtProd
	case "CLEAN_UP":
		if live := x.depTasks(svc, sd.source); len(live) > 0 {
			x.stopTasks(svc, live, "Scaling activity initiated by (deployment "+sd.target.ID+")")
		}
	}
	if sd.config.pauses(stage) {
		sd.hooks = []hookDetail{{HookID: uuid(), TargetType: "PAUSE", Status: "AWAITING_ACTION",
			ExpiresAt: at(now.Add(hookTimeoutMinutes * time.Minute)), TimeoutAction: "ROLLBACK"}}
	}
}

// healthy reports whether the deployment has its desired count of
// RUNNING, HEALTHY tasks.
func (x *ECS) healthy(svc *service, d *deployment) bool {
	live := x.depTasks(svc, d)
	for _, t := range live {
		if t.LastStatus != "RUNNING" || t.HealthStatus != "HEALTHY" {
			return false
		}
	}
	return len(live) == int(d.DesiredCount)
}

// draining reports whether a deployment still has tasks not yet STOPPED.
func (x *ECS) draining(svc *service, d *deployment) bool {
	for _, t := range svc.tasks {
		if t.dep == d && t.LastStatus != "STOPPED" && !t.vanished {
			return true
		}
	}
	return false
}

// firedAlarms returns the deployment's alarms in ALARM once production
// traffic has begun to move and until the bake time ends. Each look is an
// observation of the alarm, as a DescribeAlarms is (Alarms.FireAfter).
func (x *ECS) firedAlarms(sd *svcDeployment) []string {
	al := sd.config.Alarms
	if al == nil || !al.Enable || sd.tgtProd == 0 || sd.stage == "CLEAN_UP" {
		return nil
	}
	var fired []string
	for _, name := range al.AlarmNames {
		if x.s.Alarms.observe(name) == "ALARM" {
			fired = append(fired, name)
		}
	}
	return fired
}

func (x *ECS) succeed(sd *svcDeployment) {
	svc := sd.svc
	now := at(x.now())
	sd.status, sd.finished, sd.updated = sdSuccessful, now, x.now()
	sd.reason = "Service deployment completed successfully."
	p := sd.target
	svc.deps = []*deployment{p}
	p.Status, p.RolloutState, p.RolloutStateReason, p.UpdatedAt = "PRIMARY", "COMPLETED", "ECS deployment "+p.ID+" completed.", now
	x.addEvent(svc, "(service %s) (deployment %s) deployment completed.", svc.ServiceName, p.ID)
	x.addEvent(svc, "(service %s) has reached a steady state.", svc.ServiceName)
}

// failSvcDeployment ends a failed deployment: rolled back when its
// failure detection has rollback on, otherwise STOPPED with the target's
// tasks stopped ("the rollback option is not in use for the failure
// detection mechanism ... and the service fails", ServiceDeployment.stoppedAt).
func (x *ECS) failSvcDeployment(sd *svcDeployment, reason string, rollback bool) {
	if rollback {
		x.requestRollback(sd, reason)
		return
	}
	now := at(x.now())
	sd.status, sd.reason, sd.stopped, sd.finished, sd.updated = sdStopped, reason, now, now, x.now()
	sd.target.RolloutState, sd.target.RolloutStateReason = "FAILED", reason
	if live := x.depTasks(sd.svc, sd.target); len(live) > 0 {
		x.stopTasks(sd.svc, live, "Scaling activity initiated by (deployment "+sd.target.ID+")")
	}
}

// requestRollback turns an unfinished deployment ROLLBACK_REQUESTED; the
// next observations roll it back.
func (x *ECS) requestRollback(sd *svcDeployment, reason string) {
	now := x.now()
	sd.status, sd.reason, sd.updated = sdRollbackRequested, reason, now
	sd.rollback = &rollbackInfo{Reason: reason, StartedAt: at(now), ServiceRevisionArn: sd.source.revision}
	for i := range sd.hooks {
		if sd.hooks[i].Status == "AWAITING_ACTION" {
			sd.hooks[i].Status = "FAILED"
		}
	}
	sd.failRollback, sd.svc.failRollback = sd.svc.failRollback, false
	x.addEvent(sd.svc, "(service %s) rolling back to deployment %s.", sd.svc.ServiceName, sd.source.ID)
}

// beginRollback moves production and test traffic back to the source
// revision, makes its deployment PRIMARY again and stops the target's
// tasks; a rollback scripted to fail changes nothing.
func (x *ECS) beginRollback(sd *svcDeployment) {
	sd.status, sd.updated = sdRollbackInProgress, x.now()
	if sd.failRollback {
		return
	}
	svc, src, tgt := sd.svc, sd.source, sd.target
	sd.srcProd, sd.srcTest, sd.tgtProd, sd.tgtTest = 100, 100, 0, 0
	svc.TaskDefinition = src.td.arn
	tgt.Status, tgt.RolloutState, tgt.RolloutStateReason = "ACTIVE", "FAILED", sd.reason
	src.Status, src.RolloutState, src.DesiredCount = "PRIMARY", "IN_PROGRESS", svc.DesiredCount
	deps := []*deployment{src}
	for _, d := range svc.deps {
		if d != src {
			deps = append(deps, d)
		}
	}
	svc.deps = deps
	if live := x.depTasks(svc, tgt); len(live) > 0 {
		x.stopTasks(svc, live, "Scaling activity initiated by (deployment "+src.ID+")")
	}
	x.launch(svc, src)
}

// finishRollback ends the rollback once the source runs its desired
// healthy tasks and the target's are gone, or ROLLBACK_FAILED as scripted.
func (x *ECS) finishRollback(sd *svcDeployment) {
	svc, src := sd.svc, sd.source
	now := at(x.now())
	if sd.failRollback {
		sd.status, sd.finished, sd.updated = sdRollbackFailed, now, x.now()
		sd.reason = "Service deployment rollback failed: " + sd.reason
		sd.target.RolloutState = "FAILED"
		return
	}
	if x.launch(svc, src) || !x.healthy(svc, src) || x.draining(svc, sd.target) {
		return
	}
	sd.status, sd.finished, sd.updated = sdRollbackSuccessful, now, x.now()
	svc.deps = []*deployment{src}
	src.RolloutState, src.RolloutStateReason, src.UpdatedAt = "COMPLETED", "ECS deployment "+src.ID+" completed.", now
	x.addEvent(svc, "(service %s) has reached a steady state.", svc.ServiceName)
}
