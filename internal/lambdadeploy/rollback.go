package lambdadeploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/setting"
)

// RollbackOptions configure Rollback.
type RollbackOptions struct {
	Function string
	Alias    string // default "live"
	// ToVersion is where the alias goes; empty: the version the last
	// release that moved it replaced, from the release records.
	ToVersion      string
	Releases       *release.Store
	Who            string
	LockStaleAfter time.Duration
	BreakLock      bool
	// DryRun resolves, prints the move and changes nothing.
	DryRun bool
	Out    io.Writer
}

// Rollback moves the alias, with all its traffic, back to ToVersion or to
// the version the last release replaced.
func Rollback(ctx context.Context, c Clients, o RollbackOptions) (*release.Record, error) {
	opts := Options{Function: o.Function, Alias: o.Alias, Releases: o.Releases, Who: o.Who, LockStaleAfter: o.LockStaleAfter, BreakLock: o.BreakLock, Out: o.Out}
	opts.defaults()
	if o.Function == "" {
		return nil, setting.Of("Function", errors.New("rollback: function is empty: name the Lambda function"))
	}
	if o.ToVersion == "" && o.Releases == nil {
		return nil, setting.Of("ToVersion", fmt.Errorf("rollback of function %s: name the version to go back to, or give a release store whose records say what the last release replaced", o.Function))
	}
	now := time.Now().UTC()
	rec := &release.Record{ID: release.NewID(now), Kind: release.KindLambda, Target: o.Function, StartedAt: now,
		Lambda: &release.LambdaRecord{Function: o.Function, Alias: opts.Alias}}
	opts.DryRun = o.DryRun
	g := newGuard(opts.Releases, rec, opts.Out)
	outcome, err := rollback(ctx, c, opts, o.ToVersion, g)
	return g.Finish(ctx, outcome, err)
}

func rollback(ctx context.Context, c Clients, o Options, to string, g *release.Guard) (string, error) {
	rec := g.Record
	err := step(o.Out, rec, "resolve", func() (string, error) {
		a, err := c.Lambda.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(o.Function), Name: aws.String(o.Alias)})
		if err != nil {
			return "", fmt.Errorf("get alias %s of %s: %w", o.Alias, o.Function, err)
		}
		rec.Lambda.BeforeVersion = aws.ToString(a.FunctionVersion)
		if to == "" {
			if to, err = lastReplaced(ctx, o.Releases, o.Function, o.Alias, rec.Lambda.BeforeVersion); err != nil {
				return "", err
			}
		}
		if _, err := c.Lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(o.Function), Qualifier: aws.String(to)}); err != nil {
			return "", fmt.Errorf("version %s of %s: %w", to, o.Function, err)
		}
		rec.Lambda.AfterVersion = to
		return fmt.Sprintf("%s is on version %s; going back to %s", o.Alias, rec.Lambda.BeforeVersion, to), nil
	})
	if err != nil {
		return release.OutcomeFailed, fmt.Errorf("%w; nothing was changed", err)
	}
	if o.DryRun {
		return dryRunRollback(ctx, c, o, rec)
	}
	if err := lock(ctx, g, o); err != nil {
		return release.OutcomeFailed, fmt.Errorf("%w; nothing was changed", err)
	}
	err = step(o.Out, rec, "rollback", func() (string, error) {
		if err := g.Check(ctx, "moving the alias"); err != nil {
			return "", err
		}
		_, err := c.Lambda.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(o.Function), Name: aws.String(o.Alias),
			FunctionVersion: aws.String(to), RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{}}})
		return o.Alias + " on version " + to, err
	})
	if err != nil {
		return release.OutcomeFailed, fmt.Errorf("move alias %s of %s to version %s: %w; it is still on version %s", o.Alias, o.Function, to, err, rec.Lambda.BeforeVersion)
	}
	return release.OutcomeSucceeded, nil
}

// lastReplaced is the version replaced by the newest release that put the
// alias on live, the version it is on now. Rollbacks are skipped (their
// step is "rollback"), so a second rollback does not undo the first.
func lastReplaced(ctx context.Context, store *release.Store, function, alias, live string) (string, error) {
	recs, err := store.List(ctx, release.KindLambda, function)
	if err != nil {
		return "", err
	}
	for _, r := range recs {
		l := r.Lambda
		if r.Outcome != release.OutcomeSucceeded || l == nil || l.Alias != alias || l.AfterVersion != live || l.BeforeVersion == "" || l.BeforeVersion == l.AfterVersion {
			continue
		}
		if slices.ContainsFunc(r.Steps, func(s release.Step) bool { return s.Name == "rollback" }) {
			continue
		}
		return l.BeforeVersion, nil
	}
	return "", setting.Of("ToVersion", fmt.Errorf("no release of %s:%s in the records put the alias on version %s, the one it is on: name the version to go back to", function, alias, live))
}
