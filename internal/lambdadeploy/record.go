package lambdadeploy

import (
	"context"
	"fmt"
	"io"

	"github.com/futuraplataforma/esteira/internal/release"
)

var step = release.RunStep

// lock takes the function's lock (when a store is set) and returns its
// release and its check: call check before each change to the function or
// its alias, so a release whose lock was broken or taken stops before it.
func lock(ctx context.Context, o Options, rec *release.Record) (func(), func(ctx context.Context, step string) error, error) {
	if o.Releases == nil {
		return func() {}, noCheck, nil
	}
	var l *release.Lock
	err := step(o.Out, rec, "lock", func() (string, error) {
		var err error
		what := fmt.Sprintf("release of function %s:%s", o.Function, o.Alias)
		if before := rec.Lambda.BeforeVersion; before != "" {
			what += fmt.Sprintf("; the alias was on version %s before it: if it died, check the alias and roll it back to version %s, breaking this lock",
				before, before)
		}
		h := release.Holder{Who: o.Who, What: what}
		if l, err = o.Releases.Acquire(ctx, release.KindLambda+"/"+o.Function, h, release.LockOptions{StaleAfter: o.LockStaleAfter, Break: o.BreakLock}); err != nil {
			return "", err
		}
		return l.URI, nil
	})
	if err != nil {
		return nil, nil, err
	}
	unlock := func() {
		if err := l.Release(context.WithoutCancel(ctx)); err != nil {
			fmt.Fprintf(o.Out, "    warning: release lock %s: %v; break it on the next release\n", l.URI, err)
		}
	}
	check := func(ctx context.Context, step string) error {
		if err := l.Check(ctx); err != nil {
			return fmt.Errorf("stopped before %s: %w", step, err)
		}
		return nil
	}
	return unlock, check, nil
}

// noCheck is the check of a release that holds no lock.
func noCheck(context.Context, string) error { return nil }

func finish(ctx context.Context, store *release.Store, rec *release.Record, outcome string, err error, out io.Writer) (*release.Record, error) {
	return release.Finish(ctx, store, rec, outcome, err, out, "a rollback will need the version to go back to named")
}
