package ecsdeploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/futuraplataforma/esteira/internal/dbsnapshot"
	"github.com/futuraplataforma/esteira/internal/migration"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/secrets"
	"github.com/futuraplataforma/esteira/internal/setting"
)

// Clients are the AWS clients the engine needs; *ecs.Client,
// *cloudwatchlogs.Client and *secretsmanager.Client satisfy them.
type Clients struct {
	ECS  ECSAPI
	Logs migration.LogsAPI
	// Secrets checks secrets[].valueFrom before anything changes; nil skips the check.
	Secrets secrets.DescribeAPI
	// Parameters checks the SSM parameters secrets[].valueFrom names; nil
	// leaves them unchecked.
	Parameters secrets.ParametersAPI
	// RDS takes the snapshot before the migration; needed with SnapshotDB.
	RDS dbsnapshot.API
	// CodeDeploy deploys services whose deployment controller is
	// CODE_DEPLOY; nil refuses them.
	CodeDeploy CodeDeployAPI
	// Alarms checks that the alarms a Strategy names exist before
	// anything changes; nil leaves them unchecked.
	Alarms AlarmsAPI
}

// DeployOptions configure Deploy.
type DeployOptions struct {
	// Cluster and Service name the ECS service; Container the container whose
	// image changes (default: the single essential container).
	Cluster, Service, Container string
	// Image is "repo@sha256:…", "repo:tag@sha256:…" or "repo:tag".
	Image string
	// MigrateCommand, when not empty, runs as a one-off task of the new revision
	// before the service changes; the deploy stops if it fails.
	MigrateCommand []string
	// SnapshotDB names the RDS DB instance or Aurora cluster (or one of its
	// instances) snapshotted before the migration runs: the migration starts
	// only once the snapshot is available. SnapshotKeep is how many of
	// esteira's snapshots of it are kept (default 10; the latest release's
	// always is).
	SnapshotDB   string
	SnapshotKeep int
	// Redact names flags or variables of MigrateCommand whose values are
	// hidden wherever esteira shows or stores the command (beside the names
	// that look like credentials: --password, PGPASSWORD, URLs with a password).
	Redact []string
	// Definitions change each service's task definition beside the image,
	// by service name as given (see Definition); a service without one
	// gets a copy of its live revision with only the image changed.
	Definitions map[string]Definition
	// CodeDeploy names, by service, the application and deployment group
	// of each service whose deployment controller is CODE_DEPLOY.
	CodeDeploy map[string]CodeDeployGroup
	// Strategy, when named, is how ECS must deploy every service, with its
	// settings: set on the service by the deploy's UpdateService where ECS
	// allows it (between blue/green, linear and canary), refused before any
	// change otherwise (see Strategy).
	Strategy Strategy
	// TestGate, for a service ECS deploys blue/green, linear or canary
	// with a PAUSE lifecycle hook after the test traffic shift, runs while
	// that hook holds the deployment: test traffic is on the new revision,
	// production traffic has not moved. Its error rolls the deployment back
	// before production traffic moves; its output goes into the record.
	TestGate func(ctx context.Context) (string, error)
	// Force redeploys an image that already runs; DryRun resolves, checks and
	// prints the plan without changing anything.
	Force, DryRun bool
	// Timeout bounds each wait (migration, rollout, rollback): default 15m.
	// PollInterval is the time between polls: default 5s. FailureThreshold is
	// how many new tasks stopping for a known reason fail the rollout: default 3.
	Timeout, PollInterval time.Duration
	FailureThreshold      int
	// Releases holds the deploy lock and the release record; nil = neither.
	Releases       *release.Store
	LockStaleAfter time.Duration
	BreakLock      bool
	// Who holds the lock: user@host or the CI job URL.
	Who string
	// PriorSteps (build, publish) measured by the caller are copied into the record.
	PriorSteps []release.Step
	Out        io.Writer
}

func (o *DeployOptions) defaults() {
	o.Timeout, o.PollInterval, o.Out = timing(o.Timeout, o.PollInterval, o.Out)
	if o.FailureThreshold <= 0 {
		o.FailureThreshold = 3
	}
	if o.SnapshotKeep == 0 {
		o.SnapshotKeep = 10
	}
}

func timing(timeout, poll time.Duration, out io.Writer) (time.Duration, time.Duration, io.Writer) {
	if timeout <= 0 {
		timeout = 15 * time.Minute
	}
	if poll <= 0 {
		poll = 5 * time.Second
	}
	if out == nil {
		out = io.Discard
	}
	return timeout, poll, out
}

// validate checks the options that need no AWS call.
func (o *DeployOptions) validate() error {
	return o.check(true)
}

// check validates the options; withImage false skips the image, which
// Preflight does not have yet.
func (o *DeployOptions) check(withImage bool) error {
	var errs []error
	if o.Cluster == "" {
		errs = append(errs, setting.Of("Cluster", errors.New("cluster is empty: name the ECS cluster")))
	}
	if o.Service == "" {
		errs = append(errs, setting.Of("Service", errors.New("service is empty: name the ECS service")))
	}
	if _, err := parseImage(o.Image); withImage && err != nil {
		errs = append(errs, setting.Of("Image", err))
	}
	if len(o.MigrateCommand) > 0 && strings.TrimSpace(o.MigrateCommand[0]) == "" {
		errs = append(errs, errors.New("migrate command starts with an empty word: give the command, e.g. [\"./app\",\"migrate\"], or leave it out"))
	}
	if o.SnapshotDB != "" && len(o.MigrateCommand) == 0 {
		errs = append(errs, fmt.Errorf("snapshot DB %s is taken before the migration, and there is none: give the migration command too, or leave the snapshot out", o.SnapshotDB))
	}
	if o.SnapshotKeep < 0 {
		errs = append(errs, fmt.Errorf("snapshot keep %d: keep at least 1 snapshot (default 10)", o.SnapshotKeep))
	}
	if err := o.Strategy.check(); err != nil {
		errs = append(errs, err)
	}
	if o.Releases != nil && o.Who == "" {
		errs = append(errs, errors.New("who is empty: set it to user@host or the CI job URL so the deploy lock names its holder"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("deploy %s/%s: nothing was changed: %w", o.Cluster, o.Service, errors.Join(errs...))
	}
	return nil
}
