package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/futuraplataforma/esteira/ci/internal/dagger"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/release"
)

// Deploy a new image to an ECS service, with migration and automatic rollback.
//
// It ends, always, either on the new version running healthy or back on
// the exact revision that ran before. Steps: build, test and publish the
// image (or take --image); take the service's deploy lock; register a
// task-definition revision that differs from the live one only in the
// image; with --snapshot-db, snapshot the database and wait until the
// snapshot is available; run the migration command as a one-off task of
// that revision and stop if it fails (the service is never touched then);
// update the service and follow the rollout, failing fast on rollout
// failures; roll back to the recorded live revision on any failure; write
// the release record.
// Returns the release record as JSON (with several services, a JSON array
// of their records).
//
// +cache="never"
func (m *Esteira) DeployBackend(
	ctx context.Context,
	// ECS cluster name or ARN.
	cluster string,
	// ECS service name or ARN. Several, comma-separated (api,worker,scheduler), are released together from one image: one migration (in the first one's new revision), parallel rollouts, and all rolled back if any fails.
	service []string,
	// Application source folder to build, test and publish. Leave out when --image names an image that is already pushed.
	// +optional
	// +ignore=["**/node_modules", "**/.terraform"]
	source *dagger.Directory,
	// ECR repository to publish the built image to (with --source).
	// +optional
	repository string,
	// Image tag for the built image. Default: the git short sha (see publish).
	// +optional
	tag string,
	// Path of the Dockerfile inside the source folder.
	// +optional
	// +default="Dockerfile"
	dockerfile string,
	// Move --tag even if it already points at an image of other source. Without it such a deploy stops before changing anything and names the published image to pass as --image instead. (A rebuild of the same source is recognised and deployed as the image already published.)
	// +optional
	allowOverwrite bool,
	// An already-pushed image to deploy instead of building one, best by digest: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/backend@sha256:...
	// +optional
	image string,
	// Container in the task definition whose image changes. Default: the only essential container.
	// +optional
	container string,
	// Migration command, run before the service changes as a one-off task of the new revision. It overrides the container's command (the image CMD, not its ENTRYPOINT): with ENTRYPOINT ["/app"], pass migrate to run /app migrate; use a comma for several words (bin/rails,db:migrate). The deploy stops, with the service untouched, unless it exits 0.
	// +optional
	migrateCommand []string,
	// Names of flags or variables in --migrate-command whose values esteira hides wherever it shows or stores the command, e.g. --dsn,DB_CONN. Values of names like --password, PGPASSWORD or API_TOKEN and the passwords of URLs are always hidden. Better: give the migration its database credentials as Secrets Manager references in the task definition.
	// +optional
	redact []string,
	// RDS DB instance or Aurora cluster (or one of its instances) to snapshot before the migration runs. The migration starts only once the snapshot is available; the snapshot is named after the release and recorded in it, and a failed migration's error names it with the command that restores it.
	// +optional
	snapshotDb string,
	// How many of esteira's snapshots of --snapshot-db to keep; older ones are deleted after a new one is available, never the latest release's nor snapshots esteira did not take.
	// +optional
	// +default=10
	snapshotKeep int,
	// Redeploy even if the image already runs.
	// +optional
	force bool,
	// Do not run the Go tests before publishing (for non-Go services, or when an earlier pipeline step tested the same commit).
	// +optional
	skipTests bool,
	// Print what would change and change nothing.
	// +optional
	dryRun bool,
	// How long to wait for the migration and for the rollout, e.g. 15m.
	// +optional
	// +default="15m"
	timeout string,
	// How often to poll ECS while waiting, e.g. 5s.
	// +optional
	// +default="5s"
	pollInterval string,
	// Fail the rollout after this many new tasks stopped for a known reason (image pull error, resource initialization error, essential container exited), instead of waiting out the timeout.
	// +optional
	// +default=3
	failureThreshold int,
	// Break a deploy lock left by a crashed run. Check first that no other deploy of this service is running.
	// +optional
	breakLock bool,
	// Age after which a deploy lock is reported as stale, e.g. 1h.
	// +optional
	// +default="1h"
	lockStaleAfter string,
) (string, error) {
	durations, err := parseDurations(map[string]string{"--timeout": timeout, "--poll-interval": pollInterval, "--lock-stale-after": lockStaleAfter})
	if err != nil {
		return "", err
	}
	if (image == "") == (source == nil) {
		return "", errors.New("pass either --source (with --repository) to build and publish an image, or --image to deploy one already pushed")
	}
	if source != nil && repository == "" {
		return "", errors.New("--source needs --repository: the ECR repository to publish the built image to")
	}
	s, err := m.aws(ctx)
	if err != nil {
		return "", err
	}
	if len(service) == 0 {
		return "", errors.New("--service is empty: name the ECS service, or several comma-separated (--service api,worker)")
	}
	clients := m.ecsClients(s)
	opts := ecsdeploy.DeployOptions{
		Cluster: cluster, Service: service[0], Container: container, Image: image,
		MigrateCommand: migrateCommand, Redact: redact, SnapshotDB: snapshotDb, SnapshotKeep: snapshotKeep, Force: force, DryRun: dryRun,
		Timeout: durations["--timeout"], PollInterval: durations["--poll-interval"], FailureThreshold: failureThreshold,
		Releases: m.releases(s), LockStaleAfter: durations["--lock-stale-after"], BreakLock: breakLock, Who: s.who,
		Out: progress(),
	}
	if source != nil {
		// Refuse a wrong cluster, service or container before spending a
		// build and a push on it.
		for _, svc := range service {
			o := opts
			o.Service = svc
			if err := ecsdeploy.Preflight(ctx, clients, o); err != nil {
				return "", err
			}
		}
		if dryRun {
			fmt.Fprintf(progress(), "==> dry run: would build, test and publish %s to %s, then deploy it as above; nothing was changed\n", dockerfile, repository)
			return "DRY RUN OK", nil
		}
		if opts.Image, opts.PriorSteps, err = m.buildTestPublish(ctx, s, source, repository, tag, dockerfile, allowOverwrite, skipTests); err != nil {
			return "", err
		}
	}
	if len(service) == 1 {
		rec, err := ecsdeploy.Deploy(ctx, clients, opts)
		return recordJSON(rec, err)
	}
	recs, err := ecsdeploy.DeployGroup(ctx, clients, opts, service)
	return recordsJSON(recs, err)
}

// buildTestPublish runs the foundation steps and times them for the record.
func (m *Esteira) buildTestPublish(ctx context.Context, s *awsSession, source *dagger.Directory,
	repository, tag, dockerfile string, allowOverwrite, skipTests bool) (string, []release.Step, error) {
	rec := &release.Record{}
	if !skipTests {
		started := time.Now()
		_, err := m.Test(ctx, source, "1.26", []string{"./..."})
		rec.Step("test", started, err, "")
		fmt.Fprintf(progress(), "==> test     %s (%s)\n", outcome(err), time.Since(started).Round(time.Second))
		if err != nil {
			return "", nil, fmt.Errorf("tests failed, nothing was published or deployed (pass --skip-tests for non-Go services): %s", why(err))
		}
	}
	started := time.Now()
	ref, err := m.publish(ctx, s, source, repository, tag, dockerfile, allowOverwrite, progress())
	rec.Step("publish", started, err, ref)
	if err != nil {
		return "", nil, fmt.Errorf("publish failed, nothing was deployed: %s", why(err))
	}
	return ref, rec.Steps, nil
}

// Run a database migration as a one-off ECS task, without changing the service.
//
// The command runs as a one-off task of the service's task definition (with
// the image changed when --image is given, or a given --revision), with the
// service's network settings. It streams the task's logs and fails unless
// every essential container exits 0; with --snapshot-db, the database is
// snapshotted first. Returns the task's result (and the snapshot) as JSON.
//
// +cache="never"
func (m *Esteira) Migrate(
	ctx context.Context,
	// ECS cluster name or ARN.
	cluster string,
	// ECS service whose task definition and network configuration to use.
	service string,
	// Migration command (replaces the image CMD, not its ENTRYPOINT), e.g. migrate.
	migrateCommand []string,
	// Names of flags or variables in --migrate-command whose values esteira hides wherever it shows or stores the command, e.g. --dsn,DB_CONN. Values of names like --password, PGPASSWORD or API_TOKEN and the passwords of URLs are always hidden. Better: give the migration its database credentials as Secrets Manager references in the task definition.
	// +optional
	redact []string,
	// RDS DB instance or Aurora cluster (or one of its instances) to snapshot before the command runs; the command starts only once the snapshot is available, and the result names it.
	// +optional
	snapshotDb string,
	// How many of esteira's snapshots of --snapshot-db to keep; older ones are deleted after a new one is available, never the latest nor snapshots esteira did not take.
	// +optional
	// +default=10
	snapshotKeep int,
	// Image to run the migration with (registered as a temporary revision, deregistered afterwards). Default: the service's live image.
	// +optional
	image string,
	// Task definition revision to run instead, e.g. backend:42.
	// +optional
	revision string,
	// Container to override. Default: the only essential container.
	// +optional
	container string,
	// How long to wait for the task, e.g. 30m.
	// +optional
	// +default="30m"
	timeout string,
	// How often to poll ECS while waiting, e.g. 5s.
	// +optional
	// +default="5s"
	pollInterval string,
	// Break a deploy lock left by a crashed run. The migration holds the service's deploy lock, so it never runs alongside a deploy.
	// +optional
	breakLock bool,
) (string, error) {
	durations, err := parseDurations(map[string]string{"--timeout": timeout, "--poll-interval": pollInterval})
	if err != nil {
		return "", err
	}
	if image != "" && revision != "" {
		return "", errors.New("pass --image or --revision, not both")
	}
	s, err := m.aws(ctx)
	if err != nil {
		return "", err
	}
	res, err := ecsdeploy.Migrate(ctx, m.ecsClients(s), ecsdeploy.MigrateOptions{
		Cluster: cluster, Service: service, Container: container, Image: image, Revision: revision,
		Command: migrateCommand, Redact: redact, SnapshotDB: snapshotDb, SnapshotKeep: snapshotKeep,
		Timeout: durations["--timeout"], PollInterval: durations["--poll-interval"],
		Releases: m.releases(s), Who: s.who, BreakLock: breakLock, Out: progress(),
	})
	if err != nil {
		return "", err
	}
	out, err := json.MarshalIndent(res, "", "  ")
	return string(out), err
}

// Put an ECS service back on the revision that ran before its last release.
//
// The revision comes from the release record in --release-bucket, or from
// --to-revision; it waits until that deployment has completed.
//
// +cache="never"
func (m *Esteira) RollbackBackend(
	ctx context.Context,
	// ECS cluster name or ARN.
	cluster string,
	// ECS service name or ARN.
	service string,
	// Task definition revision to go back to, e.g. backend:41. Default: the revision that ran before the last release recorded in --release-bucket.
	// +optional
	toRevision string,
	// How long to wait for the rollback to complete, e.g. 15m.
	// +optional
	// +default="15m"
	timeout string,
	// How often to poll ECS while waiting, e.g. 5s.
	// +optional
	// +default="5s"
	pollInterval string,
	// Break a deploy lock left by a crashed run.
	// +optional
	breakLock bool,
) (string, error) {
	durations, err := parseDurations(map[string]string{"--timeout": timeout, "--poll-interval": pollInterval})
	if err != nil {
		return "", err
	}
	s, err := m.aws(ctx)
	if err != nil {
		return "", err
	}
	rec, err := ecsdeploy.Rollback(ctx, m.ecsClients(s), ecsdeploy.RollbackOptions{
		Cluster: cluster, Service: service, ToRevision: toRevision,
		Timeout: durations["--timeout"], PollInterval: durations["--poll-interval"],
		Releases: m.releases(s), Who: s.who, BreakLock: breakLock, Out: progress(),
	})
	return recordJSON(rec, err)
}

func (m *Esteira) ecsClients(s *awsSession) ecsdeploy.Clients {
	return ecsdeploy.Clients{
		ECS:     ecs.NewFromConfig(s.cfg),
		Logs:    cloudwatchlogs.NewFromConfig(s.cfg),
		Secrets: secretsmanager.NewFromConfig(s.cfg),
		RDS:     rds.NewFromConfig(s.cfg),
	}
}
