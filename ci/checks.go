package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/futuraplataforma/esteira/ci/internal/checkrun"
	"github.com/futuraplataforma/esteira/ci/internal/dagger"
	"github.com/futuraplataforma/esteira/internal/envfile"
	"github.com/futuraplataforma/esteira/internal/redact"
	"github.com/futuraplataforma/esteira/internal/release"
	"golang.org/x/sync/errgroup"
)

// runChecks runs every check on the source, in parallel, each with the
// secrets it names, and returns each one's outcome and output tail (the
// secrets' values hidden); the error names every check that failed.
func runChecks(ctx context.Context, source *dagger.Directory, checks []envfile.Check, secrets map[string][]checkSecret) ([]release.CheckRecord, error) {
	recs := make([]release.CheckRecord, len(checks))
	var g errgroup.Group
	for i, c := range checks {
		g.Go(func() error {
			started := time.Now()
			out, red, err := runCheck(ctx, source, c, secrets[c.Name])
			recs[i] = checkrun.Record(c, out, err == nil, red)
			fmt.Fprintf(progress(), "==> check    %s %s (%s)\n", c.Name, outcome(err), time.Since(started).Round(time.Second))
			return nil
		})
	}
	_ = g.Wait()
	var failed []string
	for _, r := range recs {
		if !r.Passed {
			failed = append(failed, fmt.Sprintf("check %s failed:\n  %s", r.Name, strings.Join(r.Output, "\n  ")))
		}
	}
	if len(failed) > 0 {
		return recs, errors.New(strings.Join(failed, "\n"))
	}
	return recs, nil
}

// runCheck runs one check with its secrets as secret variables and
// returns its output (or why it failed) and a redactor that knows the
// secrets' values.
func runCheck(ctx context.Context, source *dagger.Directory, c envfile.Check, secrets []checkSecret) (string, *redact.Redactor, error) {
	red := redact.New()
	ctr := withSource(dag.Container().From(c.Image), source)
	for _, s := range secrets {
		v, err := plaintext(ctx, s.value, "with-secret --name "+s.name)
		if err != nil {
			return err.Error(), red, err
		}
		red.Learn(v)
		ctr = ctr.WithSecretVariable(s.name, s.value)
	}
	ctr = ctr.WithExec([]string{"sh", "-c", c.Command})
	out, err := ctr.Stdout(ctx)
	if err != nil {
		return why(err), red, err
	}
	errOut, _ := ctr.Stderr(ctx)
	return out + errOut, red, nil
}

// recordStopped writes the environment's record of a release that stopped
// before anything was pushed (a failed check or test): what ran, and why.
func recordStopped(ctx context.Context, s *awsSession, env string, started time.Time, checks []release.CheckRecord, cause error) {
	store := s.releases()
	if store == nil {
		return
	}
	rec := &release.Record{ID: release.NewID(started), Kind: release.KindEnvironment, Target: env, StartedAt: started,
		FinishedAt: time.Now().UTC(), Outcome: release.OutcomeFailed, Error: cause.Error(),
		Environment: &release.EnvironmentRecord{Checks: checks}}
	if uri, err := store.Put(context.WithoutCancel(ctx), rec); err != nil {
		fmt.Fprintf(progress(), "warning: write the environment's release record: %v\n", err)
	} else {
		fmt.Fprintf(progress(), "==> release: recorded %s\n", uri)
	}
}
