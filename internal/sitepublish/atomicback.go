package sitepublish

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/setting"
)

// rollbackAtomic switches the live pointer back to an earlier release's
// folder: o.Backup, or the one the release that made the live one live
// replaced. It checks the folder is still a complete release (its manifest,
// written last, is there) and takes a second whatever the site's size.
func rollbackAtomic(ctx context.Context, st objectStore, ptr pointer, site location, o RollbackOptions) (*release.Record, error) {
	r := newRun("frontend", site, nil, o.Out)
	r.rec.Frontend = &release.FrontendRecord{Bucket: site.Bucket, Prefix: site.Prefix}
	what := fmt.Sprintf("site rollback (atomic) %s, release %s: a switch of the live pointer %q", target(site), r.rec.ID, ptr.key)
	unlock, _, err := lock(ctx, r, o.Releases, site, release.Holder{Who: o.Who, What: what}, 0, o.BreakLock)
	if err != nil {
		r.finish("failed", err)
		return r.rec, fmt.Errorf("nothing was changed: %w", err)
	}
	defer unlock()
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
		return r.rec, record(ctx, r, fmt.Errorf("nothing was changed: %w", err))
	}
	started = time.Now()
	err = ptr.swap(ctx, etag, to)
	r.step("switch", started, err, fmt.Sprintf("%s: %s → %s", ptr.key, cur, to))
	if err != nil {
		r.finish("failed", err)
		return r.rec, record(ctx, r, fmt.Errorf("the site is still on release %s: %w", cur, err))
	}
	r.rec.Frontend.Release, r.rec.Frontend.Previous = to, cur
	r.finish(release.OutcomeSucceeded, nil)
	return r.rec, record(ctx, r, nil)
}

// replacedBy finds, in the records, the release that made live live and
// returns the one it replaced. Rollbacks are skipped (they have no build),
// so each rollback goes one release further back.
func replacedBy(ctx context.Context, s *release.Store, site location, live string) (string, error) {
	if s == nil {
		return "", setting.Of("Backup", errors.New("no release records to find the release before the live one: name the release to go back to by its id"))
	}
	sr, err := readSiteRecords(ctx, s, site)
	if err != nil {
		return "", err
	}
	return sr.replaced(site, live)
}

// replaced is replacedBy on records already read.
func (sr siteRecords) replaced(site location, live string) (string, error) {
	recs := slices.Clone(sr.list)
	slices.SortStableFunc(recs, func(a, b *release.Record) int { return b.StartedAt.Compare(a.StartedAt) })
	for _, rec := range recs {
		if rec.Outcome == release.OutcomeSucceeded && rec.Frontend != nil && rec.Frontend.Release == live && hasStep(rec, "build") {
			if rec.Frontend.Previous == "" {
				return "", fmt.Errorf("release %s was the site's first atomic release: there is none before it", live)
			}
			return rec.Frontend.Previous, nil
		}
	}
	return "", setting.Of("Backup", fmt.Errorf("no atomic release of %s that made %s live is recorded: name the release to go back to by its id", target(site), live))
}

func hasStep(rec *release.Record, name string) bool {
	for _, s := range rec.Steps {
		if s.Name == name {
			return true
		}
	}
	return false
}

// checkRelease refuses a switch to the live release, to a folder that is
// not a complete release (no manifest: pruned, or never finished), or to
// one whose manifest is no release of this site: a backup, another site's
// release, or an ordinary site beside the releases (its manifest names no
// site and has no time; a release's always has one).
func checkRelease(ctx context.Context, st objectStore, site location, cur, to string) error {
	if to == cur {
		return fmt.Errorf("release %s is already live", to)
	}
	m, err := loadManifest(ctx, st, releaseAt(site, to))
	switch {
	case errors.Is(err, errNotFound):
		return setting.Of("Backup", fmt.Errorf("%s is not a complete release (it has no manifest: pruned, or it never finished): name another release to go back to", releaseAt(site, to)))
	case err != nil:
		return asDamagedBackup(to, releaseAt(site, to), err)
	case m.Backup || (m.Site != "" && m.Site != target(site)) || (m.Site == "" && m.Taken.IsZero()):
		return setting.Of("Backup", fmt.Errorf("%s is not a release of %s (its manifest is another site's or a backup's): name another release to go back to", releaseAt(site, to), target(site)))
	}
	return nil
}

// pruneReleases deletes the atomic site's complete release folders beyond
// the newest keep, never the live one nor the one before it (a rollback's
// target), and the folders of releases that never completed (no manifest:
// a clean-up that failed) once the records say that release ended or,
// unrecorded, once their newest object is pruneGrace old at now (the S3
// server's time; zero: unknown, never old). It deletes only folders it
// proves the site's own (releasefolders.go) and lists the others as left
// alone. The caller holds the site's lock.
func pruneReleases(ctx context.Context, st objectStore, site location, keep int, live, previous string, recs records, now time.Time, dryRun bool) (Pruned, error) {
	var res Pruned
	folders, err := readReleaseFolders(ctx, st, site, recs)
	if err != nil {
		return res, fmt.Errorf("nothing was pruned: %w", err)
	}
	var complete []backupEntry
	var unfinished []releaseFolder
	for _, f := range folders {
		switch {
		case !f.own:
			res.LeftAlone = append(res.LeftAlone, f.id)
		case f.complete:
			complete = append(complete, f.backupEntry)
		case f.id != live && f.id != previous:
			unfinished = append(unfinished, f)
		}
	}
	if err := sortNewestOnServer(ctx, st, complete); err != nil {
		return res, fmt.Errorf("nothing was pruned: %w", err)
	}
	var drop []location
	for _, e := range complete {
		if len(res.Kept) < keep || e.id == live || e.id == previous {
			res.Kept = append(res.Kept, e.id)
			continue
		}
		res.Deleted = append(res.Deleted, e.id)
		res.Contents += len(e.m.Objects)
		for _, o := range e.m.Objects {
			res.Bytes += o.Size
		}
		drop = append(drop, e.loc)
	}
	more, err := unfinishedToDrop(ctx, st, unfinished, recs, now, &res)
	if err != nil {
		return res, fmt.Errorf("nothing was pruned: %w", err)
	}
	drop = append(drop, more...)
	if dryRun {
		return res, nil
	}
	for _, loc := range drop {
		if err := deleteFolder(ctx, st, loc); err != nil {
			return res, fmt.Errorf("delete release %s: %w", loc, err)
		}
	}
	return res, nil
}

// unfinishedToDrop picks, of the folders of releases that never completed,
// those whose release the records say ended or whose newest object is
// pruneGrace old at now; it counts them (and the young ones) in res.
func unfinishedToDrop(ctx context.Context, st objectStore, unfinished []releaseFolder, recs records, now time.Time, res *Pruned) ([]location, error) {
	var drop []location
	for _, f := range unfinished {
		sr, err := recs(ctx)
		if err != nil {
			return nil, err
		}
		objs, err := st.List(ctx, f.loc.Bucket, f.loc.Prefix)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", f.loc, err)
		}
		if !sr.ended[f.id] && now.Sub(newestOf(objs)) < pruneGrace {
			res.Recent++ // a release may still be filling it
			continue
		}
		res.Unfinished = append(res.Unfinished, f.id)
		res.Contents += len(objs)
		for _, o := range objs {
			res.Bytes += o.Size
		}
		drop = append(drop, f.loc)
	}
	return drop, nil
}

// newestOf is the latest LastModified among objs.
func newestOf(objs []object) time.Time {
	var t time.Time
	for _, o := range objs {
		if o.Modified.After(t) {
			t = o.Modified
		}
	}
	return t
}
