package ecsdeploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// A service whose deploymentConfiguration.strategy is BLUE_GREEN, LINEAR
// or CANARY is released by ECS itself as a service deployment: green tasks
// start beside the blue ones, test traffic then production traffic moves
// to them (at once, in steps, or a canary first), the deployment bakes,
// and only then is it SUCCESSFUL. esteira follows that service deployment
// (the SDK has no waiter for it), never the rolling model's deployments
// list, and asks ECS to roll back on failure, timeout or interruption.

// ServiceDeploymentsAPI is the part of ECS that follows and steers a
// service deployment.
type ServiceDeploymentsAPI interface {
	ListServiceDeployments(ctx context.Context, params *ecs.ListServiceDeploymentsInput, optFns ...func(*ecs.Options)) (*ecs.ListServiceDeploymentsOutput, error)
	DescribeServiceDeployments(ctx context.Context, params *ecs.DescribeServiceDeploymentsInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServiceDeploymentsOutput, error)
	StopServiceDeployment(ctx context.Context, params *ecs.StopServiceDeploymentInput, optFns ...func(*ecs.Options)) (*ecs.StopServiceDeploymentOutput, error)
	ContinueServiceDeployment(ctx context.Context, params *ecs.ContinueServiceDeploymentInput, optFns ...func(*ecs.Options)) (*ecs.ContinueServiceDeploymentOutput, error)
}

// strategyOf is the service's deployment strategy; ROLLING when unset.
func strategyOf(svc types.Service) types.DeploymentStrategy {
	if c := svc.DeploymentConfiguration; c != nil && c.Strategy != "" {
		return c.Strategy
	}
	return types.DeploymentStrategyRolling
}

// native reports whether ECS itself runs the service's deployments.
func native(s types.DeploymentStrategy) bool { return s != types.DeploymentStrategyRolling }

// strategyName is how people write a strategy: blue/green, linear, canary.
func strategyName(s types.DeploymentStrategy) string {
	if s == types.DeploymentStrategyBlueGreen {
		return "blue/green"
	}
	return strings.ToLower(string(s))
}

// NativeError says how a service deployment ended when it did not succeed.
type NativeError struct {
	Strategy types.DeploymentStrategy
	// Status is the service deployment's final status (ROLLBACK_SUCCESSFUL,
	// ROLLBACK_FAILED, STOPPED) or IN_PROGRESS when the wait gave up.
	Status types.ServiceDeploymentStatus
	// Reason is ECS's statusReason, or why esteira asked for the rollback.
	Reason string
	// Traffic is where production and test traffic were last seen.
	Traffic string
}

func (e *NativeError) Error() string {
	msg := fmt.Sprintf("%s deployment %s", strategyName(e.Strategy), e.Status)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	if e.Traffic != "" {
		msg += " (" + e.Traffic + ")"
	}
	return msg
}

// RolledBack reports whether ECS put every bit of traffic back on the
// revision that ran before.
func (e *NativeError) RolledBack() bool {
	return e.Status == types.ServiceDeploymentStatusRollbackSuccessful
}

// follower follows one service deployment to its end, printing its stage
// and traffic weights as they change.
type follower struct {
	api      ServiceDeploymentsAPI
	arn      string
	strategy types.DeploymentStrategy
	out      io.Writer
	poll     time.Duration
	// gate runs once when a PAUSE hook holds the deployment after test
	// traffic moved to the green tasks: nil error continues the deployment,
	// an error rolls it back before production traffic moves.
	gate  func(ctx context.Context) (string, error)
	last  string
	gated bool
	// beforeProduction: the gate failed on test traffic, so the rollback
	// began before production traffic moved.
	beforeProduction bool
	reason           string // why esteira asked for a rollback
	// resume: the deployment goes back to a revision known to be good, so
	// every PAUSE hook on the way is continued (nobody else would) and a
	// timeout never rolls it back (that would return to the bad revision).
	resume    bool
	continued map[string]bool // hooks resume continued
	// Gate is the gate's outcome, once it ran.
	Gate *GateOutcome
}

// GateOutcome is the quality gate's run against the test traffic.
type GateOutcome struct {
	Passed bool
	Output string
}

// errNoServiceDeployment: ECS lists no service deployment pending or in
// progress for the service.
var errNoServiceDeployment = errors.New("ECS lists no service deployment pending or in progress for it")

// findServiceDeployment returns the ARN of the service deployment that
// UpdateService started: the service's currentServiceDeployment, or else
// the newest one still pending or in progress.
func findServiceDeployment(ctx context.Context, api ServiceDeploymentsAPI, cluster, service string, updated *ecs.UpdateServiceOutput) (string, error) {
	if updated != nil && updated.Service != nil && aws.ToString(updated.Service.CurrentServiceDeployment) != "" {
		return aws.ToString(updated.Service.CurrentServiceDeployment), nil
	}
	out, err := api.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String(cluster), Service: aws.String(service),
		Status: []types.ServiceDeploymentStatus{types.ServiceDeploymentStatusPending, types.ServiceDeploymentStatusInProgress}})
	if err != nil {
		return "", fmt.Errorf("list the service deployments of %s: %w", service, err)
	}
	var newest *types.ServiceDeploymentBrief
	for i, b := range out.ServiceDeployments {
		if newest == nil || aws.ToTime(b.CreatedAt).After(aws.ToTime(newest.CreatedAt)) {
			newest = &out.ServiceDeployments[i]
		}
	}
	if newest == nil {
		return "", fmt.Errorf("service %s: %w", service, errNoServiceDeployment)
	}
	return aws.ToString(newest.ServiceDeploymentArn), nil
}

// follow polls until the service deployment ends: nil at SUCCESSFUL (after
// the bake time), a *NativeError otherwise. When ctx ends first (timeout,
// interruption) it asks ECS to roll back and waits for that.
func (f *follower) follow(ctx context.Context) error {
	for {
		sd, err := f.describe(ctx)
		if err != nil && ctx.Err() == nil {
			return err
		}
		if err == nil {
			f.print(sd)
			switch sd.Status {
			case types.ServiceDeploymentStatusSuccessful:
				return nil
			case types.ServiceDeploymentStatusRollbackSuccessful, types.ServiceDeploymentStatusRollbackFailed, types.ServiceDeploymentStatusStopped:
				return f.ended(sd)
			}
			if err := f.onPause(ctx, sd); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			why := "the wait timed out"
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				why = fmt.Sprintf("the wait was interrupted (%v)", ctx.Err())
			}
			if f.resume {
				return fmt.Errorf("%s while service deployment %s went back; it is left to go on, since rolling it back would return to the failed revision: follow it in the ECS console", why, f.arn)
			}
			return f.rollBack(context.WithoutCancel(ctx), why)
		case <-time.After(f.poll):
		}
	}
}

// ended turns a finished service deployment that did not succeed into its
// error.
func (f *follower) ended(sd *types.ServiceDeployment) error {
	reason := aws.ToString(sd.StatusReason)
	if f.reason != "" {
		reason = f.reason
		if f.beforeProduction {
			// Said only once ECS says how its rollback ended.
			if sd.Status == types.ServiceDeploymentStatusRollbackSuccessful {
				reason += ": rolled back before production traffic moved"
			} else {
				reason += ", before production traffic moved; ECS's rollback did not succeed"
			}
		}
		if ecsReason := aws.ToString(sd.StatusReason); ecsReason != "" && sd.Status == types.ServiceDeploymentStatusRollbackFailed {
			reason += "; ECS: " + ecsReason
		}
	}
	return &NativeError{Strategy: f.strategy, Status: sd.Status, Reason: reason, Traffic: traffic(sd)}
}

// onPause acts on a PAUSE hook that awaits action: after the test traffic
// shift, with a gate, it runs the gate and continues or rolls back; any
// other pause waits for whoever set it (a person approving, say).
func (f *follower) onPause(ctx context.Context, sd *types.ServiceDeployment) error {
	hook := awaiting(sd)
	if hook != nil && f.resume {
		return f.resumePause(ctx, sd, hook)
	}
	if hook == nil || f.gated || f.gate == nil || sd.LifecycleStage != types.ServiceDeploymentLifecycleStagePostTestTrafficShift {
		return nil
	}
	f.gated = true
	fmt.Fprintf(f.out, "    test traffic is on the new revision; production traffic has not moved: running the quality gate against the test listener\n")
	out, gerr := f.gate(ctx)
	f.Gate = &GateOutcome{Passed: gerr == nil, Output: out}
	action := types.DeploymentLifecycleHookActionContinue
	if gerr != nil {
		action = types.DeploymentLifecycleHookActionRollback
		f.reason = fmt.Sprintf("the quality gate failed on test traffic (%v)", gerr)
		f.beforeProduction = true
		fmt.Fprintf(f.out, "    quality gate FAILED on test traffic: %v; rolling back\n", gerr)
	} else {
		fmt.Fprintf(f.out, "    quality gate passed on test traffic; continuing to production traffic\n")
	}
	_, err := f.api.ContinueServiceDeployment(context.WithoutCancel(ctx), &ecs.ContinueServiceDeploymentInput{
		ServiceDeploymentArn: aws.String(f.arn), HookId: hook.HookId, Action: action})
	if err != nil {
		err = fmt.Errorf("%s the paused service deployment %s: %w", strings.ToLower(string(action)), f.arn, err)
		if gerr != nil {
			return f.rollBack(context.WithoutCancel(ctx), f.reason)
		}
		return err
	}
	return nil
}

// awaiting returns the PAUSE hook that holds the deployment, nil if none.
func awaiting(sd *types.ServiceDeployment) *types.DeploymentLifecycleHookDetail {
	for i, h := range sd.LifecycleHookDetails {
		if h.TargetType == types.DeploymentLifecycleHookTargetTypePause && h.Status == types.DeploymentLifecycleHookStatusAwaitingAction {
			return &sd.LifecycleHookDetails[i]
		}
	}
	return nil
}

// rollBack asks ECS to roll the service deployment back and follows the
// rollback to its end. It is called with a context that is never
// cancelled: a half-shifted service is worse than a late answer.
func (f *follower) rollBack(ctx context.Context, why string) error {
	f.reason = why + ": esteira asked ECS to roll back"
	fmt.Fprintf(f.out, "    %s; asking ECS to roll back (StopServiceDeployment ROLLBACK)\n", why)
	if _, err := f.api.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{
		ServiceDeploymentArn: aws.String(f.arn), StopType: types.StopServiceDeploymentStopTypeRollback}); err != nil {
		// It may have ended meanwhile; what it ended as is the answer.
		fmt.Fprintf(f.out, "    stop service deployment: %v\n", err)
	}
	for {
		sd, err := f.describe(ctx)
		if err != nil {
			return fmt.Errorf("%s; then following the rollback failed: %w; check the service deployment %s in the ECS console", why, err, f.arn)
		}
		f.print(sd)
		switch sd.Status {
		case types.ServiceDeploymentStatusSuccessful:
			return &NativeError{Strategy: f.strategy, Status: sd.Status, Reason: why + ", but the deployment completed before the rollback could start: the new revision is live", Traffic: traffic(sd)}
		case types.ServiceDeploymentStatusRollbackSuccessful, types.ServiceDeploymentStatusRollbackFailed, types.ServiceDeploymentStatusStopped:
			return f.ended(sd)
		}
		time.Sleep(f.poll)
	}
}

func (f *follower) describe(ctx context.Context) (*types.ServiceDeployment, error) {
	out, err := f.api.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{f.arn}})
	if err != nil {
		return nil, fmt.Errorf("describe service deployment %s: %w", f.arn, err)
	}
	if len(out.ServiceDeployments) == 0 {
		return nil, fmt.Errorf("describe service deployment %s: ECS does not know it", f.arn)
	}
	return &out.ServiceDeployments[0], nil
}

// print shows the stage and the traffic when they change.
func (f *follower) print(sd *types.ServiceDeployment) {
	line := fmt.Sprintf("%s %s", sd.Status, sd.LifecycleStage)
	if t := traffic(sd); t != "" {
		line += ": " + t
	}
	if h := awaiting(sd); h != nil {
		line += fmt.Sprintf("; paused by a PAUSE hook (%s)", aws.ToString(h.HookId))
	}
	if line != f.last {
		fmt.Fprintf(f.out, "    %s %s\n", strategyName(f.strategy), line)
		f.last = line
	}
}

// traffic says where production and test traffic are: blue is the
// revision before, green the new one.
func traffic(sd *types.ServiceDeployment) string {
	t := sd.TargetServiceRevision
	if t == nil || (t.RequestedProductionTrafficWeight == nil && t.RequestedTestTrafficWeight == nil) {
		return ""
	}
	prod, test := aws.ToFloat64(t.RequestedProductionTrafficWeight), aws.ToFloat64(t.RequestedTestTrafficWeight)
	return fmt.Sprintf("production %s%% blue / %s%% green, test %s%% green", pct(100-prod), pct(prod), pct(test))
}

func pct(f float64) string { return strings.TrimSuffix(fmt.Sprintf("%.1f", f), ".0") }
