package ecsdeploy

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/futuraplataforma/esteira/internal/release"
)

// A release interrupted through the dagger CLI (Ctrl-C) does not roll
// back: when the client goes away the engine SIGKILLs the module's process
// (no signal it could catch, no grace period), and the Go SDK gives the
// function a context that is never cancelled anyway. Neither the rollback
// esteira does on a cancelled context nor the release of its deploy lock
// runs. A blue/green, linear or canary service deployment it started is
// left in progress: held by a PAUSE hook for a gate nobody will run, or
// shifting on with nobody watching; the lock is left held, naming the
// revision the service ran before.
//
// backend rollback finishes what the release would have done: it stops
// that service deployment with ROLLBACK, so ECS puts every bit of traffic
// back on the revision it replaced, and follows it to its end.

// interruptedDeployment returns the native service deployment of the
// service that has not ended, "" when there is none (or the service is
// deployed the rolling way, where ECS finishes what was started).
func interruptedDeployment(ctx context.Context, api ServiceDeploymentsAPI, l *liveService) (string, error) {
	if !native(strategyOf(l.Svc)) {
		return "", nil
	}
	arn, err := findServiceDeployment(ctx, api, l.Cluster, l.Service, nil)
	if errors.Is(err, errNoServiceDeployment) {
		return "", nil
	}
	return arn, err
}

// sourceRevision is the task definition the service ran before the
// service deployment in progress: its one ACTIVE deployment beside the
// PRIMARY one. "" when that is not clear.
func sourceRevision(svc types.Service) string {
	var found string
	for _, d := range svc.Deployments {
		if aws.ToString(d.Status) != "ACTIVE" {
			continue
		}
		if found != "" {
			return ""
		}
		found = aws.ToString(d.TaskDefinition)
	}
	return found
}

// rollbackInterrupted stops the service deployment arn with ROLLBACK and
// follows it, under the service's deploy lock. target, when not "", is the
// revision the user named: it must be the one the deployment replaced.
func rollbackInterrupted(ctx context.Context, c Clients, o RollbackOptions, g *release.Guard, l *liveService, arn, target string) (string, error) {
	rec := g.Record
	s := strategyOf(l.Svc)
	rec.Backend.Strategy, rec.Backend.ServiceDeployment = strategyName(s), arn
	source := sourceRevision(l.Svc)
	if target != "" && target != source {
		return release.OutcomeFailed, fmt.Errorf("service %s is in the middle of %s service deployment %s, from %s: a rollback can only stop it and go back to that revision, not to %s; nothing was changed: run the rollback without a revision, then roll back further if needed",
			o.Service, strategyName(s), arn, orUnknown(revName(source)), revName(target))
	}
	if o.DryRun {
		fmt.Fprintf(o.Out, "==> would stop %s service deployment %s of %s with ROLLBACK: ECS puts all traffic back on %s, the revision it replaced\n%s\n",
			strategyName(s), arn, o.Service, orUnknown(revName(source)), dryRunOK)
		return release.OutcomeDryRun, nil
	}
	h := release.Holder{Who: o.Who, What: fmt.Sprintf("backend rollback of %s/%s: stopping service deployment %s with ROLLBACK", o.Cluster, o.Service, arn)}
	if err := g.Lock(ctx, lockName(rec), h, release.LockOptions{Break: o.BreakLock}); err != nil {
		return release.OutcomeFailed, fmt.Errorf("%w; nothing was changed", err)
	}
	if now, err := findServiceDeployment(ctx, c.ECS, o.Cluster, o.Service, nil); err != nil || now != arn {
		return release.OutcomeFailed, fmt.Errorf("the service deployments of %s changed while this rollback was starting (%s was in progress); nothing was changed: run the rollback again", o.Service, arn)
	}
	err := step(o.Out, rec, "rollback", func() (string, error) {
		if err := g.Check(ctx, "stopping the service deployment"); err != nil {
			return "", err
		}
		fctx, cancel := context.WithTimeout(ctx, o.Timeout)
		defer cancel()
		f := &follower{api: c.ECS, arn: arn, strategy: s, out: o.Out, poll: o.PollInterval}
		err := f.rollBack(fctx, "backend rollback of a service deployment left in progress")
		var ne *NativeError
		if !errors.As(err, &ne) || !ne.RolledBack() {
			return "", err
		}
		after, err := describeService(ctx, c.ECS, o.Cluster, o.Service)
		if err != nil {
			return "", err
		}
		rec.Backend.AfterRevision = aws.ToString(after.Svc.TaskDefinition)
		return fmt.Sprintf("service deployment %s ROLLBACK_SUCCESSFUL: all production traffic is on %s", arn, revName(rec.Backend.AfterRevision)), nil
	})
	if err != nil {
		return release.OutcomeFailed, fmt.Errorf("rollback of %s/%s: %w; the service state is UNCERTAIN: check the service deployment %s in the ECS console and the load balancer's listener rules",
			o.Cluster, o.Service, err, arn)
	}
	return release.OutcomeSucceeded, nil
}
