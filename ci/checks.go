package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/futuraplataforma/esteira/ci/internal/dagger"
	"github.com/futuraplataforma/esteira/internal/envfile"
	"github.com/futuraplataforma/esteira/internal/release"
	"golang.org/x/sync/errgroup"
)

// outputTail is how many lines of a check's output the record keeps.
const outputTail = 20

// runChecks runs every check on the source, in parallel, and returns each
// one's outcome and output tail; the error names every check that failed.
func runChecks(ctx context.Context, source *dagger.Directory, checks []envfile.Check) ([]release.CheckRecord, error) {
	recs := make([]release.CheckRecord, len(checks))
	var g errgroup.Group
	for i, c := range checks {
		g.Go(func() error {
			started := time.Now()
			ctr := withSource(dag.Container().From(c.Image), source).WithExec([]string{"sh", "-c", c.Command})
			out, err := ctr.Stdout(ctx)
			if err == nil {
				errOut, _ := ctr.Stderr(ctx)
				out += errOut
			} else {
				out = why(err)
			}
			recs[i] = release.CheckRecord{Name: c.Name, Image: c.Image, Command: c.Command, Passed: err == nil, Output: lastLines(out, outputTail)}
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

func lastLines(s string, n int) []string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
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
