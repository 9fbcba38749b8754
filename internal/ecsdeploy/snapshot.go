package ecsdeploy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/futuraplataforma/esteira/internal/dbsnapshot"
	"github.com/futuraplataforma/esteira/internal/release"
)

// findDB is the snapshot's preflight: the DB must be found before anything
// changes. It returns a detail for the check step.
func (d *deploy) findDB(ctx context.Context) (string, error) {
	if d.o.SnapshotDB == "" {
		return "", nil
	}
	if d.c.RDS == nil {
		return "", errors.New("a snapshot DB is set but no RDS client was given")
	}
	db, err := dbsnapshot.Find(ctx, d.c.RDS, d.o.SnapshotDB)
	if err != nil {
		return "", fmt.Errorf("snapshot DB %s: %w", d.o.SnapshotDB, err)
	}
	d.db = &db
	return "; " + db.String() + " is snapshotted before the migration", nil
}

// snapshot is the step before the migration: the release's snapshot of the
// DB, available, then esteira's older ones pruned beyond SnapshotKeep. A
// failed prune is a warning: the release has what it needs.
func (d *deploy) snapshot(ctx context.Context) error {
	if d.db == nil {
		return nil
	}
	var s dbsnapshot.Snapshot
	err := step(d.o.Out, d.rec, "snapshot", func() (string, error) {
		var err error
		if s, err = dbsnapshot.Take(ctx, d.c.RDS, *d.db, d.rec.ID, d.o.Timeout); err != nil {
			return "", err
		}
		return s.ID + " of " + d.db.String() + " is available", nil
	})
	if err != nil {
		return err
	}
	d.rec.Backend.Snapshot = &release.SnapshotRecord{ID: s.ID, ARN: s.ARN, DB: s.DB, Cluster: s.Cluster, Restore: s.RestoreCommand()}
	deleted, err := dbsnapshot.Prune(ctx, d.c.RDS, *d.db, d.o.SnapshotKeep, s.ID)
	switch {
	case err != nil:
		fmt.Fprintf(d.o.Out, "    warning: %v; the release goes on (delete old esteira-* snapshots by hand)\n", err)
	case len(deleted) > 0:
		fmt.Fprintf(d.o.Out, "    pruned %d older snapshot(s) of %s, keeping %d: %s\n", len(deleted), d.db, d.o.SnapshotKeep, strings.Join(deleted, ", "))
	}
	return nil
}

// snapshotNote is what a failed migration's error says of the snapshot.
func (d *deploy) snapshotNote() string {
	s := d.rec.Backend.Snapshot
	if s == nil {
		return ""
	}
	return fmt.Sprintf("; the database was snapshotted before the migration ran (%s): if the migration changed data, restore it beside the old one with %s", s.ID, s.Restore)
}
