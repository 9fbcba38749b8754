package ecsdeploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/futuraplataforma/esteira/internal/setting"
)

// A service whose deployment controller is CODE_DEPLOY is released by a
// CodeDeploy deployment of an AppSpec naming the new revision and the
// service's load balancer container and port: CodeDeploy starts the
// replacement task set, moves test then production traffic, and rolls back
// by itself on failure. esteira follows it, gates it while it waits in
// Ready (test traffic on the new task set, production on the old), and
// stops it with auto rollback on a failed gate, a timeout or Ctrl-C.

// CodeDeployAPI is the part of CodeDeploy a release uses.
type CodeDeployAPI interface {
	CreateDeployment(ctx context.Context, params *codedeploy.CreateDeploymentInput, optFns ...func(*codedeploy.Options)) (*codedeploy.CreateDeploymentOutput, error)
	GetDeployment(ctx context.Context, params *codedeploy.GetDeploymentInput, optFns ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentOutput, error)
	GetDeploymentTarget(ctx context.Context, params *codedeploy.GetDeploymentTargetInput, optFns ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentTargetOutput, error)
	ContinueDeployment(ctx context.Context, params *codedeploy.ContinueDeploymentInput, optFns ...func(*codedeploy.Options)) (*codedeploy.ContinueDeploymentOutput, error)
	StopDeployment(ctx context.Context, params *codedeploy.StopDeploymentInput, optFns ...func(*codedeploy.Options)) (*codedeploy.StopDeploymentOutput, error)
	GetDeploymentGroup(ctx context.Context, params *codedeploy.GetDeploymentGroupInput, optFns ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentGroupOutput, error)
	// ListDeployments finds the deployment an interrupted release left
	// in progress, for backend rollback.
	codedeploy.ListDeploymentsAPIClient
}

var _ CodeDeployAPI = (*codedeploy.Client)(nil)

// CodeDeployGroup names the CodeDeploy application and deployment group
// that deploy a service whose deployment controller is CODE_DEPLOY.
type CodeDeployGroup struct {
	Application, DeploymentGroup string
}

// codeDeployed reports whether CodeDeploy deploys the service.
func codeDeployed(svc types.Service) bool {
	return svc.DeploymentController != nil && svc.DeploymentController.Type == types.DeploymentControllerTypeCodeDeploy
}

// checkCodeDeploy refuses a CodeDeploy service the release cannot deploy,
// or not now: one whose group has a deployment in progress.
func (d *deploy) checkCodeDeploy(ctx context.Context, svc types.Service) error {
	if !codeDeployed(svc) {
		return nil
	}
	if g := d.o.CodeDeploy[d.o.Service]; g.Application == "" || g.DeploymentGroup == "" {
		return setting.Of("CodeDeploy", fmt.Errorf("service %s is deployed by AWS CodeDeploy: name its application and deployment group; nothing was changed", d.o.Service))
	}
	if d.c.CodeDeploy == nil {
		return fmt.Errorf("service %s is deployed by AWS CodeDeploy, and no CodeDeploy client was given; nothing was changed", d.o.Service)
	}
	if len(svc.LoadBalancers) == 0 || svc.LoadBalancers[0].ContainerName == nil || svc.LoadBalancers[0].ContainerPort == nil {
		return fmt.Errorf("service %s is deployed by AWS CodeDeploy but has no load balancer container and port to put in the AppSpec; nothing was changed", d.o.Service)
	}
	g := d.o.CodeDeploy[d.o.Service]
	id, err := unfinishedDeployment(ctx, d.c.CodeDeploy, g)
	if err != nil {
		return err
	}
	if id != "" { // a release killed by Ctrl-C leaves its deployment waiting, maybe forever
		return &unstableError{fmt.Sprintf("service %s is in the middle of CodeDeploy deployment %s of %s/%s; wait until it finishes; "+
			"if the release that started it was interrupted, nothing will finish it: run backend rollback with --break-lock, which stops it with auto rollback",
			d.o.Service, id, g.Application, g.DeploymentGroup)}
	}
	return nil
}

// appSpec is the AppSpec of an ECS deployment of revision, sending the
// load balancer's traffic to the container and port the service has.
func appSpec(revision string, lb types.LoadBalancer) string {
	return fmt.Sprintf(`{"version":0.0,"Resources":[{"TargetService":{"Type":"AWS::ECS::Service","Properties":{"TaskDefinition":%q,"LoadBalancerInfo":{"ContainerName":%q,"ContainerPort":%d}}}}]}`,
		revision, aws.ToString(lb.ContainerName), aws.ToInt32(lb.ContainerPort))
}

// CodeDeployError says how a CodeDeploy deployment ended when it did not
// succeed.
type CodeDeployError struct {
	Deployment string
	Status     cdtypes.DeploymentStatus
	Reason     string
	// RolledBack: CodeDeploy's rollback deployment succeeded, every bit of
	// traffic is back on the original task set.
	RolledBack bool
	// Rollback is the rollback deployment's id and final status, if any.
	Rollback, RollbackStatus string
}

func (e *CodeDeployError) Error() string {
	msg := fmt.Sprintf("CodeDeploy deployment %s %s", e.Deployment, e.Status)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	if e.Rollback != "" {
		msg += fmt.Sprintf("; rollback deployment %s %s", e.Rollback, e.RollbackStatus)
	}
	return msg
}

// cdFollower follows one CodeDeploy deployment and, when asked, its
// rollback.
type cdFollower struct {
	api        CodeDeployAPI
	id         string
	target     string // cluster:service, CodeDeploy's ECS target id
	out        io.Writer
	poll       time.Duration
	gate       func(ctx context.Context) (string, error)
	last       string
	lastStatus cdtypes.DeploymentStatus
	reason     string
	Gate       *GateOutcome
}

// rolloutCodeDeploy creates the deployment of next and follows it.
func (d *deploy) rolloutCodeDeploy(ctx context.Context, next string, updated *bool) (string, error) {
	g := d.o.CodeDeploy[d.o.Service]
	d.describeCodeDeployGroup(ctx, g)
	if d.o.TestGate != nil && !d.waitsInReady(ctx, g) {
		fmt.Fprintf(d.o.Out, "    warning: deployment group %s/%s does not wait in Ready (deploymentReadyOption STOP_DEPLOYMENT), so the gate cannot run on test traffic: it runs only once production traffic has moved\n", g.Application, g.DeploymentGroup)
	}
	out, err := d.c.CodeDeploy.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{
		ApplicationName: aws.String(g.Application), DeploymentGroupName: aws.String(g.DeploymentGroup),
		Description: aws.String("esteira release " + d.rec.ID),
		Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
			AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(appSpec(next, d.live.Svc.LoadBalancers[0]))}},
	})
	if err != nil {
		err = fmt.Errorf("create the CodeDeploy deployment of %s: %w", revName(next), err)
		var busy *cdtypes.DeploymentLimitExceededException
		if errors.As(err, &busy) { // a release killed by Ctrl-C leaves its deployment waiting, maybe forever
			err = fmt.Errorf("%w: another CodeDeploy deployment of %s/%s is in progress: wait until it finishes; if the release that started it was interrupted, nothing will finish it: run backend rollback with --break-lock, which stops it with auto rollback",
				err, g.Application, g.DeploymentGroup)
		}
		return "", err
	}
	if updated != nil {
		*updated = true
	}
	f := &cdFollower{api: d.c.CodeDeploy, id: aws.ToString(out.DeploymentId), target: nameOf(d.o.Cluster) + ":" + nameOf(d.o.Service),
		out: d.o.Out, poll: d.o.PollInterval, gate: d.o.TestGate}
	d.rec.Backend.ServiceDeployment = f.id
	fmt.Fprintf(d.o.Out, "    CodeDeploy deployment %s (%s/%s)\n", f.id, g.Application, g.DeploymentGroup)
	fctx, cancel := context.WithTimeout(ctx, d.o.Timeout)
	defer cancel()
	err = f.follow(fctx)
	if f.Gate != nil {
		d.rec.Backend.TestGate = gateRecord(f.Gate)
	}
	if err != nil {
		return "", err
	}
	return revName(next) + " Succeeded", nil
}

// follow polls until the deployment ends: nil at Succeeded.
func (f *cdFollower) follow(ctx context.Context) error {
	gated := false
	for {
		info, err := f.get(ctx, f.id)
		if err != nil && ctx.Err() == nil {
			return err
		}
		if err == nil {
			f.print(ctx, info)
			switch info.Status {
			case cdtypes.DeploymentStatusSucceeded:
				return nil
			case cdtypes.DeploymentStatusFailed, cdtypes.DeploymentStatusStopped:
				return f.ended(context.WithoutCancel(ctx), info)
			case cdtypes.DeploymentStatusReady:
				if !gated {
					gated = true
					if err := f.onReady(ctx); err != nil {
						return err
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return f.stop(context.WithoutCancel(ctx), waitEnded(ctx))
		case <-time.After(f.poll):
		}
	}
}

// waitEnded says why ctx ended: the timeout, or an interruption.
func waitEnded(ctx context.Context) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "the wait timed out"
	}
	return fmt.Sprintf("the wait was interrupted (%v)", ctx.Err())
}

// onReady runs the gate while the deployment waits in Ready (test
// traffic on the replacement task set), then continues it or stops it.
// Without a gate it continues: Ready is where CodeDeploy waits for a go.
func (f *cdFollower) onReady(ctx context.Context) error {
	if f.gate != nil {
		fmt.Fprintf(f.out, "    test traffic is on the replacement task set; production traffic has not moved: running the quality gate against the test listener\n")
		out, gerr := f.gate(ctx)
		f.Gate = &GateOutcome{Passed: gerr == nil, Output: out}
		if gerr != nil && ctx.Err() != nil { // the gate was cut short: the wait's end, not the gate, stops it
			return f.stop(context.WithoutCancel(ctx), fmt.Sprintf("%s while the quality gate ran on test traffic (%v), before production traffic moved", waitEnded(ctx), gerr))
		}
		if gerr != nil {
			fmt.Fprintf(f.out, "    quality gate FAILED on test traffic: %v; stopping the deployment with rollback\n", gerr)
			return f.stop(context.WithoutCancel(ctx), fmt.Sprintf("the quality gate failed on test traffic (%v), before production traffic moved", gerr))
		}
		fmt.Fprintf(f.out, "    quality gate passed on test traffic; continuing to production traffic\n")
	}
	if err := ctx.Err(); err != nil { // interrupted or out of time while gating: never continue then
		return f.stop(context.WithoutCancel(ctx), fmt.Sprintf("the wait ended before production traffic moved (%v)", err))
	}
	_, err := f.api.ContinueDeployment(ctx, &codedeploy.ContinueDeploymentInput{DeploymentId: aws.String(f.id), DeploymentWaitType: cdtypes.DeploymentWaitTypeReadyWait})
	if err != nil { // a deployment left waiting in Ready must not stay so
		return f.stop(context.WithoutCancel(ctx), fmt.Sprintf("continuing CodeDeploy deployment %s failed (%v)", f.id, err))
	}
	return nil
}

// stop stops the deployment with auto rollback and follows it to its end.
func (f *cdFollower) stop(ctx context.Context, why string) error {
	f.reason = why
	fmt.Fprintf(f.out, "    %s; stopping CodeDeploy deployment %s with auto rollback\n", why, f.id)
	if _, err := f.api.StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String(f.id), AutoRollbackEnabled: aws.Bool(true)}); err != nil {
		fmt.Fprintf(f.out, "    stop deployment: %v\n", err)
	}
	for {
		info, err := f.get(ctx, f.id)
		if err != nil {
			return fmt.Errorf("%s; then following the deployment failed: %w; check CodeDeploy deployment %s", why, err, f.id)
		}
		f.print(ctx, info)
		switch info.Status {
		case cdtypes.DeploymentStatusSucceeded:
			return &CodeDeployError{Deployment: f.id, Status: info.Status, Reason: why + ", but the deployment succeeded before it could be stopped: the new revision is live"}
		case cdtypes.DeploymentStatusFailed, cdtypes.DeploymentStatusStopped:
			return f.ended(ctx, info)
		}
		time.Sleep(f.poll)
	}
}

// ended follows the rollback deployment of a deployment that failed or
// was stopped, and returns how it all ended.
func (f *cdFollower) ended(ctx context.Context, info *cdtypes.DeploymentInfo) error {
	e := &CodeDeployError{Deployment: f.id, Status: info.Status, Reason: f.reason}
	if e.Reason == "" && info.ErrorInformation != nil {
		e.Reason = cdErrorReason(info.ErrorInformation)
	}
	if info.RollbackInfo == nil || aws.ToString(info.RollbackInfo.RollbackDeploymentId) == "" {
		return e
	}
	e.Rollback = aws.ToString(info.RollbackInfo.RollbackDeploymentId)
	for {
		rb, err := f.get(ctx, e.Rollback)
		if err != nil {
			e.RollbackStatus = "unknown (" + err.Error() + ")"
			return e
		}
		if line := fmt.Sprintf("rollback deployment %s %s", e.Rollback, rb.Status); line != f.last {
			fmt.Fprintf(f.out, "    CodeDeploy %s\n", line)
			f.last = line
		}
		switch rb.Status {
		case cdtypes.DeploymentStatusSucceeded:
			e.RollbackStatus, e.RolledBack = string(rb.Status), true
			return e
		case cdtypes.DeploymentStatusFailed, cdtypes.DeploymentStatusStopped:
			e.RollbackStatus = string(rb.Status)
			return e
		}
		time.Sleep(f.poll)
	}
}

func (f *cdFollower) get(ctx context.Context, id string) (*cdtypes.DeploymentInfo, error) {
	out, err := f.api.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id)})
	if err != nil {
		return nil, fmt.Errorf("get CodeDeploy deployment %s: %w", id, err)
	}
	return out.DeploymentInfo, nil
}

// print shows the status, the lifecycle event in progress and the
// replacement task set's traffic when they change.
func (f *cdFollower) print(ctx context.Context, info *cdtypes.DeploymentInfo) {
	line, event := string(info.Status), ""
	if t, err := f.api.GetDeploymentTarget(ctx, &codedeploy.GetDeploymentTargetInput{DeploymentId: aws.String(f.id), TargetId: aws.String(f.target)}); err == nil &&
		t.DeploymentTarget != nil && t.DeploymentTarget.EcsTarget != nil {
		event = cdEvent(t.DeploymentTarget.EcsTarget)
		line += event + cdTraffic(t.DeploymentTarget.EcsTarget)
	}
	changed := info.Status != f.lastStatus
	f.lastStatus = info.Status
	if event == "" && !changed {
		return // between two lifecycle events
	}
	if line != f.last {
		fmt.Fprintf(f.out, "    CodeDeploy %s\n", line)
		f.last = line
	}
}

// cdEvent is the lifecycle event in progress, " Name", or "".
func cdEvent(t *cdtypes.ECSTarget) string {
	var s strings.Builder
	for _, ev := range t.LifecycleEvents {
		if ev.Status == cdtypes.LifecycleEventStatusInProgress {
			fmt.Fprintf(&s, " %s", aws.ToString(ev.LifecycleEventName))
		}
	}
	return s.String()
}

// cdTraffic is where production traffic is.
func cdTraffic(t *cdtypes.ECSTarget) string {
	var s strings.Builder
	for _, ts := range t.TaskSetsInfo {
		if ts.TaskSetLabel == cdtypes.TargetLabelGreen {
			fmt.Fprintf(&s, ": production %s%% blue / %s%% green", pct(100-ts.TrafficWeight), pct(ts.TrafficWeight))
		}
	}
	return s.String()
}

// waitsInReady reports whether the group's deployments wait in Ready, test
// traffic on the replacement task set, until told to go on.
func (d *deploy) waitsInReady(ctx context.Context, g CodeDeployGroup) bool {
	out, err := d.c.CodeDeploy.GetDeploymentGroup(ctx, &codedeploy.GetDeploymentGroupInput{ApplicationName: aws.String(g.Application), DeploymentGroupName: aws.String(g.DeploymentGroup)})
	if err != nil || out.DeploymentGroupInfo == nil || out.DeploymentGroupInfo.BlueGreenDeploymentConfiguration == nil {
		return false
	}
	r := out.DeploymentGroupInfo.BlueGreenDeploymentConfiguration.DeploymentReadyOption
	return r != nil && r.ActionOnTimeout == cdtypes.DeploymentReadyActionStopDeployment
}
