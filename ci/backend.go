package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/futuraplataforma/esteira/ci/internal/dagger"
	"github.com/futuraplataforma/esteira/ci/internal/hints"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/envrelease"
)

// Backend is one ECS service, or several released together from one image.
type Backend struct {
	// +private
	M *Esteira
	// +private
	Cluster string
	// +private
	Services []string
	// +private
	Container string
	// +private
	Timeout string
	// +private
	PollInterval string
	// +private
	FailureThreshold int
	// +private
	BreakLock bool
	// +private
	LockStaleAfter string
	// +private
	MigrateCommand []string
	// +private
	Redact []string
	// +private
	SnapshotDB string
	// +private
	SnapshotKeep int
	// +private
	Definitions string // JSON of the task definition changes by service (see with-definition)
	// +private
	Strategy string // JSON of how ECS must deploy the services, with its settings (esteira.yaml's backend.strategy); "": as they are
	// +private
	CodeDeploy string // JSON: each CodeDeploy service's application and deployment group (esteira.yaml's backend.codeDeploy)
}

// One or several ECS services of a cluster: deploy, plan, migrate, rollback, status.
func (m *Esteira) Backend(
	// ECS cluster name or ARN.
	cluster string,
	// ECS service name or ARN. Several, comma-separated (api,worker), are released together from one image: one migration, parallel rollouts, and all rolled back if any fails.
	service []string,
	// Container in the task definition whose image changes. Default: the only essential container.
	// +optional
	container string,
	// How long to wait for a migration, a rollout or a rollback, e.g. 15m.
	// +optional
	// +default="15m"
	timeout string,
	// How often to poll ECS while waiting, e.g. 5s.
	// +optional
	// +default="5s"
	pollInterval string,
	// Fail a rollout after this many new tasks stopped for a known reason (image pull error, essential container exited), instead of waiting out the timeout.
	// +optional
	// +default=3
	failureThreshold int,
	// Break a deploy lock left by a crashed run. Check first that no other release of these services is running.
	// +optional
	breakLock bool,
	// Age after which a deploy lock is reported as stale, e.g. 1h.
	// +optional
	// +default="1h"
	lockStaleAfter string,
) (*Backend, error) {
	b := &Backend{M: m, Cluster: cluster, Services: service, Container: container, Timeout: timeout, PollInterval: pollInterval,
		FailureThreshold: failureThreshold, BreakLock: breakLock, LockStaleAfter: lockStaleAfter, SnapshotKeep: 10}
	if _, err := b.durations(); err != nil {
		return nil, err
	}
	if cluster == "" {
		return nil, errors.New("backend: --cluster is empty: name the ECS cluster")
	}
	if len(service) == 0 {
		return nil, errors.New("backend: --service is empty: name the ECS service, or several comma-separated (--service api,worker)")
	}
	return b, nil
}

// Run a migration before each deploy, as a one-off task of the new revision.
//
// Returns the backend with the migration set; deploy runs it after the
// snapshot (with --snapshot-db) and before any service changes, and stops,
// with the services untouched, unless it exits 0. migrate runs it alone.
func (b *Backend) WithMigration(
	// Migration command. It overrides the container's command (the image CMD, not its ENTRYPOINT): with ENTRYPOINT ["/app"], pass migrate to run /app migrate; use a comma for several words (bin/rails,db:migrate).
	command []string,
	// Names of flags or variables in --command whose values esteira hides wherever it shows or stores the command, e.g. --dsn,DB_CONN. Values of names like --password, PGPASSWORD or API_TOKEN and the passwords of URLs are always hidden. Better: give the migration its database credentials as Secrets Manager references in the task definition.
	// +optional
	redact []string,
	// RDS DB instance or Aurora cluster (or one of its instances) to snapshot before the migration runs; the migration starts only once the snapshot is available, and a failed migration's error names it with the command that restores it.
	// +optional
	snapshotDb string,
	// How many of esteira's snapshots of --snapshot-db to keep; older ones are deleted after a new one is available, never the latest release's nor snapshots esteira did not take.
	// +optional
	// +default=10
	snapshotKeep int,
) *Backend {
	c := *b
	c.MigrateCommand, c.Redact, c.SnapshotDB, c.SnapshotKeep = command, redact, snapshotDb, snapshotKeep
	return &c
}

// Deploy an image to the services, with migration and automatic rollback.
//
// It ends, always, either on the new version running healthy or back on
// the exact revision that ran before. Steps: publish --container (or take
// --image); take each service's deploy lock; register a task-definition
// revision that differs from the live one only in the image; snapshot the
// database and run the migration (see with-migration), stopping with the
// services untouched if it fails; update the services and follow the
// rollouts, failing fast; roll every service back to its recorded live
// revision on any failure; write the release records. Returns the release
// record as JSON (with several services, a JSON array of their records).
//
// +cache="never"
func (b *Backend) Deploy(
	ctx context.Context,
	// An already-pushed image, best by digest: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/backend@sha256:...
	// +optional
	image string,
	// An image to publish first (to --repository, as publish does) and then deploy, e.g. from build or your own module.
	// +optional
	container *dagger.Container,
	// ECR repository to publish --container to.
	// +optional
	repository string,
	// Tag for the published --container.
	// +optional
	tag string,
	// Move --tag even if it already points at another image.
	// +optional
	allowOverwrite bool,
	// Redeploy even if the services already run the image.
	// +optional
	force bool,
	// Check everything, print the plan (the new revision against the live one, per service), change nothing.
	// +optional
	dryRun bool,
) (string, error) {
	if (image == "") == (container == nil) {
		return "", errors.New("backend deploy: give --image (an image already pushed) or --container with --repository (an image to publish first)")
	}
	if container != nil && repository == "" {
		return "", errors.New("backend deploy: --container needs --repository: the ECR repository to publish it to")
	}
	s, err := b.M.aws(ctx)
	if err != nil {
		return "", err
	}
	o, err := b.options(s, image, progress())
	if err != nil {
		return "", err
	}
	o.Force, o.DryRun = force, dryRun
	if container != nil {
		if o.Image, err = b.publishFirst(ctx, s, o, container, repository, tag, allowOverwrite); err != nil {
			return "", err
		}
	}
	if dryRun {
		return b.plan(ctx, s, o)
	}
	if len(b.Services) == 1 {
		rec, err := ecsdeploy.Deploy(ctx, ecsClients(s), o)
		return recordJSON(rec, backendHint(err))
	}
	recs, err := ecsdeploy.DeployGroup(ctx, ecsClients(s), o, b.Services)
	return recordsJSON(recs, backendHint(err))
}

// publishFirst checks the services, then publishes the container. With
// DryRun it pushes nothing and returns the reference it would push.
func (b *Backend) publishFirst(ctx context.Context, s *awsSession, o ecsdeploy.DeployOptions, container *dagger.Container,
	repository, tag string, allowOverwrite bool) (string, error) {
	// Refuse a wrong cluster, service or container before a push.
	if err := b.preflight(ctx, s, o); err != nil {
		return "", err
	}
	p := push{repository: repository, tag: tag, allowOverwrite: allowOverwrite, dryRun: o.DryRun, out: progress()}
	ref, err := p.image(ctx, s, container)
	if err != nil {
		return "", fmt.Errorf("publish failed, nothing was deployed: %w", err)
	}
	return ref, nil
}

// Show what deploy would change: the new revision against the live one, per service.
//
// +cache="session"
func (b *Backend) Plan(
	ctx context.Context,
	// The image to plan for. Default: the first service's live image (a redeploy).
	// +optional
	image string,
) (string, error) {
	s, err := b.M.aws(ctx)
	if err != nil {
		return "", err
	}
	if image == "" {
		st, err := ecsdeploy.State(ctx, ecsClients(s), b.Cluster, b.Services[0], b.Container)
		if err != nil {
			return "", backendHint(err)
		}
		image = st.Image
	}
	o, err := b.options(s, image, progress())
	if err != nil {
		return "", err
	}
	o.DryRun, o.Force = true, true
	return b.plan(ctx, s, o)
}

// plan is what the deploy would do, as the engine works it out from the
// deploy's own read-only steps: per service, the new revision against the
// live one field by field, the migration and its snapshot, the lock.
func (b *Backend) plan(ctx context.Context, s *awsSession, o ecsdeploy.DeployOptions) (string, error) {
	p, err := ecsdeploy.PlanGroup(ctx, ecsClients(s), o, b.Services)
	if err != nil {
		return "", backendHint(err)
	}
	return p.String() + "DRY RUN OK: nothing was changed\n", nil
}

// preflight runs the checks that need no image, for every service.
func (b *Backend) preflight(ctx context.Context, s *awsSession, o ecsdeploy.DeployOptions) error {
	for _, svc := range b.Services {
		po := o
		po.Service = svc
		if err := ecsdeploy.Preflight(ctx, ecsClients(s), po); err != nil {
			return backendHint(err)
		}
	}
	return nil
}

// options are the deploy options every verb of the backend starts from.
func (b *Backend) options(s *awsSession, image string, out io.Writer) (ecsdeploy.DeployOptions, error) {
	d, err := b.durations()
	if err != nil {
		return ecsdeploy.DeployOptions{}, err
	}
	defs, err := b.definitions()
	if err != nil {
		return ecsdeploy.DeployOptions{}, err
	}
	var groups map[string]ecsdeploy.CodeDeployGroup
	if b.CodeDeploy != "" {
		if err := json.Unmarshal([]byte(b.CodeDeploy), &groups); err != nil {
			return ecsdeploy.DeployOptions{}, fmt.Errorf("read the backend's CodeDeploy groups: %w", err)
		}
	}
	var strategy ecsdeploy.Strategy
	if b.Strategy != "" {
		if err := json.Unmarshal([]byte(b.Strategy), &strategy); err != nil {
			return ecsdeploy.DeployOptions{}, fmt.Errorf("read the backend's strategy: %w", err)
		}
	}
	return ecsdeploy.DeployOptions{Definitions: defs, CodeDeploy: groups, Strategy: strategy,
		Cluster: b.Cluster, Service: b.Services[0], Container: b.Container, Image: image,
		MigrateCommand: b.MigrateCommand, Redact: b.Redact, SnapshotDB: b.SnapshotDB, SnapshotKeep: b.SnapshotKeep,
		Timeout: d["--timeout"], PollInterval: d["--poll-interval"], FailureThreshold: b.FailureThreshold,
		Releases: s.releases(), LockStaleAfter: d["--lock-stale-after"], BreakLock: b.BreakLock, Who: s.who, Out: out,
	}, nil
}

func (b *Backend) durations() (map[string]time.Duration, error) {
	return parseDurations(map[string]string{"--timeout": b.Timeout, "--poll-interval": b.PollInterval, "--lock-stale-after": b.LockStaleAfter})
}

// Show what each service runs: revision, image, tasks, rollout, locks, last releases.
//
// +cache="session"
func (b *Backend) Status(ctx context.Context) (string, error) {
	s, err := b.M.aws(ctx)
	if err != nil {
		return "", err
	}
	st, err := envrelease.ReadStatus(ctx, envrelease.Clients{ECS: ecsClients(s)}, s.releases(),
		envrelease.Where{Cluster: b.Cluster, Container: b.Container, Services: b.Services})
	if err != nil {
		return "", backendHint(err)
	}
	return st.Text(), nil
}

// backendHint adds to an engine's error the backend's flags that fix it.
func backendHint(err error) error { return hints.Flags(err, hints.Backend) }

func ecsClients(s *awsSession) ecsdeploy.Clients {
	return ecsdeploy.Clients{
		ECS:        ecs.NewFromConfig(s.cfg),
		Logs:       cloudwatchlogs.NewFromConfig(s.cfg),
		Secrets:    secretsmanager.NewFromConfig(s.cfg),
		Parameters: ssm.NewFromConfig(s.cfg),
		RDS:        rds.NewFromConfig(s.cfg),
		CodeDeploy: codedeploy.NewFromConfig(s.cfg),
		Alarms:     cloudwatch.NewFromConfig(s.cfg),
	}
}

func jsonText(v any) (string, error) {
	out, err := json.MarshalIndent(v, "", "  ")
	return string(out), err
}
