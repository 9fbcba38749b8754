package sitepublish

import (
	"context"
	"errors"
	"time"

	"github.com/futuraplataforma/esteira/internal/release"
)

// strategy is how a site's releases reach visitors, and so how each verb
// works on it:
//
//   - inPlace (a nil AtomicOptions) overwrites the site's objects under its
//     prefix, after a verified backup of the live site; a rollback
//     restores a backup, a prune deletes old backups.
//   - atomicSite builds each release in a folder of its own and switches a
//     live pointer in a CloudFront KeyValueStore; a rollback switches it
//     back, a prune deletes old release folders.
//
// The verbs (Deploy, Rollback, PlanRollback, Prune) check what every site
// shares, pick the strategy with strategyFor and hand over to it.
type strategy interface {
	// deploy releases the build being hashed (h) to site, recorded in r;
	// o has its defaults. A dry run plans and changes nothing.
	deploy(ctx context.Context, r *run, st objectStore, site location, h *hashing, o Options) (*release.Record, error)
	// rollback puts the site back on an earlier release.
	rollback(ctx context.Context, st objectStore, o RollbackOptions) (*release.Record, error)
	// planRollback is what rollback would do, changing nothing.
	planRollback(ctx context.Context, st objectStore, o RollbackOptions) (*RollbackPlan, error)
	// prune deletes what the site no longer needs beyond the newest
	// o.Keep; site and o are checked for what every site shares.
	prune(ctx context.Context, st objectStore, site location, o PruneOptions, local time.Time) (Pruned, error)
}

var (
	_ strategy = inPlace{}
	_ strategy = atomicSite{}
)

// strategyFor is the one place a site's strategy is chosen: atomic when a
// has the site's atomic settings, in place when a is nil. cf invalidates
// the paths an in-place release changed (nil: no distribution); kv holds
// an atomic site's live pointer.
func strategyFor(a *AtomicOptions, cf CloudFrontAPI, kv KeyValueStoreAPI) (strategy, error) {
	if a == nil {
		return inPlace{cf: cf}, nil
	}
	if kv == nil {
		return nil, errors.New("the site is atomic but there is no CloudFront KeyValueStore client to switch its live pointer: pass Clients.KeyValueStore")
	}
	return atomicSite{kv: kv}, nil
}

// inPlace releases over the live site, backed up first.
type inPlace struct{ cf CloudFrontAPI }

func (s inPlace) deploy(ctx context.Context, r *run, st objectStore, site location, h *hashing, o Options) (*release.Record, error) {
	return deployInPlace(ctx, r, st, s.cf, site, h, o)
}

func (s inPlace) rollback(ctx context.Context, st objectStore, o RollbackOptions) (*release.Record, error) {
	return rollback(ctx, st, s.cf, o)
}

func (inPlace) planRollback(ctx context.Context, st objectStore, o RollbackOptions) (*RollbackPlan, error) {
	return planInPlaceRollback(ctx, st, o)
}

func (inPlace) prune(ctx context.Context, st objectStore, site location, o PruneOptions, local time.Time) (Pruned, error) {
	return pruneInPlace(ctx, st, site, o, local)
}

// atomicSite releases to folders of their own behind a live pointer.
type atomicSite struct{ kv KeyValueStoreAPI }

func (s atomicSite) deploy(ctx context.Context, r *run, st objectStore, site location, h *hashing, o Options) (*release.Record, error) {
	return deployAtomic(ctx, r, st, o.Atomic.pointer(s.kv), site, h, o)
}

func (s atomicSite) rollback(ctx context.Context, st objectStore, o RollbackOptions) (*release.Record, error) {
	return rollbackPointer(ctx, st, s.kv, o)
}

func (s atomicSite) planRollback(ctx context.Context, st objectStore, o RollbackOptions) (*RollbackPlan, error) {
	return planAtomicRollback(ctx, st, s.kv, o)
}

func (s atomicSite) prune(ctx context.Context, st objectStore, site location, o PruneOptions, local time.Time) (Pruned, error) {
	return pruneAtomicSite(ctx, st, s.kv, site, o, local)
}
