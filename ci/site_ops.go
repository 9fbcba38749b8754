package main

import (
	"context"

	"github.com/futuraplataforma/esteira/internal/sitepublish"
)

// Restore the site from a backup, or switch an atomic site back.
//
// Default: the backup taken by the last release, i.e. the site as it was
// before it; the restored site is verified byte-identical to the backup.
// For an atomic site it is one switch of the live pointer back to the
// release the live one replaced (or --backup). Returns the release record as JSON.
//
// +cache="never"
func (s *Site) Rollback(
	ctx context.Context,
	// Release id of the backup to restore (see the release records), or for an atomic site the release to switch back to. Default: the backup taken by the last release, or the release the live one replaced.
	// +optional
	backup string,
	// Parallel S3 requests.
	// +optional
	// +default=64
	concurrency int,
	// Say what would be restored or switched back to, change nothing.
	// +optional
	dryRun bool,
) (string, error) {
	sess, err := s.M.aws(ctx)
	if err != nil {
		return "", err
	}
	atomic, err := s.atomic(sess)
	if err != nil {
		return "", s.explain(err)
	}
	o := sitepublish.RollbackOptions{Atomic: atomic,
		Bucket: s.Bucket, Prefix: s.Prefix, BackupBucket: s.BackupBucket, Backup: backup, DistributionID: s.DistributionID,
		Releases: sess.releases(), Who: sess.who, BreakLock: s.BreakLock, Concurrency: concurrency, Out: progress()}
	if dryRun {
		p, err := sitepublish.PlanRollback(ctx, siteClients(sess, s.DistributionID), o)
		if err != nil {
			return "", s.explain(err)
		}
		return p.String() + "DRY RUN OK: nothing was changed\n", nil
	}
	rec, err := sitepublish.Rollback(ctx, siteClients(sess, s.DistributionID), o)
	return recordJSON(rec, s.explain(err))
}

// Delete the site's old backups (atomic: release folders), keeping the newest --keep.
//
// Under the site's deploy lock, so no release runs meanwhile: the newest
// --keep backups stay, older ones are deleted (manifest first), then the
// stored contents no remaining backup refers to. Contents copied in the
// last six hours are left for a later prune. Every remaining backup still
// restores the whole site on its own. An atomic site never loses its live
// release nor the one before it. Returns what was (or would be) deleted as JSON.
//
// +cache="never"
func (s *Site) Prune(
	ctx context.Context,
	// How many of the site's newest backups (or, atomic, releases) to keep (1 or more).
	keep int,
	// Print what would be deleted; delete nothing.
	// +optional
	dryRun bool,
) (string, error) {
	sess, err := s.M.aws(ctx)
	if err != nil {
		return "", err
	}
	atomic, err := s.atomic(sess)
	if err != nil {
		return "", s.explain(err)
	}
	res, err := sitepublish.Prune(ctx, siteClients(sess, ""), sitepublish.PruneOptions{Atomic: atomic,
		Bucket: s.Bucket, Prefix: s.Prefix, BackupBucket: s.BackupBucket, Keep: keep, DryRun: dryRun,
		Releases: sess.releases(), Who: sess.who, BreakLock: s.BreakLock, Out: progress(),
	})
	if err != nil {
		return "", s.explain(err)
	}
	return jsonText(res)
}
