package ecsdeploy

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/futuraplataforma/esteira/internal/release"
)

// rollout points the service at next and waits until ECS has it live: the
// rolling deployment COMPLETED, or the service deployment of a blue/green,
// linear or canary service SUCCESSFUL. updated, when not nil, is set once
// UpdateService has succeeded.
func (d *deploy) rollout(ctx context.Context, w *watcher, next string, updated *bool) (string, error) {
	if codeDeployed(d.live.Svc) {
		return d.rolloutCodeDeploy(ctx, next, updated)
	}
	s := strategyOf(d.live.Svc)
	if !native(s) {
		if err := updateService(ctx, d.c.ECS, d.o.Cluster, d.o.Service, next); err != nil {
			return "", err
		}
		if updated != nil {
			*updated = true
		}
		if err := w.wait(ctx, next); err != nil {
			return "", err
		}
		return revName(next) + " COMPLETED", nil
	}
	if d.strategy != nil {
		s = d.strategy.Strategy
		fmt.Fprintf(d.o.Out, "    strategy: %s (as the release expects)\n", d.strategyChange)
	}
	d.rec.Backend.Strategy = strategyName(s)
	out, err := d.c.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(d.o.Cluster), Service: aws.String(d.o.Service),
		TaskDefinition: aws.String(next), DeploymentConfiguration: d.strategy})
	if err != nil {
		return "", fmt.Errorf("update service %s in cluster %s to %s: %w", d.o.Service, d.o.Cluster, revName(next), err)
	}
	if updated != nil {
		*updated = true
	}
	if d.o.TestGate != nil && !pausesAfterTestTraffic(d.live.Svc) {
		fmt.Fprintf(d.o.Out, "    warning: service %s has no PAUSE lifecycle hook at POST_TEST_TRAFFIC_SHIFT, so the gate cannot run on test traffic: it runs only once production traffic has moved\n", d.o.Service)
	}
	f := &follower{api: d.c.ECS, strategy: s, out: d.o.Out, poll: d.o.PollInterval, gate: d.o.TestGate}
	if f.arn, err = findServiceDeployment(ctx, d.c.ECS, d.o.Cluster, d.o.Service, out); err != nil {
		return "", err
	}
	d.rec.Backend.ServiceDeployment = f.arn
	fmt.Fprintf(d.o.Out, "    %s service deployment %s\n", strategyName(s), f.arn)
	fctx, cancel := context.WithTimeout(ctx, d.o.Timeout)
	defer cancel()
	err = f.follow(fctx)
	if f.Gate != nil {
		d.rec.Backend.TestGate = gateRecord(f.Gate)
	}
	if err != nil {
		return "", err
	}
	return revName(next) + " SUCCESSFUL", nil
}

// rollbackNative ends a failed release of a service ECS deploys itself.
// When ECS rolled the service deployment back, every bit of traffic is on
// the revision before and nothing is left to do; when its rollback failed,
// esteira says where traffic is and touches nothing (a second deployment
// on top of a failed rollback could make it worse); otherwise (the new
// revision went live, but another service of the release failed) it
// deploys the revision before the same way and follows that.
func (d *deploy) rollbackNative(ctx context.Context, next string, cause error) (string, error) {
	before := revName(d.before)
	var ne *NativeError
	var ce *CodeDeployError
	switch {
	case errors.As(cause, &ce) && ce.RolledBack:
		return release.OutcomeRolledBack, fmt.Errorf("deploy FAILED: %w; CodeDeploy rolled it back: all production traffic is on %s, the revision before; revision %s is left registered for inspection; fix the cause and deploy again",
			cause, before, revName(next))
	case errors.As(cause, &ce) && ce.Status != "Succeeded":
		return release.OutcomeFailed, fmt.Errorf("deploy FAILED: %w; the service state is UNCERTAIN: traffic may be on %s or %s: check CodeDeploy deployment %s and the load balancer's listeners, then deploy revision %s again through CodeDeploy",
			cause, before, revName(next), ce.Deployment, before)
	case codeDeployed(d.live.Svc) && ce == nil && d.rec.Backend.ServiceDeployment != "":
		// The deployment was created and its end is unknown: a second one
		// would be refused, or fight it.
		return release.OutcomeFailed, fmt.Errorf("deploy FAILED: %w; the service state is UNCERTAIN: check CodeDeploy deployment %s, and if it is still in progress stop it with rollback (aws deploy stop-deployment --deployment-id %s --auto-rollback-enabled)",
			cause, d.rec.Backend.ServiceDeployment, d.rec.Backend.ServiceDeployment)
	case errors.As(cause, &ne) && ne.RolledBack():
		return release.OutcomeRolledBack, fmt.Errorf("deploy FAILED: %w; ECS rolled it back: all production traffic is on %s, the revision before; revision %s is left registered for inspection; fix the cause and deploy again",
			cause, before, revName(next))
	case errors.As(cause, &ne) && ne.Status != "SUCCESSFUL":
		return release.OutcomeFailed, fmt.Errorf("deploy FAILED: %w; the service state is UNCERTAIN: traffic may be split between %s and %s: check the service deployment %s in the ECS console and the load balancer's listener rules, then roll the backend back to revision %s",
			cause, before, revName(next), d.rec.Backend.ServiceDeployment, before)
	}
	rctx := context.WithoutCancel(ctx)
	err := step(d.o.Out, d.rec, "rollback", func() (string, error) { return d.goBack(rctx) })
	if err != nil {
		return release.OutcomeFailed, fmt.Errorf("%w; rolling back to %s ALSO failed: %v; the service state is uncertain: check it in the ECS console and roll the backend back to revision %s",
			cause, before, err, before)
	}
	return release.OutcomeRolledBack, fmt.Errorf("deploy FAILED: %w; rolled back to %s (service deployment SUCCESSFUL, the service runs the pre-deploy version); revision %s is left registered for inspection; fix the cause and deploy again",
		cause, before, revName(next))
}

// goBack takes a service whose new revision went live back to the revision
// before: through CodeDeploy, ungated, or through a service deployment
// that continues the service's PAUSE hooks.
func (d *deploy) goBack(ctx context.Context) (string, error) {
	if codeDeployed(d.live.Svc) {
		saved := d.o.TestGate
		d.o.TestGate = nil // going back is not gated
		defer func() { d.o.TestGate = saved }()
		return d.rollout(ctx, nil, d.before, nil)
	}
	arn, err := goBack(ctx, d.c.ECS, d.o.Cluster, d.o.Service, d.before, strategyOf(d.live.Svc), d.o.Out, d.o.PollInterval, d.o.Timeout)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s SUCCESSFUL (service deployment %s)", revName(d.before), arn), nil
}

// gateRecord is the record of a gate's run on test traffic.
func gateRecord(g *GateOutcome) *release.GateRecord {
	return &release.GateRecord{Passed: g.Passed, Output: g.Output}
}

// pausesAfterTestTraffic reports whether a PAUSE hook holds the service's
// deployments once test traffic is on the new revision: where the gate on
// test traffic runs.
func pausesAfterTestTraffic(svc types.Service) bool {
	c := svc.DeploymentConfiguration
	if c == nil {
		return false
	}
	for _, h := range c.LifecycleHooks {
		if h.TargetType == types.DeploymentLifecycleHookTargetTypePause && slices.Contains(h.LifecycleStages, types.DeploymentLifecycleHookStagePostTestTrafficShift) {
			return true
		}
	}
	return false
}
