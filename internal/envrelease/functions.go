package envrelease

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/futuraplataforma/esteira/internal/lambdadeploy"
	"github.com/futuraplataforma/esteira/internal/release"
)

// releaseFunctions releases the functions one after the other, once the
// services and the site stand. A function that fails has put its own alias
// back; the caller undoes the rest.
func releaseFunctions(ctx context.Context, c Clients, p Plan, res *Result) error {
	for _, o := range p.Functions {
		fmt.Fprintf(p.Out, "==> release: function %s\n", o.Function)
		rec, err := lambdadeploy.Deploy(ctx, c.Lambda, o)
		if rec != nil {
			res.Functions = append(res.Functions, rec)
		}
		if err != nil {
			return fmt.Errorf("function %s: %w", o.Function, err)
		}
	}
	return nil
}

// undoFunctions puts back the alias of every function this release moved.
func undoFunctions(ctx context.Context, c Clients, p Plan, res *Result) (string, error) {
	var back []string
	var errs []error
	for i, r := range res.Functions {
		l := r.Lambda
		if r.Outcome != release.OutcomeSucceeded || l == nil || l.BeforeVersion == l.AfterVersion {
			continue
		}
		if l.BeforeVersion == "" {
			back = append(back, fmt.Sprintf("%s:%s, created by this release, stays on version %s (there is none before it)", l.Function, l.Alias, l.AfterVersion))
			continue
		}
		o := p.Functions[i]
		rec, err := lambdadeploy.Rollback(context.WithoutCancel(ctx), c.Lambda, lambdadeploy.RollbackOptions{
			Function: l.Function, Alias: l.Alias, ToVersion: l.BeforeVersion, Releases: o.Releases, Who: o.Who, Out: o.Out})
		if rec != nil {
			res.Undone = append(res.Undone, rec)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", l.Function, err))
			continue
		}
		back = append(back, fmt.Sprintf("%s:%s on version %s", l.Function, l.Alias, l.BeforeVersion))
	}
	return strings.Join(back, ", "), errors.Join(errs...)
}

// undoLater brings back what was released before a later part (a function,
// the gate) failed with err: the functions, the site, then the services.
func undoLater(ctx context.Context, c Clients, p Plan, res *Result, err error) error {
	back, ferr := undoFunctions(ctx, c, p, res)
	switch {
	case ferr != nil:
		err = fmt.Errorf("%w; putting the functions back ALSO failed: %v", err, ferr)
	case back != "":
		err = fmt.Errorf("%w; the functions were put back (%s)", err, back)
	}
	undoneSite, uerr := undoFrontend(ctx, c, p, res.Frontend)
	if undoneSite != nil {
		res.Undone = append(res.Undone, undoneSite)
	}
	if uerr != nil {
		err = fmt.Errorf("%w; restoring the site ALSO failed: %v", err, uerr)
	} else if undoneSite != nil {
		err = fmt.Errorf("%w; the site was restored to the release before", err)
	}
	return undoAfter(ctx, c, p, res, err)
}
