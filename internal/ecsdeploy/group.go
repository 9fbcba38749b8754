package ecsdeploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/futuraplataforma/esteira/internal/release"
)

// DeployGroup releases one image to several services of one cluster (an
// API, a worker and a scheduler built from the same image) as one release:
// every service is checked and locked first, a new revision is registered
// for each, the migration runs once (a one-off task of the first service's
// new revision), then every service rolls out in parallel. If any part
// fails, every service that changed is rolled back to its recorded
// revision, waited for, and the error says which part broke and where each
// service is now. o names the first service and the settings they share;
// services lists every service, the first included. Each service gets its
// own release record (so a rollback works per service), returned in
// the order of services.
func DeployGroup(ctx context.Context, c Clients, o DeployOptions, services []string) ([]*release.Record, error) {
	return deployGroup(ctx, c, o, services, nil)
}

// DeployGroupThen is DeployGroup calling onRollout once the migration has
// succeeded and the services are about to roll out (never when nothing
// changes or the release fails earlier), so a caller can start the parts
// that must follow the migration alongside the rollout.
func DeployGroupThen(ctx context.Context, c Clients, o DeployOptions, services []string, onRollout func()) ([]*release.Record, error) {
	return deployGroup(ctx, c, o, services, onRollout)
}

func deployGroup(ctx context.Context, c Clients, o DeployOptions, services []string, onRollout func()) ([]*release.Record, error) {
	o.defaults()
	g, err := newGroup(c, o, services, true)
	if err != nil {
		return nil, err
	}
	g.onRollout = onRollout
	outcomes, err := g.run(ctx)
	var recs []*release.Record
	var errs []error
	for i, d := range g.ds {
		rec, ferr := d.g.Finish(ctx, outcomes[i], errOf(g.errs, i))
		recs = append(recs, rec)
		if ferr != nil && !errors.Is(ferr, errOf(g.errs, i)) {
			errs = append(errs, ferr)
		}
	}
	if err != nil {
		return recs, g.ds[0].rec.Redactor.Error(errors.Join(append([]error{err}, errs...)...))
	}
	return recs, errors.Join(errs...)
}

type group struct {
	ds        []*deploy
	errs      []error // per service, for its record
	onRollout func()
	out       io.Writer // o.Out, for what concerns every service (the plan)
}

// newGroup validates o for each service (defaults already applied); with
// prefix, each service's lines start with its name.
func newGroup(c Clients, o DeployOptions, services []string, prefix bool) (*group, error) {
	if len(services) == 0 {
		return nil, errors.New("deploy: no service given: name at least one service, e.g. api,worker")
	}
	seen := map[string]bool{}
	red := newRedactor(o.MigrateCommand, o.Redact) // one for the release: what one service's part learns, all hide
	o.Out = red.Writer(o.Out)
	g := &group{out: o.Out}
	for i, svc := range services {
		if seen[svc] {
			return nil, fmt.Errorf("deploy: service %s is listed twice: nothing was changed", svc)
		}
		seen[svc] = true
		so := o
		so.Service = svc
		if prefix {
			so.Out = prefixed(o.Out, "["+svc+"] ")
		}
		if i > 0 {
			so.MigrateCommand, so.SnapshotDB = nil, "" // the migration (and its snapshot) runs once, in the first service's revision
		}
		if err := so.validate(); err != nil {
			return nil, err
		}
		rec := newRecord(so.Cluster, svc, o.PriorSteps)
		rec.Backend.Image, rec.Redactor = so.Image, red
		g.ds = append(g.ds, &deploy{c: c, o: so, rec: rec, g: newGuard(o.Releases, rec, so.Out)})
	}
	return g, nil
}

func errOf(errs []error, i int) error {
	if i < len(errs) {
		return errs[i]
	}
	return nil
}

// every runs f for each service in order and stops at the first error,
// which becomes that service's record error; the others get why they stopped.
func (g *group) every(outcome string, f func(*deploy) error) ([]string, error) {
	for i, d := range g.ds {
		if err := f(d); err != nil {
			return g.fail(i, outcome, err)
		}
	}
	return nil, nil
}

// fail ends the release with every service on outcome: service i broke
// with err, the others were stopped because of it.
func (g *group) fail(i int, outcome string, err error) ([]string, error) {
	outcomes := make([]string, len(g.ds))
	g.errs = make([]error, len(g.ds))
	for j := range g.ds {
		outcomes[j] = outcome
		g.errs[j] = fmt.Errorf("the release of %s stopped because %s failed: %w", g.names(), g.ds[i].o.Service, err)
	}
	g.errs[i] = err
	return outcomes, fmt.Errorf("release of %s: %s: %w", g.names(), g.ds[i].o.Service, err)
}

func (g *group) names() string {
	var n []string
	for _, d := range g.ds {
		n = append(n, d.o.Service)
	}
	return strings.Join(n, ", ")
}

func (g *group) all(outcome string) []string {
	out := make([]string, len(g.ds))
	for i := range out {
		out[i] = outcome
	}
	return out
}

// prepare runs the read-only steps of every service: resolve and, unless
// nothing would change, check. It returns the outcomes when the release
// ends there (an error, or nothing to do), nil to go on.
func (g *group) prepare(ctx context.Context) ([]string, error) {
	if outcomes, err := g.every(release.OutcomeFailed, func(d *deploy) error {
		if err := step(d.o.Out, d.rec, "resolve", func() (string, error) { return d.resolve(ctx) }); err != nil {
			return d.explainUnstable(ctx, err)
		}
		return nil
	}); err != nil {
		return outcomes, err
	}
	changed := false
	for _, d := range g.ds {
		changed = changed || d.changes()
	}
	if !changed && !g.ds[0].o.Force {
		return g.all(release.OutcomeNoChange), nil
	}
	for _, d := range g.ds {
		d.printDiff()
	}
	return g.every(release.OutcomeFailed, func(d *deploy) error {
		return step(d.o.Out, d.rec, "check", func() (string, error) { return d.preflight(ctx) })
	})
}

func (g *group) run(ctx context.Context) ([]string, error) {
	if outcomes, err := g.prepare(ctx); outcomes != nil || err != nil {
		if err == nil { // nothing to do
			for _, d := range g.ds {
				fmt.Fprintf(d.o.Out, "==> %s already runs %s with this definition; nothing to do (force the deploy to redeploy it)\n", revName(d.before), d.o.Image)
				d.rec.Backend.AfterRevision = d.before
			}
		}
		return outcomes, err
	}
	if g.ds[0].o.DryRun {
		if err := printPlan(ctx, g.out, g.ds); err != nil {
			return g.fail(0, release.OutcomeFailed, err)
		}
		return g.all(release.OutcomeDryRun), nil
	}
	// Locks in name order, so two overlapping groups never wait on each other.
	byName := append([]*deploy(nil), g.ds...)
	sort.Slice(byName, func(i, j int) bool { return byName[i].o.Service < byName[j].o.Service })
	for _, d := range byName {
		if err := d.lock(ctx); err != nil {
			return g.fail(g.index(d), release.OutcomeFailed, err)
		}
	}
	if outcomes, err := g.every(release.OutcomeFailed, func(d *deploy) error { return d.recheck(ctx) }); err != nil {
		return outcomes, err
	}
	return g.change(ctx)
}

func (g *group) index(d *deploy) int {
	for i, x := range g.ds {
		if x == d {
			return i
		}
	}
	return 0
}

// change registers every revision, migrates once, rolls out everything in
// parallel and, if any part fails, rolls every service back.
func (g *group) change(ctx context.Context) ([]string, error) {
	nexts := make([]*types.TaskDefinition, len(g.ds))
	deregisterAll := func() {
		for i, next := range nexts {
			if next != nil {
				_ = deregister(context.WithoutCancel(ctx), g.ds[i].c.ECS, aws.ToString(next.TaskDefinitionArn))
			}
		}
	}
	for i, d := range g.ds {
		err := step(d.o.Out, d.rec, "register", func() (string, error) {
			if err := d.g.Check(ctx, "registering the new revision"); err != nil {
				return "", err
			}
			var err error
			if nexts[i], err = d.registerNext(ctx); err != nil {
				return "", err
			}
			return revName(aws.ToString(nexts[i].TaskDefinitionArn)), nil
		})
		if err != nil {
			deregisterAll()
			return g.fail(i, release.OutcomeFailed, fmt.Errorf("%w; nothing was changed, every service still runs its revision", err))
		}
		d.rec.Backend.AfterRevision = aws.ToString(nexts[i].TaskDefinitionArn)
	}
	if first := g.ds[0]; len(first.o.MigrateCommand) > 0 {
		if err := first.migrate(ctx, nexts[0]); err != nil { // deregisters the first's revision
			nexts[0] = nil
			deregisterAll()
			return g.fail(0, release.OutcomeFailed, fmt.Errorf("%w; no service was changed", err))
		}
	}
	// Every lock is checked before any service is updated: the updates
	// run in parallel and roll back together, so a lock lost after this
	// point is one the whole group's rollback answers for.
	for i, d := range g.ds {
		if err := d.g.Check(ctx, "updating the services"); err != nil {
			deregisterAll()
			return g.fail(i, release.OutcomeFailed, fmt.Errorf("%w; no service was changed, every service still runs its revision", err))
		}
	}
	if g.onRollout != nil {
		g.onRollout() // the migration is done: what depends on it may start
	}
	watchers := make([]*watcher, len(g.ds))
	updated := make([]bool, len(g.ds))
	failed := make([]error, len(g.ds))
	var wg sync.WaitGroup
	for i, d := range g.ds {
		next := aws.ToString(nexts[i].TaskDefinitionArn)
		watchers[i] = newWatcher(d.c.ECS, d.live, d.o.Out, d.o.PollInterval, d.o.Timeout, d.o.FailureThreshold)
		watchers[i].prime(ctx)
		wg.Add(1)
		go func() {
			defer wg.Done()
			failed[i] = step(d.o.Out, d.rec, "deploy", func() (string, error) { return d.rollout(ctx, watchers[i], next, &updated[i]) })
		}()
	}
	wg.Wait()
	broke := -1
	for i, err := range failed {
		if err != nil && broke < 0 {
			broke = i
		}
	}
	if broke < 0 {
		return g.all(release.OutcomeSucceeded), nil
	}
	return g.rollbackAll(ctx, watchers, nexts, updated, failed, broke)
}

// rollbackAll brings every service that was updated back to its recorded
// revision, in parallel, and says where each one is now.
func (g *group) rollbackAll(ctx context.Context, watchers []*watcher, nexts []*types.TaskDefinition,
	updated []bool, failed []error, broke int) ([]string, error) {
	outcomes := g.all(release.OutcomeRolledBack)
	g.errs = make([]error, len(g.ds))
	var wg sync.WaitGroup
	for i, d := range g.ds {
		cause := failed[i]
		if cause == nil {
			cause = fmt.Errorf("%s failed to roll out (%v), so the whole release is rolled back", g.ds[broke].o.Service, failed[broke])
		}
		if !updated[i] {
			outcomes[i], g.errs[i] = release.OutcomeFailed, fmt.Errorf("%w; this service was not changed (still on %s)", cause, revName(d.before))
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			outcomes[i], g.errs[i] = d.rollback(ctx, watchers[i], aws.ToString(nexts[i].TaskDefinitionArn), cause)
		}()
	}
	wg.Wait()
	var where []string
	uncertain := false
	for i, d := range g.ds {
		state := "back on " + revName(d.before)
		if outcomes[i] == release.OutcomeFailed && updated[i] {
			state, uncertain = "UNCERTAIN (its rollback failed: roll it back to revision "+revName(d.before)+")", true
		} else if !updated[i] {
			state = "untouched on " + revName(d.before)
		}
		where = append(where, d.o.Service+" "+state)
	}
	summary := "every service is back on its recorded revision"
	if uncertain {
		summary = "NOT every service could be rolled back"
	}
	return outcomes, fmt.Errorf("release of %s FAILED: %s: %v; %s: %s", g.names(), g.ds[broke].o.Service, failed[broke], summary, strings.Join(where, ", "))
}
