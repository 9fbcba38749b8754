package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"
)

// Guard is what every release holds around the changes it makes: its
// record and the steps in it, the deploy lock (taken as the record's "lock"
// step), the check before each change, and the end: the record written
// while the lock is still held, or, when it cannot be, what recovery then
// needs, said in the error and noted in the lock. Without a store there is
// no lock and no record, and every check passes.
type Guard struct {
	Record *Record

	store *Store
	out   io.Writer
	// noRecord says what a rollback needs when the record cannot be
	// written, e.g. "a rollback will need the revision to go back to named".
	noRecord string
	lock     *Lock
}

// NewGuard guards the release rec, printing its steps to out.
func NewGuard(store *Store, rec *Record, out io.Writer, noRecord string) *Guard {
	return &Guard{Record: rec, store: store, out: out, noRecord: noRecord}
}

// BeforeCheck, when set (by tests), runs before every Check with the
// change about to be made: where a release pauses in the tests that take
// its lock away.
var BeforeCheck func(change string)

// Step runs f as the record's step name and prints it (see RunStep).
func (g *Guard) Step(name string, f func() (string, error)) error {
	return RunStep(g.out, g.Record, name, f)
}

// Lock takes the deploy lock name for h, as the record's "lock" step.
// With o.Nested, it also refuses, releasing the lock, while a lock whose
// name encloses name or lies inside it is held (sites nested in one
// bucket: one release could back up or delete the other's files). Without
// a store it takes nothing.
func (g *Guard) Lock(ctx context.Context, name string, h Holder, o LockOptions) error {
	if g.store == nil {
		return nil
	}
	return g.Step("lock", func() (string, error) {
		l, err := g.store.Acquire(ctx, name, h, o)
		if err != nil {
			return "", err
		}
		if o.Nested {
			if err := refuseNested(ctx, g.store, l); err != nil {
				return "", err
			}
		}
		g.lock = l
		return l.URI, nil
	})
}

// Locked reports whether the guard holds a lock.
func (g *Guard) Locked() bool { return g.lock != nil }

// Broke is the holder whose lock was broken to take this one, or nil.
func (g *Guard) Broke() *Holder {
	if g.lock == nil {
		return nil
	}
	return g.lock.Broke
}

// Check returns an error wrapping a *LostLockError once the lock is no
// longer this release's (deleted by hand, broken, taken by another run):
// call it before every change, so a release that lost its lock stops
// before it. It passes when the guard holds no lock.
func (g *Guard) Check(ctx context.Context, change string) error {
	if BeforeCheck != nil {
		BeforeCheck(change)
	}
	if g.lock == nil {
		return nil
	}
	if err := g.lock.Check(ctx); err != nil {
		return fmt.Errorf("stopped before %s: %w", change, err)
	}
	return nil
}

// Unlock notes in the lock what happened when note is not empty (a lock
// that cannot be released then tells the next run the truth) and releases
// it. It never fails the caller: a lock that stays is reported. Release
// only ever deletes this run's own lock.
func (g *Guard) Unlock(ctx context.Context, note string) {
	if g.lock == nil {
		return
	}
	l := g.lock
	g.lock = nil
	ctx = context.WithoutCancel(ctx)
	if note != "" {
		if err := l.Amend(ctx, note, ""); err != nil {
			fmt.Fprintf(g.out, "    warning: note the outcome in deploy lock %s: %v\n", l.URI, err)
		}
	}
	if err := l.Release(ctx); err != nil {
		fmt.Fprintf(g.out, "    warning: release deploy lock %s: %v; break it on the next release once no release runs\n", l.URI, err)
	}
}

// Finish ends the release with outcome and err: it completes the record,
// prints how the release ended, writes the record while the lock is still
// held, then releases the lock. A release that never got its lock (bad
// input, a refused lock, a dry run) leaves no record, unless it found
// nothing to do. A record that cannot be written is reported, never hidden:
// the error says what a rollback then needs, and the lock is noted so that,
// if it stays behind, it does not send the next run to restore a release
// that ended well. Secrets are scrubbed from the record and the error.
func (g *Guard) Finish(ctx context.Context, outcome string, err error) (*Record, error) {
	rec := g.Record
	rec.FinishedAt, rec.Outcome = time.Now().UTC(), outcome
	red := rec.redactor()
	rec.scrub(red)
	err = red.Error(err) // the error the user sees, as the record says it
	if err != nil {
		rec.Error = err.Error()
	}
	rec.scrub(red)
	fmt.Fprintf(g.out, "==> %s %s in %s\n", rec.Kind, outcome, RoundDuration(rec.FinishedAt.Sub(rec.StartedAt)))
	locked := slices.ContainsFunc(rec.Steps, func(s Step) bool { return s.Name == "lock" && s.Outcome == StepOK })
	if g.store == nil || (!locked && outcome != OutcomeNoChange) {
		g.Unlock(ctx, "")
		return rec, err
	}
	uri, perr := g.store.Put(context.WithoutCancel(ctx), rec)
	if perr == nil {
		fmt.Fprintf(g.out, "==> record    %s\n", uri)
		g.Unlock(ctx, "")
		return rec, err
	}
	perr = fmt.Errorf("write release record %s (outcome %s): %w", rec.ID, outcome, perr)
	g.Unlock(ctx, fmt.Sprintf("%s %s, release %s, ended %s, but its record could not be written: nothing needs restoring; "+
		"if this lock is still here, no release holds it: break it", rec.Kind, rec.Target, rec.ID, outcome))
	if err == nil {
		return rec, fmt.Errorf("the release itself %s, but %w; %s", outcome, perr, g.noRecord)
	}
	return rec, errors.Join(err, perr)
}

// refuseNested returns an error, and releases l, while a lock whose name
// encloses l's or lies inside it is held.
func refuseNested(ctx context.Context, s *Store, l *Lock) error {
	others, err := s.Overlapping(ctx, l.Name)
	if err == nil && len(others) == 0 {
		return nil
	}
	if rerr := l.Release(context.WithoutCancel(ctx)); rerr != nil && err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("check the locks of enclosing and enclosed targets: %w", err)
	}
	kind, name, _ := strings.Cut(l.Name, "/")
	var held []string
	for other, h := range others {
		held = append(held, fmt.Sprintf("%s (held by %s since %s for %q)", strings.TrimPrefix(other, kind+"/"), h.Who, h.Since.UTC().Format(time.RFC3339), h.What))
	}
	sort.Strings(held)
	return fmt.Errorf("a %s that encloses %s or lies inside it is being released: %s; wait for it to finish", kindNoun(kind), name, strings.Join(held, ", "))
}

// kindNoun is what a lock of kind guards, as a user says it.
func kindNoun(kind string) string {
	if kind == KindFrontend {
		return "site"
	}
	return kind
}
