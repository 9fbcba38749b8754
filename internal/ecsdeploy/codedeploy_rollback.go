package ecsdeploy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/setting"
)

// backend rollback of a service CodeDeploy deploys. A release interrupted
// through the dagger CLI (see interrupted.go) leaves its CodeDeploy
// deployment in progress: waiting in Ready for a gate nobody will run, or
// going on with nobody watching, and its deploy lock held. The rollback
// stops that deployment with auto rollback, so CodeDeploy moves every bit
// of traffic back to the original task set, and follows it to its end.
// With no deployment in progress, it releases the revision to go back to
// by a new CodeDeploy deployment, not gated.

// unfinishedStatuses are the statuses of a CodeDeploy deployment that has
// not ended.
var unfinishedStatuses = []cdtypes.DeploymentStatus{cdtypes.DeploymentStatusCreated, cdtypes.DeploymentStatusQueued,
	cdtypes.DeploymentStatusInProgress, cdtypes.DeploymentStatusReady}

// cdRollback is one Rollback of a CodeDeploy service.
type cdRollback struct {
	c Clients
	o RollbackOptions
	g *release.Guard
	l *liveService
	// inProgress is the deployment of the group that has not ended, and
	// its status; "" when there is none.
	inProgress string
	status     cdtypes.DeploymentStatus
	// target is the revision to release when none is in progress.
	target string
}

// resolve checks the group, finds the deployment in progress or the
// revision to go back to, and says which; it changes nothing.
func (r *cdRollback) resolve(ctx context.Context) (string, error) {
	rec, grp := r.g.Record, r.o.CodeDeploy
	if grp.Application == "" || grp.DeploymentGroup == "" {
		return "", setting.Of("CodeDeploy", fmt.Errorf("service %s is deployed by AWS CodeDeploy: name its application and deployment group", r.o.Service))
	}
	if r.c.CodeDeploy == nil {
		return "", fmt.Errorf("service %s is deployed by AWS CodeDeploy, and no CodeDeploy client was given", r.o.Service)
	}
	rec.Backend.Strategy = "codedeploy blue/green"
	rec.Backend.BeforeRevision = aws.ToString(r.l.Svc.TaskDefinition)
	var err error
	if r.inProgress, err = unfinishedDeployment(ctx, r.c.CodeDeploy, grp); err != nil {
		return "", err
	}
	if r.inProgress != "" {
		return r.resolveInProgress(ctx)
	}
	if r.target, err = rollbackTarget(ctx, r.c.ECS, r.o, r.l); err != nil {
		return "", err
	}
	if lb := r.l.Svc.LoadBalancers; len(lb) == 0 || lb[0].ContainerName == nil || lb[0].ContainerPort == nil {
		return "", fmt.Errorf("service %s is deployed by AWS CodeDeploy but has no load balancer container and port to put in the AppSpec", r.o.Service)
	}
	rec.Backend.AfterRevision = r.target
	return fmt.Sprintf("%s runs %s; no CodeDeploy deployment of %s/%s is in progress; target %s",
		r.o.Service, revName(rec.Backend.BeforeRevision), grp.Application, grp.DeploymentGroup, revName(r.target)), nil
}

// resolveInProgress checks the deployment in progress can be stopped to
// go back where the rollback was asked to: the revision it replaces.
func (r *cdRollback) resolveInProgress(ctx context.Context) (string, error) {
	rec := r.g.Record
	rec.Backend.ServiceDeployment = r.inProgress
	out, err := r.c.CodeDeploy.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(r.inProgress)})
	if err != nil {
		return "", fmt.Errorf("get CodeDeploy deployment %s: %w", r.inProgress, err)
	}
	info := out.DeploymentInfo
	r.status = info.Status
	if info.Creator == cdtypes.DeploymentCreatorCodeDeployRollback {
		return "", fmt.Errorf("CodeDeploy deployment %s of service %s is CodeDeploy's own rollback, %s: wait until it ends (aws deploy get-deployment --deployment-id %s), then run the rollback again if the service is not where it should be",
			r.inProgress, r.o.Service, info.Status, r.inProgress)
	}
	before := rec.Backend.BeforeRevision
	if r.o.ToRevision != "" {
		target, err := rollbackTarget(ctx, r.c.ECS, r.o, r.l)
		if err != nil {
			return "", err
		}
		if target != before {
			return "", fmt.Errorf("service %s is in the middle of CodeDeploy deployment %s, from %s: a rollback can only stop it and go back to that revision, not to %s: run the rollback without a revision, then roll back further if needed",
				r.o.Service, r.inProgress, revName(before), revName(target))
		}
	}
	return fmt.Sprintf("%s is in the middle of CodeDeploy deployment %s (%s), from %s", r.o.Service, r.inProgress, info.Status, revName(before)), nil
}

// unfinishedDeployment is the deployment of the group that has not ended,
// "" when there is none. CodeDeploy runs one deployment of a group at a
// time; more than one is refused rather than guessed between.
func unfinishedDeployment(ctx context.Context, api codedeploy.ListDeploymentsAPIClient, g CodeDeployGroup) (string, error) {
	var ids []string
	p := codedeploy.NewListDeploymentsPaginator(api, &codedeploy.ListDeploymentsInput{ApplicationName: aws.String(g.Application),
		DeploymentGroupName: aws.String(g.DeploymentGroup), IncludeOnlyStatuses: unfinishedStatuses})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			err = fmt.Errorf("list the CodeDeploy deployments of %s/%s in progress: %w", g.Application, g.DeploymentGroup, err)
			var noApp *cdtypes.ApplicationDoesNotExistException
			var noGroup *cdtypes.DeploymentGroupDoesNotExistException
			if errors.As(err, &noApp) || errors.As(err, &noGroup) {
				return "", setting.Of("CodeDeploy", fmt.Errorf("%w: check the service's CodeDeploy application and deployment group", err))
			}
			return "", err
		}
		ids = append(ids, out.Deployments...)
	}
	switch len(ids) {
	case 0:
		return "", nil
	case 1:
		return ids[0], nil
	}
	return "", fmt.Errorf("deployment group %s/%s has %d CodeDeploy deployments in progress (%s): check them in the CodeDeploy console and stop all but one",
		g.Application, g.DeploymentGroup, len(ids), strings.Join(ids, ", "))
}

// run does what resolve found: stop the deployment in progress, or
// release the target.
func (r *cdRollback) run(ctx context.Context) (string, error) {
	if r.inProgress != "" {
		return r.stopInProgress(ctx)
	}
	return r.release(ctx)
}

// lock takes the service's deploy lock (broken only with BreakLock) and
// checks that the group's deployment in progress is still the one
// resolve found.
func (r *cdRollback) lock(ctx context.Context, what string) error {
	h := release.Holder{Who: r.o.Who, What: fmt.Sprintf("backend rollback of %s/%s: %s", r.o.Cluster, r.o.Service, what)}
	if err := r.g.Lock(ctx, lockName(r.g.Record), h, release.LockOptions{Break: r.o.BreakLock}); err != nil {
		return fmt.Errorf("%w; nothing was changed", err)
	}
	// As for a deploy: nothing may have changed between resolve and the lock.
	svc, err := describeService(ctx, r.c.ECS, r.o.Cluster, r.o.Service)
	if err != nil {
		return fmt.Errorf("%w; nothing was changed", err)
	}
	if cur, was := aws.ToString(svc.Svc.TaskDefinition), r.g.Record.Backend.BeforeRevision; cur != was {
		return fmt.Errorf("service %s changed while this rollback was starting (it was on %s, now %s): nothing was changed; run the rollback again",
			r.o.Service, revName(was), revName(cur))
	}
	now, err := unfinishedDeployment(ctx, r.c.CodeDeploy, r.o.CodeDeploy)
	if err != nil {
		return fmt.Errorf("%w; nothing was changed", err)
	}
	if now != r.inProgress {
		return fmt.Errorf("the CodeDeploy deployments of %s changed while this rollback was starting (in progress: %s, now %s); nothing was changed: run the rollback again",
			r.o.Service, orNone(r.inProgress), orNone(now))
	}
	return nil
}

// stopInProgress stops the deployment in progress with auto rollback and
// follows it and CodeDeploy's rollback to their end, under the lock.
func (r *cdRollback) stopInProgress(ctx context.Context) (string, error) {
	rec, id, before := r.g.Record, r.inProgress, revName(r.g.Record.Backend.BeforeRevision)
	if r.o.DryRun {
		fmt.Fprintf(r.o.Out, "==> would stop CodeDeploy deployment %s of %s (%s) with auto rollback: CodeDeploy moves all traffic back to %s, the revision it replaced\n%s\n",
			id, r.o.Service, r.status, before, dryRunOK)
		return release.OutcomeDryRun, nil
	}
	if err := r.lock(ctx, "stopping CodeDeploy deployment "+id+" with auto rollback"); err != nil {
		return release.OutcomeFailed, err
	}
	err := step(r.o.Out, rec, "rollback", func() (string, error) {
		if err := r.g.Check(ctx, "stopping the CodeDeploy deployment"); err != nil {
			return "", err
		}
		fctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
		defer cancel()
		f := &cdFollower{api: r.c.CodeDeploy, id: id, target: nameOf(r.o.Cluster) + ":" + nameOf(r.o.Service), out: r.o.Out, poll: r.o.PollInterval}
		err := f.stop(fctx, "backend rollback of a CodeDeploy deployment left in progress")
		var ce *CodeDeployError
		switch {
		case !errors.As(err, &ce):
			return "", err
		case ce.Status == cdtypes.DeploymentStatusSucceeded:
			return "", ce
		case ce.Rollback != "" && !ce.RolledBack:
			return "", ce
		}
		if err := r.onBefore(ctx); err != nil {
			return "", fmt.Errorf("%w: %w", ce, err)
		}
		if ce.Rollback == "" {
			return fmt.Sprintf("CodeDeploy deployment %s %s before its replacement task set took traffic: the service runs %s", id, ce.Status, before), nil
		}
		return fmt.Sprintf("CodeDeploy deployment %s %s, rollback deployment %s Succeeded: all production traffic is on %s", id, ce.Status, ce.Rollback, before), nil
	})
	if err != nil {
		return release.OutcomeFailed, fmt.Errorf("rollback of %s/%s: %w; the service state is UNCERTAIN: check CodeDeploy deployment %s and the load balancer's listeners",
			r.o.Cluster, r.o.Service, err, id)
	}
	return release.OutcomeSucceeded, nil
}

// onBefore checks the service runs the revision it ran before the
// deployment that was stopped, and records it.
func (r *cdRollback) onBefore(ctx context.Context) error {
	after, err := describeService(ctx, r.c.ECS, r.o.Cluster, r.o.Service)
	if err != nil {
		return err
	}
	rec := r.g.Record
	rec.Backend.AfterRevision = aws.ToString(after.Svc.TaskDefinition)
	if rec.Backend.AfterRevision != rec.Backend.BeforeRevision {
		return fmt.Errorf("yet service %s runs %s, not %s, the revision before", r.o.Service, revName(rec.Backend.AfterRevision), revName(rec.Backend.BeforeRevision))
	}
	return nil
}

// release puts the target live by a CodeDeploy deployment, as a deploy
// does, without a gate: going back is not gated.
func (r *cdRollback) release(ctx context.Context) (string, error) {
	rec, grp := r.g.Record, r.o.CodeDeploy
	if r.target == rec.Backend.BeforeRevision {
		fmt.Fprintf(r.o.Out, "==> %s already runs %s; nothing to do\n", r.o.Service, revName(r.target))
		return release.OutcomeNoChange, nil
	}
	if r.o.DryRun {
		ls, err := readLock(ctx, r.o.Releases, rec.Target, 0, r.o.BreakLock)
		if err != nil {
			return release.OutcomeFailed, err
		}
		fmt.Fprintf(r.o.Out, "plan: roll back %s/%s from %s to %s\n", r.o.Cluster, r.o.Service, revName(rec.Backend.BeforeRevision), revName(r.target))
		if ls != nil {
			fmt.Fprintf(r.o.Out, "  deploy lock %s: %s\n", ls.Name, ls)
		}
		fmt.Fprintf(r.o.Out, "  create a CodeDeploy deployment of %s in %s/%s (no gate) and follow it until it Succeeded\n%s\n",
			revName(r.target), grp.Application, grp.DeploymentGroup, dryRunOK)
		return release.OutcomeDryRun, nil
	}
	if err := r.lock(ctx, "releasing "+revName(r.target)+" by a CodeDeploy deployment"); err != nil {
		return release.OutcomeFailed, err
	}
	d := &deploy{c: r.c, rec: rec, live: r.l, g: r.g, o: DeployOptions{Cluster: r.o.Cluster, Service: r.o.Service,
		CodeDeploy: map[string]CodeDeployGroup{r.o.Service: grp}, Timeout: r.o.Timeout, PollInterval: r.o.PollInterval, Out: r.o.Out}}
	err := step(r.o.Out, rec, "rollback", func() (string, error) {
		if err := r.g.Check(ctx, "creating the CodeDeploy deployment"); err != nil {
			return "", err
		}
		return d.rolloutCodeDeploy(ctx, r.target, nil)
	})
	var ce *CodeDeployError
	switch {
	case err == nil:
		return release.OutcomeSucceeded, nil
	case errors.As(err, &ce) && ce.RolledBack:
		rec.Backend.AfterRevision = rec.Backend.BeforeRevision
		return release.OutcomeFailed, fmt.Errorf("rollback of %s/%s to %s FAILED: %w; CodeDeploy rolled it back: all production traffic is still on %s; check CodeDeploy deployment %s for the cause",
			r.o.Cluster, r.o.Service, revName(r.target), err, revName(rec.Backend.BeforeRevision), ce.Deployment)
	case rec.Backend.ServiceDeployment == "":
		return release.OutcomeFailed, fmt.Errorf("rollback of %s/%s to %s: %w; the service still runs %s", r.o.Cluster, r.o.Service, revName(r.target), err, revName(rec.Backend.BeforeRevision))
	}
	return release.OutcomeFailed, fmt.Errorf("rollback of %s/%s to %s: %w; the service state is UNCERTAIN: traffic may be on %s or %s: check CodeDeploy deployment %s and the load balancer's listeners",
		r.o.Cluster, r.o.Service, revName(r.target), err, revName(rec.Backend.BeforeRevision), revName(r.target), rec.Backend.ServiceDeployment)
}
