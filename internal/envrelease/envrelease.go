// Package envrelease releases a whole environment: the ECS services of the
// backend image (together, one migration first) and then the frontend. If
// the frontend fails after the services changed, every service is rolled
// back to the revision it ran before, so the environment ends on one
// version or the other, never half.
package envrelease

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sitepublish"
)

// Plan is what to release; a nil part is not released.
type Plan struct {
	Backend  *BackendPart
	Frontend *sitepublish.Options
	Out      io.Writer
}

// BackendPart is the services deployed from one image; Deploy names the
// first service and the settings they share.
type BackendPart struct {
	Deploy   ecsdeploy.DeployOptions
	Services []string
}

// Clients are the engines' clients.
type Clients struct {
	ECS      ecsdeploy.Clients
	Frontend sitepublish.Clients
}

// Result is what each part did.
type Result struct {
	Outcome  string            `json:"outcome"`
	Backend  []*release.Record `json:"backend,omitempty"`
	Frontend *release.Record   `json:"frontend,omitempty"`
	// Undone lists the services rolled back because a later part failed.
	Undone []*release.Record `json:"undone,omitempty"`
}

// Run checks the frontend's build and plan first (nothing changes if the
// build is bad), then releases the backend, then the frontend; a failed
// frontend rolls the services back.
func Run(ctx context.Context, c Clients, p Plan) (*Result, error) {
	if p.Out == nil {
		p.Out = io.Discard
	}
	if p.Backend == nil && p.Frontend == nil {
		return nil, errors.New("release: nothing to release: the environment has no backend and no frontend")
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
	if p.Backend != nil {
		fmt.Fprintf(p.Out, "==> release: backend (%s)\n", strings.Join(p.Backend.Services, ", "))
		recs, err := ecsdeploy.DeployGroup(ctx, c.ECS, p.Backend.Deploy, p.Backend.Services)
		res.Backend = recs
		if err != nil {
			res.Outcome = release.OutcomeFailed
			what := "the frontend was not touched"
			if p.Frontend == nil {
				what = "there is no frontend"
			}
			return res, fmt.Errorf("backend: %w; %s", err, what)
		}
	}
	if p.Frontend == nil {
		return res, nil
	}
	fmt.Fprintln(p.Out, "==> release: frontend")
	rec, err := sitepublish.Deploy(ctx, c.Frontend, *p.Frontend)
	res.Frontend = rec
	if err == nil {
		return res, nil
	}
	res.Outcome = release.OutcomeRolledBack
	undone, uerr := undoBackend(ctx, c.ECS, p, res.Backend)
	res.Undone = undone
	if uerr != nil {
		res.Outcome = release.OutcomeFailed
		return res, fmt.Errorf("frontend: %w; rolling the backend back ALSO failed: %v", err, uerr)
	}
	if len(undone) == 0 {
		return res, fmt.Errorf("frontend: %w; the backend had not changed", err)
	}
	return res, fmt.Errorf("frontend: %w; every backend service was rolled back to the revision it ran before: %s", err, where(undone))
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
			Cluster: b.Cluster, Service: b.Service, ToRevision: b.BeforeRevision,
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
	return fmt.Sprintf("esteira: release of %s %s: %s", env, r.Outcome, strings.Join(parts, ", "))
}
