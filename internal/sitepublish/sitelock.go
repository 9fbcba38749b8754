package sitepublish

import (
	"context"
	"time"

	"github.com/futuraplataforma/esteira/internal/release"
)

// lockSite takes the site's deploy lock when a release store is
// configured, and refuses while an enclosing or enclosed site is locked:
// one release could back up or delete the other's half-published files.
// The guard it returns (also the run's, which writes the record with it)
// checks the lock before each write; without a store it holds nothing.
func lockSite(ctx context.Context, r *run, s *release.Store, site location, h release.Holder, stale time.Duration, brk bool) (*release.Guard, error) {
	r.g = release.NewGuard(s, r.rec, r.out, "a rollback will need the backup to restore named")
	o := release.LockOptions{StaleAfter: stale, Break: brk, Nested: true}
	if err := r.g.Lock(ctx, release.KindFrontend+"/"+target(site), h, o); err != nil {
		return nil, err
	}
	return r.g, nil
}

// lock is lockSite for the flows that need only the lock's release (a
// no-op once the record is written) and the broken lock's holder.
func lock(ctx context.Context, r *run, s *release.Store, site location, h release.Holder, stale time.Duration, brk bool) (func(), *release.Holder, error) {
	g, err := lockSite(ctx, r, s, site, h, stale, brk)
	if err != nil {
		return nil, nil, err
	}
	return func() { g.Unlock(ctx, "") }, g.Broke(), nil
}
