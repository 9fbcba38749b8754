package sitepublish

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/futuraplataforma/esteira/internal/release"
)

// siteLock is a site's held deploy lock (l nil: no release store, no lock).
type siteLock struct {
	l     *release.Lock
	r     *run
	site  location
	broke *release.Holder // the holder whose lock was broken to take this one
}

// beforeWrite, when set (by tests), runs before each lock check of a step
// that writes: where a deploy pauses in the tests that take its lock away.
var beforeWrite func(step string)

// check returns a *release.LostLockError (wrapped) when the deploy lock is
// no longer this run's: someone deleted it or broke it, and another deploy
// may have released since. Call it before every step that writes.
func (k *siteLock) check(ctx context.Context, step string) error {
	if beforeWrite != nil {
		beforeWrite(step)
	}
	if k.l == nil {
		return nil
	}
	if err := k.l.Check(ctx); err != nil {
		return fmt.Errorf("stopped before %s: %w", step, err)
	}
	return nil
}

// unlock notes what happened in the lock when note is not empty (a lock
// that cannot be released then says what really happened) and releases it.
// It never fails the caller: it reports to the run's output. Release only
// ever deletes this run's own lock.
func (k *siteLock) unlock(ctx context.Context, note string) {
	if k.l == nil {
		return
	}
	if note != "" {
		if err := k.l.Amend(context.WithoutCancel(ctx), note, ""); err != nil {
			fmt.Fprintf(k.r.out, "warning: note the outcome in the deploy lock of %s: %v\n", target(k.site), err)
		}
	}
	if err := k.l.Release(context.WithoutCancel(ctx)); err != nil {
		fmt.Fprintf(k.r.out, "warning: release the deploy lock of %s: %v\n", target(k.site), err)
	}
}

// lockSite takes the site's deploy lock when a release store is
// configured, and refuses when an enclosing or enclosed site is locked.
func lockSite(ctx context.Context, r *run, s *release.Store, site location, h release.Holder, stale time.Duration, brk bool) (*siteLock, error) {
	k := &siteLock{r: r, site: site}
	if s == nil {
		return k, nil
	}
	started := time.Now()
	h.Since = started
	name := "frontend/" + target(site)
	l, err := s.Acquire(ctx, name, h, release.LockOptions{StaleAfter: stale, Break: brk})
	if err == nil {
		err = checkNoOverlap(ctx, s, l, name)
	}
	r.step("lock", started, err, target(site))
	if err != nil {
		return nil, err
	}
	k.l, k.broke = l, l.Broke
	return k, nil
}

// lock is lockSite for the flows that need only the release func (which
// notes a non-empty note in the lock first) and the broken lock's holder.
func lock(ctx context.Context, r *run, s *release.Store, site location, h release.Holder, stale time.Duration, brk bool) (func(note string), *release.Holder, error) {
	k, err := lockSite(ctx, r, s, site, h, stale, brk)
	if err != nil {
		return nil, nil, err
	}
	return func(note string) { k.unlock(ctx, note) }, k.broke, nil
}

// checkNoOverlap refuses, and releases l, when a site that encloses this
// one or lies inside it is being released too: one deploy could delete or
// back up the other's half-published files.
func checkNoOverlap(ctx context.Context, s *release.Store, l *release.Lock, name string) error {
	others, err := s.Overlapping(ctx, name)
	if err == nil && len(others) == 0 {
		return nil
	}
	if rerr := l.Release(context.WithoutCancel(ctx)); rerr != nil && err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("check the locks of enclosing and enclosed sites: %w", err)
	}
	var held []string
	for other, h := range others {
		held = append(held, fmt.Sprintf("%s (held by %s for %q)", strings.TrimPrefix(other, "frontend/"), h.Who, h.What))
	}
	sort.Strings(held)
	return fmt.Errorf("a site that encloses %s or lies inside it is being released: %s; wait for it to finish", strings.TrimPrefix(name, "frontend/"), strings.Join(held, ", "))
}
