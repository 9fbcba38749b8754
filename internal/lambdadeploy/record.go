package lambdadeploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/futuraplataforma/esteira/internal/release"
)

// step runs f as one named step: "==> name ok (1.2s) detail", in the record too.
func step(out io.Writer, rec *release.Record, name string, f func() (string, error)) error {
	start := time.Now()
	detail, err := f()
	rec.Step(name, start, err, detail)
	status := "ok"
	if err != nil {
		status, detail = "FAIL", strings.SplitN(err.Error(), "\n", 2)[0]
	}
	if detail != "" {
		detail = "  " + detail
	}
	fmt.Fprintf(out, "==> %-9s %-4s (%s)%s\n", name, status, time.Since(start).Round(time.Millisecond), detail)
	return err
}

// lock takes the function's lock (when a store is set) and returns its release.
func lock(ctx context.Context, o Options, rec *release.Record) (func(), error) {
	if o.Releases == nil {
		return func() {}, nil
	}
	var l *release.Lock
	err := step(o.Out, rec, "lock", func() (string, error) {
		var err error
		h := release.Holder{Who: o.Who, What: fmt.Sprintf("deploy-lambda %s:%s; if it died, check the alias and put it back with rollback-lambda --function %s --alias %s", o.Function, o.Alias, o.Function, o.Alias)}
		if l, err = o.Releases.Acquire(ctx, release.KindLambda+"/"+o.Function, h, release.LockOptions{StaleAfter: o.LockStaleAfter, Break: o.BreakLock}); err != nil {
			return "", err
		}
		return l.URI, nil
	})
	if err != nil {
		return nil, err
	}
	return func() {
		if err := l.Release(context.WithoutCancel(ctx)); err != nil {
			fmt.Fprintf(o.Out, "    warning: release lock %s: %v; remove it with --break-lock on the next release\n", l.URI, err)
		}
	}, nil
}

// finish completes the record and writes it when the release got as far
// as its lock (or found nothing to do); a record that cannot be written
// is reported.
func finish(ctx context.Context, store *release.Store, rec *release.Record, outcome string, err error, out io.Writer) (*release.Record, error) {
	rec.FinishedAt, rec.Outcome = time.Now().UTC(), outcome
	if err != nil {
		rec.Error = err.Error()
	}
	fmt.Fprintf(out, "==> lambda %s in %s\n", outcome, rec.FinishedAt.Sub(rec.StartedAt).Round(100*time.Millisecond))
	locked := slices.ContainsFunc(rec.Steps, func(s release.Step) bool { return s.Name == "lock" && s.Outcome == release.StepOK })
	if store == nil || (!locked && outcome != release.OutcomeNoChange) {
		return rec, err
	}
	uri, perr := store.Put(context.WithoutCancel(ctx), rec)
	if perr != nil {
		perr = fmt.Errorf("write release record %s (outcome %s): %w", rec.ID, outcome, perr)
		if err == nil {
			return rec, fmt.Errorf("the release itself %s, but %w; rollback-lambda will need --to-version", outcome, perr)
		}
		return rec, errors.Join(err, perr)
	}
	fmt.Fprintf(out, "==> record    %s\n", uri)
	return rec, err
}
