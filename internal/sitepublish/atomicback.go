package sitepublish

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/futuraplataforma/esteira/internal/release"
)

// rollbackAtomic switches the live pointer back to an earlier release's
// folder: o.Backup, or the one the release that made the live one live
// replaced. It checks the folder is still a complete release (its manifest,
// written last, is there) and takes a second whatever the site's size.
func rollbackAtomic(ctx context.Context, st objectStore, ptr pointer, site location, o RollbackOptions) (*release.Record, error) {
	r := newRun("frontend", site, nil, o.Out)
	r.rec.Frontend = &release.FrontendRecord{Bucket: site.Bucket, Prefix: site.Prefix}
	what := fmt.Sprintf("rollback-frontend --atomic %s, release %s: a switch of the live pointer %q", target(site), r.rec.ID, ptr.key)
	unlock, _, err := lock(ctx, r, o.Releases, site, release.Holder{Who: o.Who, What: what}, 0, o.BreakLock)
	if err != nil {
		r.finish("failed", err)
		return r.rec, fmt.Errorf("nothing was changed: %w", err)
	}
	var note string
	defer func() { unlock(note) }()
	started := time.Now()
	cur, etag, err := ptr.read(ctx)
	to := o.Backup
	switch {
	case err != nil:
	case cur == "":
		err = errNoPointer
	case to == "":
		to, err = replacedBy(ctx, o.Releases, site, cur)
	}
	if err == nil {
		err = checkRelease(ctx, st, site, cur, to)
	}
	r.step("plan", started, err, fmt.Sprintf("live %s, back to %s", orNone(cur), orNone(to)))
	if err != nil {
		r.finish("failed", err)
		return r.rec, record(ctx, r, o.Releases, fmt.Errorf("nothing was changed: %w", err), &note)
	}
	started = time.Now()
	err = ptr.swap(ctx, etag, to)
	r.step("switch", started, err, fmt.Sprintf("%s: %s → %s", ptr.key, cur, to))
	if err != nil {
		r.finish("failed", err)
		return r.rec, record(ctx, r, o.Releases, fmt.Errorf("the site is still on release %s: %w", cur, err), &note)
	}
	r.rec.Frontend.Release, r.rec.Frontend.Previous = to, cur
	r.finish(release.OutcomeSucceeded, nil)
	return r.rec, record(ctx, r, o.Releases, nil, &note)
}

// replacedBy finds, in the records, the release that made live live and
// returns the one it replaced. Rollbacks are skipped (they have no build),
// so each rollback goes one release further back.
func replacedBy(ctx context.Context, s *release.Store, site location, live string) (string, error) {
	if s == nil {
		return "", errors.New("no release records to find the release before the live one: pass --backup <release-id>")
	}
	recs, err := s.List(ctx, "frontend", target(site))
	if err != nil {
		return "", fmt.Errorf("list the release records of %s: %w", target(site), err)
	}
	slices.SortStableFunc(recs, func(a, b *release.Record) int { return b.StartedAt.Compare(a.StartedAt) })
	for _, rec := range recs {
		if rec.Outcome == release.OutcomeSucceeded && rec.Frontend != nil && rec.Frontend.Release == live && hasStep(rec, "build") {
			if rec.Frontend.Previous == "" {
				return "", fmt.Errorf("release %s was the site's first atomic release: there is none before it", live)
			}
			return rec.Frontend.Previous, nil
		}
	}
	return "", fmt.Errorf("no atomic release of %s that made %s live is recorded: pass --backup <release-id>", target(site), live)
}

func hasStep(rec *release.Record, name string) bool {
	for _, s := range rec.Steps {
		if s.Name == name {
			return true
		}
	}
	return false
}

// checkRelease refuses a switch to the live release, or to a folder that is
// not a complete release (no manifest: pruned, or never finished).
func checkRelease(ctx context.Context, st objectStore, site location, cur, to string) error {
	if to == cur {
		return fmt.Errorf("release %s is already live", to)
	}
	_, err := loadManifest(ctx, st, releaseAt(site, to))
	if errors.Is(err, errNotFound) {
		return fmt.Errorf("%s is not a complete release (it has no manifest: pruned, or it never finished): pick another with --backup", releaseAt(site, to))
	}
	return err
}

// pruneReleases deletes the atomic site's release folders beyond the newest
// keep, never the live one nor the one before it (a rollback's target).
// A folder without a manifest is left alone: it may be a release being
// built.
func pruneReleases(ctx context.Context, st objectStore, site location, keep int, live, previous string, dryRun bool) (Pruned, error) {
	var res Pruned
	ids, err := backupDirs(ctx, st, site)
	if err != nil {
		return res, fmt.Errorf("list the releases in %s: %w", site, err)
	}
	var all []backupEntry
	for _, id := range ids {
		e, err := readEntry(ctx, st, site, id)
		if err != nil {
			return res, fmt.Errorf("nothing was pruned: %w", err)
		}
		if e != nil {
			all = append(all, *e)
		}
	}
	sortNewestFirst(all)
	for _, e := range all {
		if len(res.Kept) < keep || e.id == live || e.id == previous {
			res.Kept = append(res.Kept, e.id)
			continue
		}
		res.Deleted = append(res.Deleted, e.id)
		res.Contents += len(e.m.Objects)
		for _, o := range e.m.Objects {
			res.Bytes += o.Size
		}
		if !dryRun {
			if err := deleteFolder(ctx, st, e.loc); err != nil {
				return res, fmt.Errorf("delete release %s: %w", e.loc, err)
			}
		}
	}
	return res, nil
}
