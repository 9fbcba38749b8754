package sitepublish

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/setting"
	"golang.org/x/sync/errgroup"
)

// restoreTimeout bounds a restore after a failed publish. The restore runs
// on a context that ignores the caller's cancellation: a cancelled deploy
// must still put the old site back.
const restoreTimeout = 15 * time.Minute

func deploy(ctx context.Context, st objectStore, cf CloudFrontAPI, o Options) (*release.Record, error) {
	return deployWith(ctx, st, cf, nil, o)
}

func deployWith(ctx context.Context, st objectStore, cf CloudFrontAPI, kv KeyValueStoreAPI, o Options) (*release.Record, error) {
	o, err := o.withDefaults(!o.DryRun)
	if err != nil {
		return nil, err
	}
	if o.DistributionID != "" && cf == nil {
		return nil, fmt.Errorf("distribution %s was given but there is no CloudFront client: pass Clients.CloudFront", o.DistributionID)
	}
	s, err := strategyFor(o.Atomic, cf, kv)
	if err != nil {
		return nil, err
	}
	site := newLocation(o.Bucket, o.Prefix)
	r := newRun("frontend", site, o.PriorSteps, o.Out)
	r.rec.Frontend = &release.FrontendRecord{Bucket: o.Bucket, Prefix: site.Prefix}
	started := time.Now()
	h, err := startHashing(ctx, o)
	if err != nil {
		r.step("hash", started, err, o.Dir)
		r.finish("failed", err)
		return r.rec, fmt.Errorf("read the build, nothing was changed: %w", err)
	}
	defer h.stop()
	return s.deploy(ctx, r, st, site, h, o)
}

// deployInPlace is Deploy for a site released in place: lock, back up,
// publish, prune, record. A dry run plans and changes nothing.
func deployInPlace(ctx context.Context, r *run, st objectStore, cf CloudFrontAPI, site location, h *hashing, o Options) (*release.Record, error) {
	if o.DryRun {
		p, _, err := planAndCheck(ctx, r, st, site, nil, h, o)
		r.finish("dry-run", err)
		if err == nil {
			fmt.Fprint(o.Out, p.String(), "DRY RUN OK: nothing was changed\n")
		}
		return r.rec, err
	}
	bak := backupAt(o.BackupBucket, o.BackupPrefix, r.rec.ID)
	r.rec.Frontend.BackupURI = bak.String()
	// A deploy killed mid-publish writes no record: its lock is what points
	// the next one at the backup of the site as it was.
	what := fmt.Sprintf("site deploy %s, release %s; if it died mid-publish, restore the site it backed up to %s with site rollback --backup %s",
		target(site), r.rec.ID, bak, r.rec.ID)
	k, err := lockSite(ctx, r, o.Releases, site, release.Holder{Who: o.Who, What: what, Backup: bak.String()}, o.LockStaleAfter, o.BreakLock)
	if err != nil {
		r.finish("failed", err)
		return r.rec, fmt.Errorf("nothing was changed: %w", err)
	}
	defer k.Unlock(ctx, "")
	err = releaseSite(ctx, r, st, cf, site, bak, h, k, o)
	if o.Keep > 0 && r.rec.Outcome == release.OutcomeSucceeded {
		pruneAfter(ctx, r, st, site, bak, k, o)
	}
	return r.rec, record(ctx, r, err)
}

// pruneAfter prunes the backups after a release, still under its lock. A
// prune that fails leaves every backup restorable and the release stands:
// it says so and the next prune tries again.
func pruneAfter(ctx context.Context, r *run, st objectStore, site, bak location, k *release.Guard, o Options) {
	started := time.Now()
	if err := k.Check(ctx, "the prune"); err != nil {
		r.step("prune", started, err, "skipped")
		fmt.Fprintf(o.Out, "warning: the release stands, but its backups were not pruned: %v\n", err)
		return
	}
	res, err := pruneBackups(ctx, st, site, backupRoot(bak), o.Keep, serverNow(ctx, st, bak.Bucket, time.Now(), o.Out), false)
	r.step("prune", started, err, res.String())
	if err != nil {
		fmt.Fprintf(o.Out, "warning: the release stands, but pruning its backups failed (every backup is still whole; the site's next prune retries): %v\n", err)
	}
}

// planAndCheck lists the site and resolves its hashes, and (bak non-nil)
// reads which contents the backup store holds, while the build is hashed;
// then plans and applies the max-delete guard.
func planAndCheck(ctx context.Context, r *run, st objectStore, site location, bak *location, h *hashing, o Options) (*SitePlan, map[string]bool, error) {
	started := time.Now()
	var remote remoteSet
	var stats resolveStats
	var known map[string]bool
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		remote, stats, err = readRemote(gctx, st, site, o.Concurrency)
		return err
	})
	if bak != nil {
		g.Go(func() (err error) {
			known, err = storedContent(gctx, st, site, backupRoot(*bak))
			return err
		})
	}
	err := g.Wait()
	files, herr := h.wait(r, o)
	if herr != nil {
		return nil, nil, herr
	}
	var p *SitePlan
	if err == nil {
		p = buildPlan(site, files, remote)
		if o.MaxDelete >= 0 && len(p.Delete) > o.MaxDelete {
			err = setting.Of("MaxDelete", fmt.Errorf("the release would delete %d objects from %s, more than the limit of %d deletes: check the site's prefix and the build, or raise the limit", len(p.Delete), site, o.MaxDelete))
		}
	}
	detail := stats.String()
	if p != nil {
		detail = fmt.Sprintf("%d to upload, %d unchanged, %d to delete; %s", len(p.Upload), len(p.Skipped), len(p.Delete), stats)
	}
	r.step("plan", started, err, detail)
	return p, known, err
}

// releaseSite runs plan → backup → publish → verify (→ restore) → invalidate
// and sets the record's outcome.
func releaseSite(ctx context.Context, r *run, st objectStore, cf CloudFrontAPI, site, bak location, h *hashing, k *release.Guard, o Options) error {
	p, known, err := planAndCheck(ctx, r, st, site, &bak, h, o)
	if err != nil {
		r.finish("failed", err)
		return fmt.Errorf("nothing was changed: %w", err)
	}
	fr := r.rec.Frontend
	fr.Skipped = len(p.Skipped)
	if p.Empty() {
		r.rec.Frontend.BackupURI = ""
		r.finish("no-change", nil)
		fmt.Fprintf(o.Out, "==> nothing to do: %s already equals the build\n", site)
		return nil
	}
	started := time.Now()
	if err := k.Check(ctx, "the backup"); err != nil {
		r.step("backup", started, err, "not started")
		r.finish("failed", err)
		return fmt.Errorf("nothing was changed: %w", err)
	}
	copied, err := backupSite(ctx, st, site, p.remote, p.touched(), bak, known, o.Concurrency, o.report())
	r.step("backup", started, err, fmt.Sprintf("the site's %d objects to %s by reference, %d new contents copied, verified", len(p.remote), bak, copied))
	if err != nil {
		r.finish("failed", err)
		return fmt.Errorf("the backup failed, so the site was not changed: %w", err)
	}
	if err := publishAndVerify(ctx, r, st, site, p, k, o); err != nil {
		if errors.Is(err, release.ErrLockLost) {
			return stoppedLockLost(r, bak, err)
		}
		err = restoreAfter(ctx, r, st, site, bak, k, o, err)
		if r.rec.Outcome == release.OutcomeRolledBack && o.DistributionID != "" {
			// The CDN may have cached what the failed publish uploaded.
			err = invalidateAfterRestore(ctx, r, cf, p, o, err)
		}
		return err
	}
	fr.Uploaded, fr.Deleted = len(p.Upload), len(p.Delete)
	started = time.Now()
	id, err := invalidate(ctx, cf, o.DistributionID, r.rec.ID, p, o.InvalidationLimit)
	if o.DistributionID != "" {
		r.step("invalidate", started, err, id)
	}
	fr.Invalidation = id
	r.finish("succeeded", nil)
	if err != nil {
		// The site is published and verified; only the CDN may serve stale copies for a while.
		return fmt.Errorf("the site was published, but the CloudFront invalidation failed: %w", err)
	}
	return nil
}

func publishAndVerify(ctx context.Context, r *run, st objectStore, site location, p *SitePlan, k *release.Guard, o Options) error {
	started := time.Now()
	guard := func(step string) error { return k.Check(ctx, step) }
	res, err := publishGuarded(ctx, st, site, p, o.Concurrency, o.report(), guard)
	want := res.want
	r.step("publish", started, err, fmt.Sprintf("%d of %d uploaded, %d unchanged, %d of %d deleted",
		res.uploaded, len(p.Upload), len(p.Skipped), res.deleted, len(p.Delete)))
	if err != nil {
		return err
	}
	started = time.Now()
	written := make([]string, len(p.Upload))
	for i, c := range p.Upload {
		written[i] = c.Path
	}
	err = verifyChanged(ctx, st, site, want, written, p.Delete, sameObject, o.Concurrency, o.report())
	if err == nil {
		err = guard("the site's manifest")
	}
	if err == nil {
		err = writeManifest(ctx, st, site, want)
	}
	r.step("verify", started, err, fmt.Sprintf("%d written and %d deleted as planned; %d objects equal the build", len(written), len(p.Delete), len(want)))
	return err
}

// S3 failing in the middle of a publish may still be failing when the
// restore starts, so the restore is retried with a doubling wait (from
// restoreBackoff, at most maxRestoreBackoff) until restoreTimeout.
var restoreBackoff = time.Second

const maxRestoreBackoff = 30 * time.Second

// restoreAfter puts the backup back after a failed publish, unless the
// deploy lock is no longer this deploy's: another deploy may have released
// since, and the backup would put the site back behind it.
func restoreAfter(ctx context.Context, r *run, st objectStore, site, bak location, k *release.Guard, o Options, cause error) error {
	fmt.Fprintf(o.Out, "==> publish failed (%v): restoring %s from %s\n", cause, site, bak)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), restoreTimeout)
	defer cancel()
	started := time.Now()
	stats, err := retryRestore(rctx, st, site, bak, k, o)
	r.step("restore", started, err, fmt.Sprintf("%d copied back, %d deleted, from %s", stats.Copied, stats.Deleted, bak))
	if errors.Is(err, release.ErrLockLost) {
		return stoppedLockLost(r, bak, fmt.Errorf("publish failed (%v), and the restore did not start: %w", cause, err))
	}
	if err != nil {
		err = fmt.Errorf("publish failed: %v; restoring the backup ALSO failed, the site may be half new: run site rollback --backup %s: %w", cause, r.rec.ID, err)
		r.finish("failed", err)
		return err
	}
	err = fmt.Errorf("publish failed, the site was restored from %s and verified identical to it: %w", bak, cause)
	r.finish("rolled-back", err)
	return err
}

// retryRestore checks the deploy lock before each attempt: a lock that is
// no longer this deploy's stops it (another deploy may have released
// since), one that cannot be read is retried like a failed restore.
func retryRestore(ctx context.Context, st objectStore, site, bak location, k *release.Guard, o Options) (restoreStats, error) {
	wait := restoreBackoff
	for attempt := 1; ; attempt++ {
		var stats restoreStats
		err := k.Check(ctx, "the restore")
		if errors.Is(err, release.ErrLockLost) {
			return stats, err
		}
		if err == nil {
			stats, err = restoreSite(ctx, st, site, bak, o.Concurrency, o.report())
		}
		if err == nil || errors.Is(err, errIntegrity) {
			return stats, err // stored bytes that are not the recorded ones stay so
		}
		fmt.Fprintf(o.Out, "    restore attempt %d failed (%v): retrying in %s\n", attempt, err, wait)
		select {
		case <-ctx.Done():
			return stats, fmt.Errorf("%w (after %v)", err, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, maxRestoreBackoff)
	}
}

// invalidateAfterRestore drops from CloudFront the paths a failed publish
// may have changed, now that the site is restored, and adds an invalidation
// failure to err.
func invalidateAfterRestore(ctx context.Context, r *run, cf CloudFrontAPI, p *SitePlan, o Options, err error) error {
	started := time.Now()
	id, ierr := invalidate(context.WithoutCancel(ctx), cf, o.DistributionID, r.rec.ID, p, o.InvalidationLimit)
	r.step("invalidate", started, ierr, id)
	r.rec.Frontend.Invalidation = id
	if ierr != nil {
		return fmt.Errorf("%w; the CloudFront invalidation of the paths it touched also failed, the CDN may serve some of them from the failed release until they expire: %v", err, ierr)
	}
	return err
}

// stoppedLockLost ends a release whose deploy lock was taken away mid-way:
// it stopped before its next write, leaving the site as it is, since
// another deploy may hold the lock and have released since.
func stoppedLockLost(r *run, bak location, err error) error {
	id := strings.TrimSuffix(bak.Prefix[len(backupRoot(bak).Prefix):], "/")
	err = fmt.Errorf("this deploy lost its lock mid-release and stopped without changing the site further; "+
		"another deploy may have released since (check the site's release records); if none did, "+
		"the site may be half this release: restore backup %s, the site as it was before it: %w", id, err)
	r.finish("failed", err)
	return err
}
