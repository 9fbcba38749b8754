package lambdadeploy

import (
	"context"
	"fmt"
	"io"

	"github.com/futuraplataforma/esteira/internal/release"
)

var step = release.RunStep

// newGuard guards a release of a function: its lock, its steps and its
// record.
func newGuard(store *release.Store, rec *release.Record, out io.Writer) *release.Guard {
	return release.NewGuard(store, rec, out, "a rollback will need the version to go back to named")
}

// lock takes the function's lock: g.Check before each change to the
// function or its alias stops a release whose lock was broken or taken.
func lock(ctx context.Context, g *release.Guard, o Options) error {
	what := fmt.Sprintf("release of function %s:%s", o.Function, o.Alias)
	if before := g.Record.Lambda.BeforeVersion; before != "" {
		what += fmt.Sprintf("; the alias was on version %s before it: if it died, check the alias and roll it back to version %s, breaking this lock",
			before, before)
	}
	h := release.Holder{Who: o.Who, What: what}
	return g.Lock(ctx, release.KindLambda+"/"+o.Function, h, release.LockOptions{StaleAfter: o.LockStaleAfter, Break: o.BreakLock})
}
