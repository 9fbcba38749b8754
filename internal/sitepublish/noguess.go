package sitepublish

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/futuraplataforma/esteira/internal/release"
)

// A release that dies mid-publish writes no record. When its lock is
// broken, the lock names the backup to restore; when the lock was deleted by
// hand (a server that ignores If-Match on DeleteObject cannot break it
// safely), nothing does, and the records' last deploy's backup is one
// release too far back. Its backup is still there, though: a rollback that
// names no backup looks for backups of the site taken after the last
// recorded deploy that no record names, and refuses to guess when it finds
// one.

// UnprovenBackupError is returned by a rollback that names no backup when
// the release records cannot prove which backup restores the site: a
// release that wrote no record (it died midway, or could not write its
// record) took a backup of the site after the last recorded deploy.
type UnprovenBackupError struct {
	Site string // bucket/prefix
	// Candidates are the backups to choose from: the unrecorded ones, newest
	// first, then the one the records name (Recorded), if any.
	Candidates []BackupCandidate
}

// BackupCandidate is a backup a rollback could restore.
type BackupCandidate struct {
	ID    string // the release id that names the backup
	URI   string // s3://bucket/root/<id>/
	Taken time.Time
	// Recorded: the last recorded deploy took it (restoring it undoes that
	// deploy). Otherwise a release that wrote no record took it: restoring
	// it undoes that release.
	Recorded bool
}

func (e *UnprovenBackupError) Error() string {
	var unrec []string
	var recorded *BackupCandidate
	for i, c := range e.Candidates {
		if c.Recorded {
			recorded = &e.Candidates[i]
			continue
		}
		unrec = append(unrec, fmt.Sprintf("%s (taken %s)", c.ID, c.Taken.UTC().Format(time.RFC3339)))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "the release records of %s cannot tell which backup restores the site: backup %s was taken after the last recorded deploy by a release that wrote no record; "+
		"if that release died midway (its lock was left behind), the site is half that release: restore backup %s, the site as it was before it",
		e.Site, strings.Join(unrec, ", then "), e.Candidates[0].ID)
	if recorded != nil {
		fmt.Fprintf(&b, "; to undo the last recorded deploy instead, restore backup %s (taken %s)", recorded.ID, recorded.Taken.UTC().Format(time.RFC3339))
	}
	b.WriteString("; name the backup to restore")
	return b.String()
}

// checkNoneUnrecorded returns an *UnprovenBackupError when a backup of
// site under root, taken after the deploy last (nil: ever), is named by no
// record in recs.
func checkNoneUnrecorded(ctx context.Context, st objectStore, site, root location, recs []*release.Record, last *release.Record) error {
	named := map[location]bool{}
	for _, rec := range recs {
		if rec.Frontend != nil && rec.Frontend.BackupURI != "" {
			named[parseBackupURI(rec.Frontend.BackupURI)] = true
		}
	}
	var since time.Time
	if last != nil {
		since = last.StartedAt
	}
	ids, err := backupDirs(ctx, st, root)
	if err != nil {
		return fmt.Errorf("list the backups in %s: %w", root, err)
	}
	e := &UnprovenBackupError{Site: target(site)}
	for _, id := range ids { // newest first
		if id[:min(len(id), len(idSecond))] < since.UTC().Format(idSecond) {
			break
		}
		if named[newLocation(root.Bucket, root.Prefix+id)] {
			continue // a recorded release's backup: no need to read it
		}
		b, err := readEntry(ctx, st, root, id)
		if err != nil {
			return fmt.Errorf("read backup %s: %w", id, err)
		}
		if b == nil || !b.m.Backup || b.m.Site != target(site) || !b.taken().After(since) {
			continue
		}
		e.Candidates = append(e.Candidates, BackupCandidate{ID: b.id, URI: b.loc.String(), Taken: b.taken()})
	}
	if len(e.Candidates) == 0 {
		return nil
	}
	slices.SortStableFunc(e.Candidates, func(a, b BackupCandidate) int { return b.Taken.Compare(a.Taken) })
	if last != nil {
		id := strings.TrimSuffix(strings.TrimPrefix(parseBackupURI(last.Frontend.BackupURI).Prefix, root.Prefix), "/")
		e.Candidates = append(e.Candidates, BackupCandidate{ID: id, URI: last.Frontend.BackupURI, Taken: last.StartedAt, Recorded: true})
	}
	return e
}
