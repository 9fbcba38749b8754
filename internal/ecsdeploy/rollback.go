package ecsdeploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/setting"
)

// rollback is step 6: after the rollout of next failed, bring the service
// back to the revision recorded in step 1 and wait until it is COMPLETED.
// It runs even when ctx was cancelled: a half-done deploy is worse.
func (d *deploy) rollback(ctx context.Context, w *watcher, next string, cause error) (string, error) {
	if native(strategyOf(d.live.Svc)) || codeDeployed(d.live.Svc) {
		return d.rollbackNative(ctx, next, cause)
	}
	rctx := context.WithoutCancel(ctx)
	var rerr *RolloutError
	byECS := errors.As(cause, &rerr) && rerr.Kind == RolloutReplaced
	err := step(d.o.Out, d.rec, "rollback", func() (string, error) {
		if err := rollbackTo(rctx, d.c.ECS, w, d.before); err != nil {
			return "", err
		}
		return revName(d.before) + " COMPLETED", nil
	})
	before := revName(d.before)
	if err != nil {
		return release.OutcomeFailed, fmt.Errorf("%w; rolling back to %s ALSO failed: %v; the service state is uncertain: check it in the ECS console and roll the backend back to revision %s",
			cause, before, err, before)
	}
	what := "deploy FAILED"
	if byECS {
		what = "deploy FAILED: the ECS deployment circuit breaker rolled it back"
	}
	return release.OutcomeRolledBack, fmt.Errorf("%s: %w; rolled back to %s (deployment COMPLETED, the service runs the pre-deploy version); revision %s is left registered for inspection; fix the cause and deploy again",
		what, cause, before, revName(next))
}

// RollbackOptions configure Rollback.
type RollbackOptions struct {
	Cluster, Service string
	// ToRevision is "family:revision", a bare revision number of the
	// service's family, or an ARN. Empty: the revision the last successful
	// release replaced, read from Releases.
	ToRevision            string
	Timeout, PollInterval time.Duration
	Releases              *release.Store
	Who                   string
	BreakLock             bool
	// CodeDeploy names the application and deployment group of a service
	// whose deployment controller is CODE_DEPLOY (esteira.yaml's
	// backend.codeDeploy); such a service needs it, and Clients.CodeDeploy.
	CodeDeploy CodeDeployGroup
	// DryRun resolves and checks, prints the plan and changes nothing.
	DryRun bool
	Out    io.Writer
}

// Rollback points the service at an earlier revision and waits until that
// deployment is COMPLETED. A blue/green, linear or canary service deployment
// still in progress (one an interrupted release left, see interrupted.go)
// is instead stopped with ROLLBACK and followed to its end. A service
// CodeDeploy deploys goes back through CodeDeploy: see codedeploy_rollback.go.
func Rollback(ctx context.Context, c Clients, o RollbackOptions) (*release.Record, error) {
	o.Timeout, o.PollInterval, o.Out = timing(o.Timeout, o.PollInterval, o.Out)
	if o.ToRevision == "" && o.Releases == nil {
		return nil, setting.Of("ToRevision", errors.New("rollback: name the revision to go back to, or give a release store so the previous revision can be read from the last release record"))
	}
	if o.Releases != nil && o.Who == "" {
		return nil, errors.New("rollback: who is empty: set it to user@host or the CI job URL so the deploy lock names its holder")
	}
	rec := newRecord(o.Cluster, o.Service, nil)
	g := newGuard(o.Releases, rec, o.Out)
	outcome, err := rollbackRun(ctx, c, o, g)
	return g.Finish(ctx, outcome, err)
}

func rollbackRun(ctx context.Context, c Clients, o RollbackOptions, g *release.Guard) (string, error) {
	rec := g.Record
	var l *liveService
	var target, interrupted string
	var cdr *cdRollback
	err := step(o.Out, rec, "resolve", func() (string, error) {
		var err error
		if l, err = describeService(ctx, c.ECS, o.Cluster, o.Service); err != nil {
			return "", err
		}
		if codeDeployed(l.Svc) { // see codedeploy_rollback.go
			cdr = &cdRollback{c: c, o: o, g: g, l: l}
			return cdr.resolve(ctx)
		}
		if err := checkController(l); err != nil {
			return "", err
		}
		rec.Backend.BeforeRevision = aws.ToString(l.Svc.TaskDefinition)
		if interrupted, err = interruptedDeployment(ctx, c.ECS, l); err != nil {
			return "", err
		}
		if interrupted != "" && o.ToRevision == "" {
			return fmt.Sprintf("%s is in the middle of service deployment %s to %s", o.Service, interrupted, revName(rec.Backend.BeforeRevision)), nil
		}
		if target, err = rollbackTarget(ctx, c.ECS, o, l); err != nil {
			return "", err
		}
		if interrupted != "" {
			return fmt.Sprintf("%s is in the middle of service deployment %s to %s; target %s", o.Service, interrupted, revName(rec.Backend.BeforeRevision), revName(target)), nil
		}
		rec.Backend.AfterRevision = target
		return fmt.Sprintf("%s runs %s; target %s", o.Service, revName(rec.Backend.BeforeRevision), revName(target)), nil
	})
	if err != nil {
		return release.OutcomeFailed, fmt.Errorf("%w; nothing was changed", err)
	}
	if cdr != nil {
		return cdr.run(ctx)
	}
	if interrupted != "" {
		return rollbackInterrupted(ctx, c, o, g, l, interrupted, target)
	}
	if target == rec.Backend.BeforeRevision && primaryCompleted(l) {
		fmt.Fprintf(o.Out, "==> %s already runs %s; nothing to do\n", o.Service, revName(target))
		return release.OutcomeNoChange, nil
	}
	if o.DryRun {
		p, err := planRollback(ctx, c, o, rec)
		if err != nil {
			return release.OutcomeFailed, err
		}
		fmt.Fprint(o.Out, p.String()+dryRunOK+"\n")
		return release.OutcomeDryRun, nil
	}
	h := release.Holder{Who: o.Who, What: fmt.Sprintf("backend rollback of %s/%s to %s", o.Cluster, o.Service, revName(target))}
	if err := g.Lock(ctx, lockName(rec), h, release.LockOptions{Break: o.BreakLock}); err != nil {
		return release.OutcomeFailed, fmt.Errorf("%w; nothing was changed", err)
	}
	// As for a deploy: nothing may have changed between resolve and the lock.
	now, err := describeService(ctx, c.ECS, o.Cluster, o.Service)
	if err != nil {
		return release.OutcomeFailed, fmt.Errorf("%w; nothing was changed", err)
	}
	if cur := aws.ToString(now.Svc.TaskDefinition); cur != rec.Backend.BeforeRevision {
		return release.OutcomeFailed, fmt.Errorf("service %s changed while this rollback was starting (it was on %s, now %s): nothing was changed; run the rollback again",
			o.Service, revName(rec.Backend.BeforeRevision), revName(cur))
	}
	l.Svc = now.Svc // fresh events: only what happens from now on is printed
	w := newWatcher(c.ECS, l, o.Out, o.PollInterval, o.Timeout, 3)
	w.prime(ctx)
	err = step(o.Out, rec, "rollback", func() (string, error) {
		if err := g.Check(ctx, "pointing the service back"); err != nil {
			return "", err
		}
		if s := strategyOf(now.Svc); native(s) {
			rec.Backend.Strategy = strategyName(s)
			arn, err := goBack(ctx, c.ECS, o.Cluster, o.Service, target, s, o.Out, o.PollInterval, o.Timeout)
			rec.Backend.ServiceDeployment = arn
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%s SUCCESSFUL (service deployment %s)", revName(target), arn), nil
		}
		if err := rollbackTo(ctx, c.ECS, w, target); err != nil {
			return "", err
		}
		return revName(target) + " COMPLETED", nil
	})
	if err != nil {
		return release.OutcomeFailed, fmt.Errorf("rollback of %s/%s to %s: %w; check the service in the ECS console", o.Cluster, o.Service, revName(target), err)
	}
	return release.OutcomeSucceeded, nil
}

func primaryCompleted(l *liveService) bool {
	_, err := liveRevisionARN(l)
	return err == nil
}

// rollbackTarget resolves o.ToRevision, or finds the release that put the
// live revision in place and returns the revision it replaced.
func rollbackTarget(ctx context.Context, api ECSAPI, o RollbackOptions, l *liveService) (string, error) {
	ref := o.ToRevision
	if ref == "" {
		var err error
		if ref, err = previousFromRecords(ctx, o.Releases, l); err != nil {
			return "", err
		}
	} else if _, err := strconv.Atoi(ref); err == nil {
		ref = familyOf(aws.ToString(l.Svc.TaskDefinition)) + ":" + ref
	}
	td, _, err := describeTaskDef(ctx, api, ref)
	if err != nil {
		return "", setting.Of("ToRevision", fmt.Errorf("%w: check the revision to go back to", err))
	}
	if family, live := aws.ToString(td.Family), familyOf(aws.ToString(l.Svc.TaskDefinition)); live != "" && family != live {
		return "", setting.Of("ToRevision", fmt.Errorf("task definition %s is of family %s, but service %s runs family %s: name a revision of %s", revName(aws.ToString(td.TaskDefinitionArn)), family, l.Service, live, live))
	}
	if td.Status != "ACTIVE" {
		return "", setting.Of("ToRevision", fmt.Errorf("task definition %s is %s; ECS cannot start new tasks from it: name an ACTIVE revision", revName(aws.ToString(td.TaskDefinitionArn)), td.Status))
	}
	return aws.ToString(td.TaskDefinitionArn), nil
}

// previousFromRecords returns BeforeRevision of the newest successful deploy
// whose AfterRevision is what the service runs now. Rollback records are
// skipped so a rollback is never undone by another.
func previousFromRecords(ctx context.Context, store *release.Store, l *liveService) (string, error) {
	target := nameOf(l.Cluster) + "/" + nameOf(l.Service)
	recs, err := store.List(ctx, release.KindBackend, target)
	if err != nil {
		return "", fmt.Errorf("list release records of %s: %w", target, err)
	}
	live := aws.ToString(l.Svc.TaskDefinition)
	for _, r := range recs {
		if r.Backend == nil || r.Outcome != release.OutcomeSucceeded || r.Backend.AfterRevision != live {
			continue
		}
		if slices.ContainsFunc(r.Steps, func(s release.Step) bool { return s.Name == "rollback" }) {
			continue
		}
		return r.Backend.BeforeRevision, nil
	}
	return "", setting.Of("ToRevision", fmt.Errorf("no successful release record of %s deployed %s (the live revision): name the revision to go back to", target, revName(live)))
}

// familyOf returns the family of a task definition ARN or family:revision.
func familyOf(arn string) string {
	rev := revName(arn)
	if i := strings.LastIndex(rev, ":"); i >= 0 {
		return rev[:i]
	}
	return rev
}
