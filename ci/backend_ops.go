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
	out, text := outputs(dryRun)
	o, err := b.options(s, image, out)
	if err != nil {
		return "", err
	}
	res, err := ecsdeploy.Migrate(ctx, ecsClients(s), ecsdeploy.MigrateOptions{
		Cluster: o.Cluster, Service: o.Service, Container: o.Container, Image: image, Revision: revision,
		Command: o.MigrateCommand, Redact: o.Redact, SnapshotDB: o.SnapshotDB, SnapshotKeep: o.SnapshotKeep,
		Timeout: o.Timeout, PollInterval: o.PollInterval, Releases: o.Releases, Who: o.Who,
		LockStaleAfter: o.LockStaleAfter, BreakLock: o.BreakLock, DryRun: dryRun, Out: o.Out,
	})
	if err != nil {
		return "", backendHint(err)
	}
	if dryRun {
		return text.String(), nil
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
	out, text := outputs(dryRun)
	o, err := b.options(s, "", out)
	if err != nil {
		return "", err
	}
	var recs []*release.Record
	for _, svc := range b.Services {
		rec, err := ecsdeploy.Rollback(ctx, ecsClients(s), ecsdeploy.RollbackOptions{
			Cluster: b.Cluster, Service: svc, ToRevision: toRevision, Timeout: o.Timeout, PollInterval: o.PollInterval,
			CodeDeploy: o.CodeDeploy[svc], Releases: o.Releases, Who: o.Who, BreakLock: o.BreakLock, DryRun: dryRun, Out: o.Out,
		})
		if err != nil {
			if len(recs) > 0 {
				err = fmt.Errorf("%w (rolled back before it: %s)", err, strings.Join(b.Services[:len(recs)], ", "))
			}
			return recordJSON(rec, backendHint(err))
		}
		recs = append(recs, rec)
	}
	if dryRun {
		return text.String(), nil
	}
	if len(recs) == 1 {
		return recordJSON(recs[0], nil)
	}
	return recordsJSON(recs, nil)
}

func lastPart(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }
