package sitepublish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/setting"
)

// RollbackOptions configure Rollback.
type RollbackOptions struct {
	// Bucket and Prefix are the live site.
	Bucket, Prefix string
	// BackupBucket and BackupPrefix are where Deploy wrote its backups
	// (BackupPrefix defaults as in Options).
	BackupBucket, BackupPrefix string
	// Backup is the release id whose backup to restore, or a full
	// s3://bucket/prefix/ URI. Default: the backup taken by the last deploy
	// that changed the site (the site as it was before it), found in
	// Releases: the last successful one, or a later one that failed with the
	// site half new.
	Backup string
	// Atomic makes this the rollback of an atomic site (see
	// AtomicOptions): a switch of its live pointer back to the release
	// Backup names, or by default to the one the live release replaced
	// (needs Clients.KeyValueStore). No backup is taken and nothing is
	// copied. nil: the site is released in place.
	Atomic *AtomicOptions
	// Releases stores the deploy lock and the release record; nil means neither.
	Releases  *release.Store
	Who       string
	BreakLock bool
	// Concurrency is the number of parallel S3 requests (default 64).
	Concurrency int
	// DistributionID is the CloudFront distribution to invalidate for the
	// paths the rollback changed (needs Clients.CloudFront); over
	// InvalidationLimit paths (default 50) one "/*" is sent instead.
	DistributionID    string
	InvalidationLimit int
	// Out receives progress lines; nil discards them. ListFiles adds a
	// line per file restored.
	Out       io.Writer
	ListFiles bool
	// DryRun prints the plan (see PlanRollback) and changes nothing.
	DryRun bool

	// byLocation: the caller named Backup by its s3:// location (not a
	// release id, not the backup a broken lock or the records chose).
	byLocation bool
}

// Rollback restores the site from a verified backup. The current site is
// first backed up itself (and verified), so a rollback loses nothing either;
// the restored site is verified byte-identical to the chosen backup.
func Rollback(ctx context.Context, c Clients, o RollbackOptions) (*release.Record, error) {
	if c.S3 == nil {
		return nil, errors.New("no S3 client: pass Clients.S3")
	}
	if o.DryRun {
		return rollbackDryRun(ctx, c, o)
	}
	s, err := strategyFor(o.Atomic, c.CloudFront, c.KeyValueStore)
	if err != nil {
		return nil, err
	}
	return s.rollback(ctx, newS3Store(c.S3, 0), o)
}

// rollbackPointer checks the options of an atomic rollback and runs it.
func rollbackPointer(ctx context.Context, st objectStore, kv KeyValueStoreAPI, o RollbackOptions) (*release.Record, error) {
	site, o, err := atomicRollbackInput(o)
	if err != nil {
		return nil, err
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	o.Who = whoOrDefault(o.Who)
	return rollbackAtomic(ctx, st, o.Atomic.pointer(kv), site, o)
}

// atomicRollbackInput checks the options of an atomic rollback, for the
// rollback and its plan alike, and returns the site with the pointer key
// defaulted.
func atomicRollbackInput(o RollbackOptions) (location, RollbackOptions, error) {
	if err := checkSite(o.Bucket, o.Prefix, nil); err != nil {
		return location{}, o, err
	}
	site := newLocation(o.Bucket, o.Prefix)
	a, err := o.Atomic.withDefaults(site, o.DistributionID)
	o.Atomic = &a
	return site, o, err
}

func (o RollbackOptions) withDefaults() (RollbackOptions, error) {
	if err := checkSite(o.Bucket, o.Prefix, o.Releases); err != nil {
		return o, err
	}
	if o.BackupBucket == "" {
		return o, setting.Of("BackupBucket", errors.New("the site has no backup bucket: name the bucket the site's releases wrote their backups to"))
	}
	if o.Backup == "" && o.Releases == nil {
		return o, setting.Of("Backup", errors.New("no backup named and no release records to find the last one: name the backup to restore by its release id"))
	}
	o.BackupPrefix = defaultBackupPrefix(o.Bucket, o.Prefix, o.BackupBucket, o.BackupPrefix)
	o.byLocation = strings.HasPrefix(o.Backup, "s3://")
	o.Concurrency = orDefault(o.Concurrency, defaultConcurrency)
	if o.InvalidationLimit < 0 {
		return o, fmt.Errorf("invalidation limit %d is negative: choose 0 for the default of %d", o.InvalidationLimit, defaultInvalidationLimit)
	}
	o.InvalidationLimit = orDefault(o.InvalidationLimit, defaultInvalidationLimit)
	o.Who = whoOrDefault(o.Who)
	if o.Out == nil {
		o.Out = io.Discard
	}
	return o, nil
}

func rollback(ctx context.Context, st objectStore, cf CloudFrontAPI, o RollbackOptions) (*release.Record, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if o.DistributionID != "" && cf == nil {
		return nil, fmt.Errorf("distribution %s was given but there is no CloudFront client: pass Clients.CloudFront", o.DistributionID)
	}
	site, root := newLocation(o.Bucket, o.Prefix), newLocation(o.BackupBucket, o.BackupPrefix)
	if err := checkApart(site, root); err != nil {
		return nil, err
	}
	r := newRun("frontend", site, nil, o.Out)
	safety := backupAt(o.BackupBucket, o.BackupPrefix, r.rec.ID)
	r.rec.Frontend = &release.FrontendRecord{Bucket: o.Bucket, Prefix: site.Prefix, BackupURI: safety.String()}
	what := fmt.Sprintf("site rollback %s, release %s; if it died mid-restore, the site it replaced is backed up to %s (site rollback --backup %s)",
		target(site), r.rec.ID, safety, r.rec.ID)
	k, err := lockSite(ctx, r, o.Releases, site, release.Holder{Who: o.Who, What: what}, 0, o.BreakLock)
	if err != nil {
		r.finish("failed", err)
		return r.rec, fmt.Errorf("nothing was changed: %w", err)
	}
	defer k.Unlock(ctx, "")
	if broke := k.Broke(); broke != nil && o.Backup == "" {
		// The release whose lock was broken died without a record: the
		// records' last backup is older than the site it half changed.
		if broke.Backup == "" {
			err := fmt.Errorf("the broken lock was held by %s for %q and names no backup, so the records cannot tell which backup restores the site: name the backup to restore", broke.Who, broke.What)
			r.finish("failed", err)
			return r.rec, record(ctx, r, fmt.Errorf("nothing was changed: %w", err))
		}
		fmt.Fprintf(o.Out, "==> the broken lock's release (%s) died without a record: restoring the backup it took, %s\n", broke.What, broke.Backup)
		o.Backup, o.byLocation = broke.Backup, false
	}
	err = rollbackSite(ctx, r, st, cf, site, safety, k, o)
	return r.rec, record(ctx, r, err)
}

func rollbackSite(ctx context.Context, r *run, st objectStore, cf CloudFrontAPI, site, safety location, k *release.Guard, o RollbackOptions) error {
	started := time.Now()
	src, err := chooseBackup(ctx, st, site, o)
	var p *restorePlan
	if err == nil {
		p, err = planRollback(ctx, st, site, src, o)
	}
	r.step("plan", started, err, src.String())
	if err != nil {
		r.finish("failed", err)
		return fmt.Errorf("nothing was changed: %w", err)
	}
	started = time.Now()
	if err := k.Check(ctx, "the backup of the current site"); err != nil {
		r.finish("failed", err)
		return fmt.Errorf("nothing was changed: %w", err)
	}
	copied, err := backupSite(ctx, st, site, p.live, p.touched(), safety, nil, o.Concurrency, report{out: o.Out, files: o.ListFiles})
	r.step("backup", started, err, fmt.Sprintf("the site's %d objects to %s by reference, %d new contents copied, verified", len(p.live), safety, copied))
	if err != nil {
		r.finish("failed", err)
		return fmt.Errorf("backup of the current site did not verify, nothing was changed: %w", err)
	}
	started = time.Now()
	if err := k.Check(ctx, "the restore"); err != nil {
		err = fmt.Errorf("the site was not changed (the site as it was is also backed up to %s): %w", safety, err)
		r.finish("failed", err)
		return err
	}
	stats, err := executeRestore(ctx, st, site, p, o.Concurrency, report{out: o.Out, files: o.ListFiles})
	r.step("restore", started, err, fmt.Sprintf("%d copied back, %d deleted, from %s", stats.Copied, stats.Deleted, src))
	r.rec.Frontend.Uploaded, r.rec.Frontend.Deleted = stats.Copied, stats.Deleted
	if err != nil {
		err = fmt.Errorf("restore %s from %s failed, the site may be mixed: the site before this rollback is in %s; run the site's rollback again: %w", site, src, safety, err)
		r.finish("failed", err)
		return err
	}
	r.finish("succeeded", nil)
	return invalidateRestored(ctx, r, cf, p, o)
}

// invalidateRestored drops the paths a restore changed from CloudFront.
func invalidateRestored(ctx context.Context, r *run, cf CloudFrontAPI, p *restorePlan, o RollbackOptions) error {
	if o.DistributionID == "" || len(p.jobs)+len(p.deletes) == 0 {
		return nil
	}
	changed := &SitePlan{Delete: p.deletes}
	for _, j := range p.jobs {
		changed.Upload = append(changed.Upload, Change{Path: j.dstRel})
	}
	started := time.Now()
	id, err := invalidate(ctx, cf, o.DistributionID, r.rec.ID, changed, o.InvalidationLimit)
	r.step("invalidate", started, err, id)
	r.rec.Frontend.Invalidation = id
	if err != nil {
		return fmt.Errorf("the site was restored and verified, but the CloudFront invalidation failed: %w", err)
	}
	return nil
}

// planRollback reads the chosen backup and plans the restore, looking in
// the other backups under the backup root for bytes it does not store.
func planRollback(ctx context.Context, st objectStore, site, src location, o RollbackOptions) (*restorePlan, error) {
	target, err := readBackup(ctx, st, src)
	if err != nil {
		return nil, err
	}
	if err := checkBackupOf(ctx, site, target, o.Releases, o.byLocation); err != nil {
		return nil, err
	}
	root := newLocation(o.BackupBucket, o.BackupPrefix)
	more := func() ([]*backupSnapshot, error) { return listBackups(ctx, st, root, src) }
	return planRestore(ctx, st, site, target, more, o.Concurrency)
}

// chooseBackup resolves o.Backup (or the last successful deploy's backup)
// and checks it is a verified esteira backup (it has a manifest).
func chooseBackup(ctx context.Context, st objectStore, site location, o RollbackOptions) (location, error) {
	var src location
	switch {
	case strings.HasPrefix(o.Backup, "s3://"):
		bucket, prefix, _ := strings.Cut(strings.TrimPrefix(o.Backup, "s3://"), "/")
		src = newLocation(bucket, prefix)
	case o.Backup != "":
		src = backupAt(o.BackupBucket, o.BackupPrefix, o.Backup)
	default:
		recs, err := o.Releases.List(ctx, "frontend", target(site))
		if err != nil {
			return src, fmt.Errorf("list the release records of %s: %w", target(site), err)
		}
		last := lastDeploy(recs)
		root := newLocation(o.BackupBucket, o.BackupPrefix)
		if err := checkNoneUnrecorded(ctx, st, site, root, recs, last); err != nil {
			return src, err
		}
		if last == nil {
			return src, setting.Of("Backup", fmt.Errorf("no deploy of %s that changed the site is recorded: name the backup to restore by its release id", target(site)))
		}
		src = parseBackupURI(last.Frontend.BackupURI)
	}
	if src.Bucket == "" || site.contains(src) {
		return src, fmt.Errorf("backup %q is not a backup location outside the site: pass a release id or s3://bucket/prefix/", o.Backup)
	}
	return src, nil
}

// lastDeploy returns the record of the newest deploy that left
// the site changed: one that succeeded, or one whose publish began and whose
// restore failed too (outcome failed, with a publish step), so rolling back
// after it goes to the last good site, not one release further. Rolled-back
// deploys (the site is as it was), deploys that never published, and
// rollbacks (no publish step) are skipped. Records are ordered by StartedAt
// here: release ids only resolve to the second.
func lastDeploy(recs []*release.Record) *release.Record {
	recs = slices.Clone(recs)
	slices.SortStableFunc(recs, func(a, b *release.Record) int { return b.StartedAt.Compare(a.StartedAt) })
	for _, rec := range recs {
		if rec.Frontend == nil || rec.Frontend.BackupURI == "" ||
			(rec.Outcome != release.OutcomeSucceeded && rec.Outcome != release.OutcomeFailed) {
			continue
		}
		for _, s := range rec.Steps {
			if s.Name == "publish" {
				return rec
			}
		}
	}
	return nil
}
