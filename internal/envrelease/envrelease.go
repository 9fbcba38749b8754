// Package envrelease releases a whole environment: the ECS services of the
// backend image (together, one migration first) and, beside their rollout,
// the frontend; then the quality gate. If any part fails, every part that
// changed is brought back (the services to the revisions they ran before,
// the site to this release's backup), so the environment ends on one
// version or the other, never half.
package envrelease

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/lambdadeploy"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sitepublish"
)

// Plan is what to release; a nil part is not released.
type Plan struct {
	Backend  *BackendPart
	Frontend *sitepublish.Options
	// Functions are released after the services and the site, in order.
	Functions []lambdadeploy.Options
	// Gate, when set, runs after everything rolled out; its error (a
	// non-zero exit) rolls the whole release back. It returns its output.
	Gate func(ctx context.Context) (string, error)
	Out  io.Writer
	// Env names the environment; with Store, the release is recorded as a
	// whole (release.KindEnvironment), which promote reads.
	Env          string
	Store        *release.Store
	Who          string
	PromotedFrom string
	// DryRun checks and plans every part, changes nothing, writes no record.
	DryRun bool
}

// GateResult is what the quality gate said.
type GateResult struct {
	Passed bool     `json:"passed"`
	Error  string   `json:"error,omitempty"`
	Output []string `json:"output,omitempty"` // the last lines
}

// BackendPart is the services deployed from one image; Deploy names the
// first service and the settings they share.
type BackendPart struct {
	Deploy   ecsdeploy.DeployOptions
	Services []string
	// Checks ran on the source before the image was pushed; they go into
	// the environment's record.
	Checks []release.CheckRecord
}

// Clients are the engines' clients.
type Clients struct {
	ECS      ecsdeploy.Clients
	Frontend sitepublish.Clients
	Lambda   lambdadeploy.Clients
}

// Result is what each part did.
type Result struct {
	Outcome   string            `json:"outcome"`
	Backend   []*release.Record `json:"backend,omitempty"`
	Frontend  *release.Record   `json:"frontend,omitempty"`
	Functions []*release.Record `json:"functions,omitempty"`
	Gate      *GateResult       `json:"gate,omitempty"`
	// Undone lists what was rolled back because a later part failed.
	Undone []*release.Record `json:"undone,omitempty"`
	// Record is the environment's record of this release, when stored.
	Record *release.Record `json:"record,omitempty"`
}

// Run checks the frontend's build and plan first (nothing changes if the
// build is bad), then releases the backend and, once its migration is done,
// the frontend beside the rollout, then runs the gate.
func Run(ctx context.Context, c Clients, p Plan) (*Result, error) {
	started := time.Now().UTC()
	if p.Out == nil {
		p.Out = io.Discard
	}
	if p.DryRun {
		return runDry(ctx, c, p)
	}
	res, err := run(ctx, c, p)
	if res == nil || p.Store == nil || p.Env == "" || (res.Backend == nil && res.Frontend == nil && res.Functions == nil) {
		return res, err
	}
	rec := &release.Record{ID: release.NewID(started), Kind: release.KindEnvironment, Target: p.Env,
		StartedAt: started, FinishedAt: time.Now().UTC(), Outcome: res.Outcome, Environment: &release.EnvironmentRecord{PromotedFrom: p.PromotedFrom}}
	if err != nil {
		rec.Error = err.Error()
	}
	if p.Backend != nil {
		rec.Environment.Image, rec.Environment.Checks = p.Backend.Deploy.Image, p.Backend.Checks
	}
	for _, b := range res.Backend {
		rec.Environment.Parts = append(rec.Environment.Parts, b.ID)
	}
	if f := res.Frontend; f != nil && f.Frontend != nil {
		rec.Environment.Site, rec.Environment.BuildDigest = f.Target, f.Frontend.BuildDigest
		rec.Environment.Parts = append(rec.Environment.Parts, f.ID)
	}
	for _, f := range res.Functions {
		rec.Environment.Parts = append(rec.Environment.Parts, f.ID)
	}
	if res.Gate != nil {
		rec.Environment.Gate, rec.Environment.GateOutput = &res.Gate.Passed, res.Gate.Output
	}
	uri, perr := p.Store.Put(context.WithoutCancel(ctx), rec)
	if perr != nil {
		fmt.Fprintf(p.Out, "warning: write the environment's release record: %v\n", perr)
		return res, errors.Join(err, fmt.Errorf("the release %s, but its environment record could not be written (promote will not find it): %w", res.Outcome, perr))
	}
	fmt.Fprintf(p.Out, "==> release: recorded %s\n", uri)
	res.Record = rec
	return res, err
}

// Promotable is the newest release of env that succeeded with its quality
// gate passed: what promote may copy to the next environment.
func Promotable(ctx context.Context, store *release.Store, env string) (*release.Record, error) {
	recs, err := store.List(ctx, release.KindEnvironment, env)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if r.Outcome != release.OutcomeSucceeded || r.Environment == nil {
			continue
		}
		if r.Environment.Gate == nil {
			return nil, fmt.Errorf("the last successful release of %s (%s) ran no quality gate: give %s a gate in the environment file; promote only moves what passed one", env, r.ID, env)
		}
		return r, nil
	}
	return nil, fmt.Errorf("%s has no successful release that passed its quality gate: release %s first", env, env)
}

func run(ctx context.Context, c Clients, p Plan) (*Result, error) {
	if p.Out == nil {
		p.Out = io.Discard
	}
	if p.Backend == nil && p.Frontend == nil && len(p.Functions) == 0 {
		return nil, errors.New("release: nothing to release: the environment has no backend, no frontend and no functions")
	}
	res := &Result{Outcome: release.OutcomeSucceeded}
	if p.Frontend != nil {
		fmt.Fprintln(p.Out, "==> release: checking the frontend build before anything changes")
		plan := *p.Frontend
		if _, err := sitepublish.Plan(ctx, c.Frontend, plan); err != nil {
			res.Outcome = release.OutcomeFailed
			return res, fmt.Errorf("frontend: %w; nothing was changed", err)
		}
	}
	// The frontend is published beside the services' rollout, once the
	// migration is done (or alone when the services do not change).
	var siteErr error
	siteDone := make(chan struct{})
	beside := false
	publish := func() {
		defer close(siteDone)
		fmt.Fprintln(p.Out, "==> release: frontend")
		res.Frontend, siteErr = sitepublish.Deploy(ctx, c.Frontend, *p.Frontend)
	}
	if p.Backend != nil {
		fmt.Fprintf(p.Out, "==> release: backend (%s)\n", strings.Join(p.Backend.Services, ", "))
		onRollout := func() {
			if p.Frontend != nil {
				beside = true
				go publish()
			}
		}
		recs, err := ecsdeploy.DeployGroupThen(ctx, c.ECS, p.Backend.Deploy, p.Backend.Services, onRollout)
		if beside {
			<-siteDone
		}
		res.Backend = recs
		if err != nil {
			res.Outcome = release.OutcomeFailed
			return res, backendFailed(ctx, c, p, res, err, beside, siteErr)
		}
	}
	if p.Frontend != nil && !beside {
		publish()
	}
	if p.Frontend != nil && siteErr != nil {
		return res, undoAfter(ctx, c, p, res, fmt.Errorf("frontend: %w", siteErr))
	}
	if err := releaseFunctions(ctx, c, p, res); err != nil {
		res.Outcome = release.OutcomeFailed
		return res, undoLater(ctx, c, p, res, err)
	}
	if p.Gate == nil {
		return res, nil
	}
	fmt.Fprintln(p.Out, "==> release: quality gate")
	out, err := p.Gate(ctx)
	res.Gate = &GateResult{Passed: err == nil, Output: lastLines(out, 20)}
	if err == nil {
		fmt.Fprintln(p.Out, "==> release: quality gate passed")
		return res, nil
	}
	res.Gate.Error = err.Error()
	return res, undoLater(ctx, c, p, res, fmt.Errorf("the quality gate failed: %w", err))
}

// backendFailed says where everything is after the services failed (and
// were rolled back by the group): the site, if it was published beside the
// rollout, is restored too.
func backendFailed(ctx context.Context, c Clients, p Plan, res *Result, err error, beside bool, siteErr error) error {
	switch {
	case p.Frontend == nil:
		return fmt.Errorf("backend: %w; there is no frontend", err)
	case !beside:
		return fmt.Errorf("backend: %w; the frontend was not touched", err)
	case siteErr != nil:
		return fmt.Errorf("backend: %w; the frontend, published beside the rollout, failed too: %v", err, siteErr)
	}
	undone, uerr := undoFrontend(ctx, c, p, res.Frontend)
	if undone != nil {
		res.Undone = append(res.Undone, undone)
	}
	if uerr != nil {
		return fmt.Errorf("backend: %w; the site, published beside the rollout, could NOT be restored: %v", err, uerr)
	}
	return fmt.Errorf("backend: %w; the site, published beside the rollout, was restored to the release before", err)
}

// undoAfter rolls the services back after a later part failed with err.
func undoAfter(ctx context.Context, c Clients, p Plan, res *Result, err error) error {
	res.Outcome = release.OutcomeRolledBack
	undone, uerr := undoBackend(ctx, c.ECS, p, res.Backend)
	res.Undone = append(res.Undone, undone...)
	if uerr != nil {
		res.Outcome = release.OutcomeFailed
		return fmt.Errorf("%w; rolling the backend back ALSO failed: %v", err, uerr)
	}
	if len(undone) == 0 {
		return fmt.Errorf("%w; the backend had not changed", err)
	}
	return fmt.Errorf("%w; every backend service was rolled back to the revision it ran before: %s", err, where(undone))
}

// undoFrontend restores the site from the backup this release took.
func undoFrontend(ctx context.Context, c Clients, p Plan, rec *release.Record) (*release.Record, error) {
	if p.Frontend == nil || rec == nil || rec.Outcome != release.OutcomeSucceeded || rec.Frontend == nil || rec.Frontend.BackupURI == "" {
		return nil, nil
	}
	f := p.Frontend
	return sitepublish.Rollback(context.WithoutCancel(ctx), c.Frontend, sitepublish.RollbackOptions{
		Bucket: f.Bucket, Prefix: f.Prefix, BackupBucket: f.BackupBucket, Backup: rec.Frontend.BackupURI,
		DistributionID: f.DistributionID, Releases: f.Releases, Who: f.Who, Out: f.Out,
	})
}

func lastLines(s string, n int) []string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return nil
	}
	return lines[max(0, len(lines)-n):]
}

// undoBackend rolls back every service the backend part changed.
func undoBackend(ctx context.Context, c ecsdeploy.Clients, p Plan, recs []*release.Record) ([]*release.Record, error) {
	if p.Backend == nil {
		return nil, nil
	}
	rctx := context.WithoutCancel(ctx)
	var undone []*release.Record
	var errs []error
	for _, r := range recs {
		b := r.Backend
		if r.Outcome != release.OutcomeSucceeded || b == nil || b.BeforeRevision == b.AfterRevision {
			continue
		}
		d := p.Backend.Deploy
		rec, err := ecsdeploy.Rollback(rctx, c, ecsdeploy.RollbackOptions{
			Cluster: b.Cluster, Service: b.Service, ToRevision: b.BeforeRevision, CodeDeploy: d.CodeDeploy[b.Service],
			Timeout: d.Timeout, PollInterval: d.PollInterval, Releases: d.Releases, Who: d.Who, Out: d.Out,
		})
		if rec != nil {
			undone = append(undone, rec)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", b.Service, err))
		}
	}
	return undone, errors.Join(errs...)
}

func where(recs []*release.Record) string {
	var w []string
	for _, r := range recs {
		if r.Backend != nil {
			w = append(w, r.Backend.Service+" on "+r.Backend.AfterRevision[strings.LastIndex(r.Backend.AfterRevision, "/")+1:])
		}
	}
	return strings.Join(w, ", ")
}

// Summary is one line about the release, for a chat notification.
func (r *Result) Summary(env string, err error) string {
	if err != nil {
		first, _, _ := strings.Cut(err.Error(), "\n")
		return fmt.Sprintf("esteira: release of %s FAILED (%s): %s", env, r.Outcome, first)
	}
	var parts []string
	for _, b := range r.Backend {
		if b.Backend != nil {
			parts = append(parts, fmt.Sprintf("%s on %s", b.Backend.Service, b.Backend.AfterRevision[strings.LastIndex(b.Backend.AfterRevision, "/")+1:]))
		}
	}
	if r.Frontend != nil {
		parts = append(parts, fmt.Sprintf("site %s release %s", r.Frontend.Target, r.Frontend.ID))
	}
	for _, f := range r.Functions {
		if l := f.Lambda; l != nil && (f.Outcome == release.OutcomeSucceeded || f.Outcome == release.OutcomeNoChange) {
			parts = append(parts, fmt.Sprintf("%s:%s on version %s", l.Function, l.Alias, l.AfterVersion))
		}
	}
	return fmt.Sprintf("esteira: release of %s %s: %s", env, r.Outcome, strings.Join(parts, ", "))
}
