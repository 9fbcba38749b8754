package envrelease

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/lambdadeploy"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sitepublish"
)

// runDry is Run's dry run: each part's own dry run, in the order the
// release takes them, every part checked even when an earlier one is
// refused (so one run shows every problem), then what the gate would do.
// Nothing changes and no record is written; the parts' records say
// "dry-run" (or "no-change", "failed").
func runDry(ctx context.Context, c Clients, p Plan) (*Result, error) {
	if p.Backend == nil && p.Frontend == nil && len(p.Functions) == 0 {
		return nil, errors.New("release: nothing to release: the environment has no backend, no frontend and no functions")
	}
	fmt.Fprintf(p.Out, "==> release: dry run of %s: %s; nothing changes\n", orName(p.Env), order(p))
	res := &Result{Outcome: release.OutcomeDryRun}
	var errs []error
	if p.Backend != nil {
		fmt.Fprintf(p.Out, "==> release: backend (%s)\n", strings.Join(p.Backend.Services, ", "))
		o := p.Backend.Deploy
		o.DryRun = true
		recs, err := ecsdeploy.DeployGroup(ctx, c.ECS, o, p.Backend.Services)
		res.Backend = recs
		if err != nil {
			errs = append(errs, fmt.Errorf("backend: %w", err))
		}
	}
	if p.Frontend != nil {
		fmt.Fprintln(p.Out, "==> release: frontend")
		o := *p.Frontend
		o.DryRun = true
		rec, err := sitepublish.Deploy(ctx, c.Frontend, o)
		res.Frontend = rec
		if err != nil {
			errs = append(errs, fmt.Errorf("frontend: %w", err))
		}
	}
	for _, o := range p.Functions {
		fmt.Fprintf(p.Out, "==> release: function %s\n", o.Function)
		o.DryRun = true
		rec, err := lambdadeploy.Deploy(ctx, c.Lambda, o)
		if rec != nil {
			res.Functions = append(res.Functions, rec)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("function %s: %w", o.Function, err))
		}
	}
	if p.Gate != nil {
		fmt.Fprintln(p.Out, "==> release: quality gate: runs once every part is out; if it fails, every part that changed is brought back")
	}
	if len(errs) > 0 {
		res.Outcome = release.OutcomeFailed
		return res, fmt.Errorf("release of %s: the dry run found %d problem(s); nothing was changed: %w", orName(p.Env), len(errs), errors.Join(errs...))
	}
	fmt.Fprintf(p.Out, "==> release: DRY RUN OK: every part of %s was checked and planned; nothing was changed\n", orName(p.Env))
	return res, nil
}

// order says in which order the release takes the parts.
func order(p Plan) string {
	var steps []string
	if p.Backend != nil {
		steps = append(steps, "the backend's services ("+strings.Join(p.Backend.Services, ", ")+")")
		if len(p.Backend.Deploy.MigrateCommand) > 0 {
			steps[0] = "the migration, then " + steps[0]
		}
	}
	if p.Frontend != nil {
		if p.Backend != nil {
			steps[0] += " with the site beside their rollout"
		} else {
			steps = append(steps, "the site")
		}
	}
	if len(p.Functions) > 0 {
		var names []string
		for _, f := range p.Functions {
			names = append(names, f.Function)
		}
		steps = append(steps, "the functions ("+strings.Join(names, ", ")+")")
	}
	if p.Gate != nil {
		steps = append(steps, "the quality gate")
	}
	return strings.Join(steps, ", then ")
}

func orName(env string) string {
	if env == "" {
		return "the environment"
	}
	return env
}
