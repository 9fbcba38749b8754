package ecsdeploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/futuraplataforma/esteira/internal/dbsnapshot"
	"github.com/futuraplataforma/esteira/internal/release"
)

// findDB is the snapshot's preflight: the DB must be found before anything
// changes. It returns nil without a name, and a detail for the check step.
func findDB(ctx context.Context, api dbsnapshot.API, name string) (*dbsnapshot.DB, string, error) {
	if name == "" {
		return nil, "", nil
	}
	if api == nil {
		return nil, "", errors.New("a snapshot DB is set but no RDS client was given")
	}
	db, err := dbsnapshot.Find(ctx, api, name)
	if err != nil {
		return nil, "", fmt.Errorf("snapshot DB %s: %w", name, err)
	}
	return &db, "; " + db.String() + " is snapshotted before the migration", nil
}

// takeSnapshot is the step before a migration: the release's snapshot of
// db, available, then esteira's older ones pruned beyond keep. A failed
// prune is a warning: the release has what it needs. Without db it does
// nothing and returns nil.
func takeSnapshot(ctx context.Context, out io.Writer, rec *release.Record, api dbsnapshot.API, db *dbsnapshot.DB, keep int, timeout time.Duration) (*release.SnapshotRecord, error) {
	if db == nil {
		return nil, nil
	}
	var s dbsnapshot.Snapshot
	err := step(out, rec, "snapshot", func() (string, error) {
		var err error
		if s, err = dbsnapshot.Take(ctx, api, *db, rec.ID, timeout); err != nil {
			return "", err
		}
		return s.ID + " of " + db.String() + " is available", nil
	})
	if err != nil {
		return nil, err
	}
	deleted, err := dbsnapshot.Prune(ctx, api, *db, keep, s.ID)
	switch {
	case err != nil:
		fmt.Fprintf(out, "    warning: %v; the release goes on (delete old esteira-* snapshots by hand)\n", err)
	case len(deleted) > 0:
		fmt.Fprintf(out, "    pruned %d older snapshot(s) of %s, keeping %d: %s\n", len(deleted), db, keep, strings.Join(deleted, ", "))
	}
	return &release.SnapshotRecord{ID: s.ID, ARN: s.ARN, DB: s.DB, Cluster: s.Cluster, Restore: s.RestoreCommand()}, nil
}

// snapshotNote is what a failed migration's error says of the snapshot.
func snapshotNote(s *release.SnapshotRecord) string {
	if s == nil {
		return ""
	}
	return fmt.Sprintf("; the database was snapshotted before the migration ran (%s): if the migration changed data, restore it beside the old one with %s", s.ID, s.Restore)
}
