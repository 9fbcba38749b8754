package ecsdeploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/futuraplataforma/esteira/internal/dbsnapshot"
	"github.com/futuraplataforma/esteira/internal/migration"
	"github.com/futuraplataforma/esteira/internal/release"
)

// ECSAPI is the part of *ecs.Client the engine uses.
type ECSAPI interface {
	migration.ECSAPI
	ecs.ListTasksAPIClient
	DescribeClusters(ctx context.Context, params *ecs.DescribeClustersInput, optFns ...func(*ecs.Options)) (*ecs.DescribeClustersOutput, error)
	DescribeServices(ctx context.Context, params *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	DescribeTaskDefinition(ctx context.Context, params *ecs.DescribeTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	RegisterTaskDefinition(ctx context.Context, params *ecs.RegisterTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error)
	DeregisterTaskDefinition(ctx context.Context, params *ecs.DeregisterTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.DeregisterTaskDefinitionOutput, error)
	ServiceDeploymentsAPI
	UpdateService(ctx context.Context, params *ecs.UpdateServiceInput, optFns ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
}

var _ ECSAPI = (*ecs.Client)(nil)

// deploy is one run of Deploy.
type deploy struct {
	c    Clients
	o    DeployOptions
	rec  *release.Record
	live *liveService
	// container is the target container; before the live revision ARN.
	container, before string
	// g holds the deploy's lock and writes its record; g.Check before
	// each change to ECS.
	g *release.Guard
	// db is what the snapshot before the migration is of (nil: none).
	db *dbsnapshot.DB
	// next is the new revision's registration, worked out by resolve.
	next *ecs.RegisterTaskDefinitionInput
	// strategy, when not nil, is the deployment configuration the deploy's
	// UpdateService sets (the strategy the release expects); strategyChange
	// says the change in words.
	strategy       *types.DeploymentConfiguration
	strategyChange string
}

// Deploy releases o.Image to the service. It returns the release record
// (also written to o.Releases) with the error, if any; the error says what
// happened, what state the service is in and what to run next.
func Deploy(ctx context.Context, c Clients, o DeployOptions) (*release.Record, error) {
	o.defaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	rec := newRecord(o.Cluster, o.Service, o.PriorSteps)
	rec.Backend.Image = o.Image
	rec.Redactor = newRedactor(o.MigrateCommand, o.Redact)
	o.Out = rec.Redactor.Writer(o.Out)
	d := &deploy{c: c, o: o, rec: rec, g: newGuard(o.Releases, rec, o.Out)}
	outcome, err := d.run(ctx)
	return d.g.Finish(ctx, outcome, err)
}

// Preflight runs Deploy's read-only checks that need no image (the
// cluster, the service and its live revision, the target container, the
// secrets the task refers to, logs for the migration), so a caller that
// still has to build and push the image can refuse bad input first.
// It changes nothing and writes no record.
func Preflight(ctx context.Context, c Clients, o DeployOptions) error {
	o.defaults()
	if err := o.check(false); err != nil {
		return err
	}
	rec := newRecord(o.Cluster, o.Service, nil)
	d := &deploy{c: c, o: o, rec: rec, g: newGuard(nil, rec, o.Out)}
	if err := step(o.Out, d.rec, "resolve", func() (string, error) { return d.resolve(ctx) }); err != nil {
		return d.explainUnstable(ctx, err)
	}
	return step(o.Out, d.rec, "check", func() (string, error) { return d.preflight(ctx) })
}

func (d *deploy) run(ctx context.Context) (string, error) {
	if err := step(d.o.Out, d.rec, "resolve", func() (string, error) { return d.resolve(ctx) }); err != nil {
		return release.OutcomeFailed, d.explainUnstable(ctx, err)
	}
	if !d.changes() && !d.o.Force {
		fmt.Fprintf(d.o.Out, "==> %s already runs %s with this definition; nothing to do (force the deploy to redeploy it)\n", revName(d.before), d.o.Image)
		d.rec.Backend.AfterRevision = d.before
		return release.OutcomeNoChange, nil
	}
	d.printDiff()
	if err := step(d.o.Out, d.rec, "check", func() (string, error) { return d.preflight(ctx) }); err != nil {
		return release.OutcomeFailed, err
	}
	if d.o.DryRun {
		if err := printPlan(ctx, d.o.Out, []*deploy{d}); err != nil {
			return release.OutcomeFailed, err
		}
		return release.OutcomeDryRun, nil
	}
	if err := d.lock(ctx); err != nil {
		return release.OutcomeFailed, err
	}
	if err := d.recheck(ctx); err != nil {
		return release.OutcomeFailed, err
	}
	return d.change(ctx)
}

// recheck makes sure no deploy finished between resolve and taking the
// lock: the rollback target must still be what runs.
func (d *deploy) recheck(ctx context.Context) error {
	l, err := describeService(ctx, d.c.ECS, d.o.Cluster, d.o.Service)
	if err != nil {
		return err
	}
	now, err := liveRevisionARN(l)
	if err != nil {
		return fmt.Errorf("%w; nothing was changed", err)
	}
	if now != d.before {
		return fmt.Errorf("service %s changed while this deploy was starting (it was on %s, now %s): nothing was changed; run the deploy again", d.o.Service, revName(d.before), revName(now))
	}
	d.live.Svc = l.Svc // fresh events: only what happens from now on is printed
	return nil
}

// resolve is step 1: the service, its live revision and the target container.
func (d *deploy) resolve(ctx context.Context) (string, error) {
	l, err := describeService(ctx, d.c.ECS, d.o.Cluster, d.o.Service)
	if err != nil {
		return "", err
	}
	if codeDeployed(l.Svc) {
		if err := d.checkCodeDeploy(ctx, l.Svc); err != nil {
			return "", err
		}
	} else if err := checkController(l); err != nil {
		return "", err
	}
	if d.strategy, d.strategyChange, err = d.o.Strategy.configure(l.Svc, d.o.Service); err != nil {
		return "", err
	}
	if d.before, err = liveRevisionARN(l); err != nil {
		return "", err
	}
	if l.TaskDef, l.Tags, err = describeTaskDef(ctx, d.c.ECS, d.before); err != nil {
		return "", err
	}
	if d.container, err = pickContainer(l.TaskDef, d.o.Container); err != nil {
		return "", err
	}
	if d.next, err = d.o.Definitions[d.o.Service].apply(registerInput(l.TaskDef, l.Tags, d.container, d.o.Image), d.container, d.o.Image); err != nil {
		return "", err
	}
	d.live = l
	d.rec.Backend.BeforeRevision, d.rec.Backend.Container = d.before, d.container
	return fmt.Sprintf("%s runs %s (container %s: %s)", d.o.Service, revName(d.before), d.container, aws.ToString(containerDef(l.TaskDef, d.container).Image)), nil
}

// preflight checks what can still fail before any change: the live
// revision can be rolled back to, secrets exist, the migration's logs can
// be followed.
func (d *deploy) preflight(ctx context.Context) (string, error) {
	if st := d.live.TaskDef.Status; st != types.TaskDefinitionStatusActive {
		rev := revName(d.before)
		return "", fmt.Errorf("the live revision %s is %s (deregistered): ECS refuses to point a service back at it, so a failed deploy could not roll back; nothing was changed: first give the service an ACTIVE copy of it (aws ecs register-task-definition with the definition of %s, then aws ecs update-service with the copy and wait until it is stable), then deploy again", rev, st, rev)
	}
	detail, err := checkSecrets(ctx, d.c.Secrets, d.c.Parameters, d.next.ContainerDefinitions)
	if err != nil {
		return "", err
	}
	if ref, _ := parseImage(d.o.Image); d.o.Image != "" && ref.Digest == "" {
		fmt.Fprintf(d.o.Out, "    warning: image %s has no digest: tasks of the new revision run whatever the tag points to when they start, so neither this release nor a later rollback to it is exact; pass repo@sha256:<digest>\n", d.o.Image)
	}
	if len(d.o.MigrateCommand) > 0 {
		if _, _, ok := migration.AwslogsOf(d.live.TaskDef, d.container); !ok {
			fmt.Fprintf(d.o.Out, "    warning: container %s has no awslogs log configuration with a stream prefix: the migration will run but its output cannot be shown or recorded\n", d.container)
			detail += "; migration logs unavailable"
		}
	}
	alarms, err := checkAlarms(ctx, d.c.Alarms, d.o.Strategy.Alarms, d.o.Out)
	if err != nil {
		return "", err
	}
	db, dbDetail, err := findDB(ctx, d.c.RDS, d.o.SnapshotDB)
	d.db = db
	return detail + alarms + dbDetail, err
}

// lock takes the service's deploy lock.
func (d *deploy) lock(ctx context.Context) error {
	o := release.LockOptions{StaleAfter: d.o.LockStaleAfter, Break: d.o.BreakLock}
	if err := d.g.Lock(ctx, lockName(d.rec), d.holder(), o); err != nil {
		return fmt.Errorf("%w; nothing was changed", err)
	}
	return nil
}

// holder names the deploy in its lock, and where the service was before
// it: a deploy killed mid-rollout writes no record, so its lock is what
// tells the next one where to go back to.
func (d *deploy) holder() release.Holder {
	return release.Holder{Who: d.o.Who, What: fmt.Sprintf("backend deploy of %s/%s %s; the service ran %s before it: if it died mid-rollout, "+
		"check the service and roll it back to revision %s",
		d.o.Cluster, d.o.Service, d.o.Image, revName(d.before), revName(d.before))}
}

// change registers, migrates, updates and, on failure, rolls back.
func (d *deploy) change(ctx context.Context) (string, error) {
	var next *types.TaskDefinition
	err := step(d.o.Out, d.rec, "register", func() (string, error) {
		if err := d.g.Check(ctx, "registering the new revision"); err != nil {
			return "", err
		}
		var err error
		next, err = d.registerNext(ctx)
		if err != nil {
			return "", err
		}
		return revName(aws.ToString(next.TaskDefinitionArn)), nil
	})
	if err != nil {
		return release.OutcomeFailed, fmt.Errorf("%w; nothing was changed, the service still runs %s", err, revName(d.before))
	}
	nextARN := aws.ToString(next.TaskDefinitionArn)
	d.rec.Backend.AfterRevision = nextARN
	if len(d.o.MigrateCommand) > 0 {
		if err := d.migrate(ctx, next); err != nil {
			return release.OutcomeFailed, err
		}
	}
	w := newWatcher(d.c.ECS, d.live, d.o.Out, d.o.PollInterval, d.o.Timeout, d.o.FailureThreshold)
	w.prime(ctx)
	// Checked outside the step: a lost lock is no failed rollout, and
	// rolling back would change the service under another run's lock.
	if err := d.g.Check(ctx, "updating the service"); err != nil {
		return release.OutcomeFailed, fmt.Errorf("%w; the service was not changed (still on %s); revision %s is left registered", err, revName(d.before), revName(nextARN))
	}
	err = step(d.o.Out, d.rec, "deploy", func() (string, error) { return d.rollout(ctx, w, nextARN, nil) })
	if err != nil {
		return d.rollback(ctx, w, nextARN, err)
	}
	return release.OutcomeSucceeded, nil
}

// step runs f as one named step of the record (see release.RunStep).
func step(out io.Writer, rec *release.Record, name string, f func() (string, error)) error {
	return release.RunStep(out, rec, name, f)
}

// roundDuration keeps durations readable: 12ms, 3.4s, 1m12s.
func roundDuration(d time.Duration) time.Duration { return release.RoundDuration(d) }

// explainUnstable turns "the service is mid-deployment" into "another
// deploy holds the lock" when that is the reason, so the second of two
// concurrent deploys names the first one's holder. The probe lock is
// released at once; other errors pass through.
func (d *deploy) explainUnstable(ctx context.Context, err error) error {
	var unstable *unstableError
	if d.o.Releases == nil || !errors.As(err, &unstable) {
		return err
	}
	l, lerr := d.o.Releases.Acquire(ctx, lockName(d.rec), d.holder(), release.LockOptions{StaleAfter: d.o.LockStaleAfter})
	var locked *release.LockedError
	if errors.As(lerr, &locked) {
		return fmt.Errorf("another deploy is in progress: %w; nothing was changed", lerr)
	}
	if lerr == nil {
		_ = l.Release(context.WithoutCancel(ctx))
	}
	return err
}
