package main

import (
	"context"
	"errors"
	"fmt"

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
	o := sitepublish.RollbackOptions{KeyValueStore: s.keyValueStore(sess), PointerKey: s.PointerKey,
		Bucket: s.Bucket, Prefix: s.Prefix, BackupBucket: s.BackupBucket, Backup: backup, DistributionID: s.DistributionID,
		Releases: sess.releases(), Who: sess.who, BreakLock: s.BreakLock, Concurrency: concurrency, Out: progress()}
	if dryRun {
		return s.rollbackPlan(o)
	}
	rec, err := sitepublish.Rollback(ctx, siteClients(sess, s.DistributionID), o)
	return recordJSON(rec, s.explain(err))
}

// rollbackPlan says what a rollback would do, from its options alone.
func (s *Site) rollbackPlan(o sitepublish.RollbackOptions) (string, error) {
	if o.Backup == "" && o.Releases == nil {
		return "", errors.New("site rollback: give --backup, or --releases so the last release's backup can be read from its record")
	}
	what := "release " + o.Backup
	if o.Backup == "" {
		what = "the release before the live one (from the release records)"
	}
	if o.KeyValueStore != "" {
		return fmt.Sprintf("DRY RUN OK: would switch the live pointer of %s back to %s; nothing was changed\n", s.target(), what), nil
	}
	if o.BackupBucket == "" {
		return "", fmt.Errorf("site rollback: %s has no --backup-bucket to restore from", s.target())
	}
	if o.Backup == "" {
		what = "the backup the last release took (from the release records)"
	} else {
		what = "backup " + o.Backup
	}
	return fmt.Sprintf("DRY RUN OK: would restore %s from s3://%s into %s and verify it byte for byte; nothing was changed\n",
		what, o.BackupBucket, s.target()), nil
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
	res, err := sitepublish.Prune(ctx, siteClients(sess, ""), sitepublish.PruneOptions{
		KeyValueStore: s.keyValueStore(sess), PointerKey: s.PointerKey,
		Bucket: s.Bucket, Prefix: s.Prefix, BackupBucket: s.BackupBucket, Keep: keep, DryRun: dryRun,
		Releases: sess.releases(), Who: sess.who, BreakLock: s.BreakLock, Out: progress(),
	})
	if err != nil {
		return "", s.explain(err)
	}
	return jsonText(res)
}
