package sitepublish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/futuraplataforma/esteira/internal/release"
)

// RollbackPlan is what a rollback of a site would do, worked out by the
// rollback's own read-only steps: the backup it would choose and the
// restore it would plan (a copy site), or the release the live pointer
// would go back to (an atomic site).
type RollbackPlan struct {
	Site   string `json:"site"` // s3://bucket/prefix/
	Atomic bool   `json:"atomic,omitempty"`
	// Backup is the backup that would be restored (a copy site).
	Backup string `json:"backup,omitempty"`
	// Live and To are release ids: the live one and the one the pointer
	// would name (an atomic site).
	Live string `json:"live,omitempty"`
	To   string `json:"to,omitempty"`
	// Copy and Delete count the paths the restore would copy back and
	// delete; Objects the site's objects backed up first (a copy site).
	Copy    int `json:"copy"`
	Delete  int `json:"delete"`
	Objects int `json:"objects,omitempty"`
	// Invalidate is the CloudFront distribution whose changed paths would be invalidated.
	Invalidate string `json:"invalidate,omitempty"`
	// Lock is the site's deploy lock as the rollback would find it; empty without a release store.
	Lock string `json:"lock,omitempty"`
}

func (p *RollbackPlan) String() string {
	var b strings.Builder
	if p.Atomic {
		fmt.Fprintf(&b, "plan: roll back the atomic site %s: switch its live pointer from release %s to release %s (no object is copied or deleted)\n", p.Site, p.Live, p.To)
	} else {
		fmt.Fprintf(&b, "plan: roll back the site %s to backup %s\n", p.Site, p.Backup)
		fmt.Fprintf(&b, "  back up the site's %d objects first (so the rollback itself can be undone)\n", p.Objects)
		fmt.Fprintf(&b, "  restore: %d path(s) copied back, %d deleted; %d path(s) change\n", p.Copy, p.Delete, p.Copy+p.Delete)
		if p.Invalidate != "" && p.Copy+p.Delete > 0 {
			fmt.Fprintf(&b, "  invalidate the changed paths in CloudFront distribution %s\n", p.Invalidate)
		}
	}
	if p.Lock != "" {
		fmt.Fprintf(&b, "  deploy lock %s\n", p.Lock)
	}
	return b.String()
}

// PlanRollback is what Rollback would do with o, without changing
// anything: the same checks, the same choice of backup (or release) and
// the same restore plan. Bad input is refused with the rollback's error.
func PlanRollback(ctx context.Context, c Clients, o RollbackOptions) (*RollbackPlan, error) {
	if c.S3 == nil {
		return nil, errors.New("no S3 client: pass Clients.S3")
	}
	if o.DistributionID != "" && o.Atomic == nil && c.CloudFront == nil {
		return nil, fmt.Errorf("distribution %s was given but there is no CloudFront client: pass Clients.CloudFront", o.DistributionID)
	}
	return planSiteRollback(ctx, newS3Store(c.S3, 0), c.KeyValueStore, o)
}

// rollbackDryRun is Rollback with DryRun: the plan, printed, and a record
// that says it was a dry run (not written).
func rollbackDryRun(ctx context.Context, c Clients, o RollbackOptions) (*release.Record, error) {
	p, err := PlanRollback(ctx, c, o)
	if err != nil {
		return nil, fmt.Errorf("nothing was changed: %w", err)
	}
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	fmt.Fprint(out, p.String(), "DRY RUN OK: nothing was changed\n")
	r := newRun("frontend", newLocation(o.Bucket, o.Prefix), nil, out)
	r.rec.Frontend = &release.FrontendRecord{Bucket: o.Bucket, Prefix: newLocation(o.Bucket, o.Prefix).Prefix, Release: p.To, Previous: p.Live}
	r.finish(release.OutcomeDryRun, nil)
	return r.rec, nil
}

// planSiteRollback is PlanRollback on st, with the site's strategy.
func planSiteRollback(ctx context.Context, st objectStore, kv KeyValueStoreAPI, o RollbackOptions) (*RollbackPlan, error) {
	s, err := strategyFor(o.Atomic, nil, kv)
	if err != nil {
		return nil, err
	}
	return s.planRollback(ctx, st, o)
}

// planInPlaceRollback chooses the backup as rollback does and plans its
// restore.
func planInPlaceRollback(ctx context.Context, st objectStore, o RollbackOptions) (*RollbackPlan, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	site, root := newLocation(o.Bucket, o.Prefix), newLocation(o.BackupBucket, o.BackupPrefix)
	if err := checkApart(site, root); err != nil {
		return nil, err
	}
	p := &RollbackPlan{Site: site.String(), Invalidate: o.DistributionID}
	h, err := siteLockState(ctx, o.Releases, site, o.BreakLock, &p.Lock)
	if err != nil {
		return nil, err
	}
	if h != nil && o.BreakLock && o.Backup == "" {
		// As the rollback does: the broken lock's release died without a record.
		if h.Backup == "" {
			return nil, fmt.Errorf("the lock that would be broken is held by %s for %q and names no backup, so the records cannot tell which backup restores the site: name the backup", h.Who, h.What)
		}
		o.Backup = h.Backup
	}
	src, err := chooseBackup(ctx, st, site, o)
	if err != nil {
		return nil, err
	}
	rp, err := planRollback(ctx, st, site, src, o)
	if err != nil {
		return nil, err
	}
	p.Backup, p.Copy, p.Delete, p.Objects = src.String(), len(rp.jobs), len(rp.deletes), len(rp.live)
	return p, nil
}

// planAtomicRollback checks the options as rollbackPointer does and finds
// the release the pointer would go back to.
func planAtomicRollback(ctx context.Context, st objectStore, kv KeyValueStoreAPI, o RollbackOptions) (*RollbackPlan, error) {
	site, o, err := atomicRollbackInput(o)
	if err != nil {
		return nil, err
	}
	p := &RollbackPlan{Site: site.String(), Atomic: true}
	if _, err := siteLockState(ctx, o.Releases, site, o.BreakLock, &p.Lock); err != nil {
		return nil, err
	}
	cur, _, err := o.Atomic.pointer(kv).read(ctx)
	to := o.Backup
	switch {
	case err != nil:
		return nil, err
	case cur == "":
		return nil, errNoPointer
	case to == "":
		if to, err = replacedBy(ctx, o.Releases, site, cur); err != nil {
			return nil, err
		}
	}
	if err := checkRelease(ctx, st, site, cur, to); err != nil {
		return nil, err
	}
	p.Live, p.To = cur, to
	return p, nil
}

// siteLockState reads the site's deploy lock without taking it, sets
// *text to what a rollback would find, and returns the holder (nil: free).
func siteLockState(ctx context.Context, s *release.Store, site location, brk bool, text *string) (*release.Holder, error) {
	ls, err := release.ReadLockState(ctx, s, release.KindFrontend+"/"+target(site), 0, brk)
	if ls == nil {
		return nil, err
	}
	*text = ls.Name + ": " + ls.String()
	return ls.Holder, nil
}
