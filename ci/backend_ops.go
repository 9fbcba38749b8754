package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/release"
)

// Run the migration alone, as a one-off ECS task, without changing the services.
//
// The command set by with-migration runs as a one-off task of the first
// service's task definition (with the image changed when --image is given,
// or a given --revision), with the service's network settings, under its
// deploy lock. It streams the task's logs and fails unless every essential
// container exits 0; with a snapshot database, the database is snapshotted
// first. Returns the task's result (and the snapshot) as JSON.
//
// +cache="never"
func (b *Backend) Migrate(
	ctx context.Context,
	// Image to run the migration with (registered as a temporary revision, deregistered afterwards). Default: the service's live image.
	// +optional
	image string,
	// Task definition revision to run instead, e.g. backend:42.
	// +optional
	revision string,
	// Check the service and the command, print what would run, run nothing.
	// +optional
	dryRun bool,
) (string, error) {
	if len(b.MigrateCommand) == 0 {
		return "", errors.New("backend migrate: no migration command: chain with-migration --command ... before migrate")
	}
	if image != "" && revision != "" {
		return "", errors.New("backend migrate: give --image or --revision, not both")
	}
	s, err := b.M.aws(ctx)
	if err != nil {
		return "", err
	}
	o, err := b.options(s, image, progress())
	if err != nil {
		return "", err
	}
	if dryRun {
		if err := ecsdeploy.Preflight(ctx, ecsClients(s), o); err != nil {
			return "", err
		}
		in := "the live revision of " + o.Service
		switch {
		case revision != "":
			in = "revision " + revision
		case image != "":
			in = "a copy of the live revision of " + o.Service + " with image " + image
		}
		snap := ""
		if b.SnapshotDB != "" {
			snap = ", after a snapshot of " + b.SnapshotDB
		}
		return fmt.Sprintf("DRY RUN OK: would run the migration (%d words) as a one-off task of %s%s; nothing was changed\n",
			len(b.MigrateCommand), in, snap), nil
	}
	res, err := ecsdeploy.Migrate(ctx, ecsClients(s), ecsdeploy.MigrateOptions{
		Cluster: o.Cluster, Service: o.Service, Container: o.Container, Image: image, Revision: revision,
		Command: o.MigrateCommand, Redact: o.Redact, SnapshotDB: o.SnapshotDB, SnapshotKeep: o.SnapshotKeep,
		Timeout: o.Timeout, PollInterval: o.PollInterval, Releases: o.Releases, Who: o.Who,
		LockStaleAfter: o.LockStaleAfter, BreakLock: o.BreakLock, Out: o.Out,
	})
	if err != nil {
		return "", err
	}
	return jsonText(res)
}

// Put every service back on the revision that ran before its last release.
//
// The revision comes from the release records, or from --to-revision; it
// waits until each rollback deployment has completed. Returns the release
// record as JSON (with several services, a JSON array of their records).
//
// +cache="never"
func (b *Backend) Rollback(
	ctx context.Context,
	// Task definition revision to go back to, e.g. backend:41 (with one service). Default: the revision that ran before the last release recorded.
	// +optional
	toRevision string,
	// Say where each service would go back to, change nothing.
	// +optional
	dryRun bool,
) (string, error) {
	if toRevision != "" && len(b.Services) > 1 {
		return "", fmt.Errorf("backend rollback: --to-revision names one revision, and the backend has %d services: select one with backend --service", len(b.Services))
	}
	s, err := b.M.aws(ctx)
	if err != nil {
		return "", err
	}
	o, err := b.options(s, "", progress())
	if err != nil {
		return "", err
	}
	if dryRun {
		return b.rollbackPlan(ctx, s, toRevision)
	}
	var recs []*release.Record
	for _, svc := range b.Services {
		rec, err := ecsdeploy.Rollback(ctx, ecsClients(s), ecsdeploy.RollbackOptions{
			Cluster: b.Cluster, Service: svc, ToRevision: toRevision, Timeout: o.Timeout, PollInterval: o.PollInterval,
			Releases: o.Releases, Who: o.Who, BreakLock: o.BreakLock, Out: o.Out,
		})
		if err != nil {
			if len(recs) > 0 {
				err = fmt.Errorf("%w (rolled back before it: %s)", err, strings.Join(b.Services[:len(recs)], ", "))
			}
			return recordJSON(rec, err)
		}
		recs = append(recs, rec)
	}
	if len(recs) == 1 {
		return recordJSON(recs[0], nil)
	}
	return recordsJSON(recs, nil)
}

// rollbackPlan says, per service, what runs and where it would go back to.
func (b *Backend) rollbackPlan(ctx context.Context, s *awsSession, toRevision string) (string, error) {
	store := s.releases()
	if toRevision == "" && store == nil {
		return "", errors.New("backend rollback: give --to-revision, or --releases so the revision before the last release can be read from its record")
	}
	var out strings.Builder
	for _, svc := range b.Services {
		st, err := ecsdeploy.State(ctx, ecsClients(s), b.Cluster, svc, b.Container)
		if err != nil {
			return "", err
		}
		to := toRevision
		if to == "" {
			if to, err = lastReplaced(ctx, store, b.Cluster, svc); err != nil {
				return "", err
			}
		}
		fmt.Fprintf(&out, "%s: runs %s (%s); would go back to %s\n", svc, st.Revision, st.Image, to)
	}
	out.WriteString("DRY RUN OK: nothing was changed\n")
	return out.String(), nil
}

// lastReplaced is the revision the newest successful release of the
// service replaced, as its record says.
func lastReplaced(ctx context.Context, store *release.Store, cluster, service string) (string, error) {
	recs, err := store.List(ctx, release.KindBackend, cluster+"/"+service)
	if err != nil {
		return "", err
	}
	for _, r := range recs {
		if r.Outcome == release.OutcomeSucceeded && r.Backend != nil && r.Backend.BeforeRevision != r.Backend.AfterRevision {
			return lastPart(r.Backend.BeforeRevision) + " (the revision release " + r.ID + " replaced)", nil
		}
	}
	return "", fmt.Errorf("service %s has no successful release on record to go back from: give --to-revision", service)
}

func lastPart(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }
