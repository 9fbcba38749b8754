package ecsdeploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/futuraplataforma/esteira/internal/dbsnapshot"
	"github.com/futuraplataforma/esteira/internal/migration"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/setting"
)

// MigrateOptions configure Migrate: the gate alone.
type MigrateOptions struct {
	Cluster, Service, Container string
	// Image runs the command in a temporary copy of the live revision with
	// this image (deregistered afterwards); Revision runs it in an existing
	// revision; neither runs it in the live revision.
	Image, Revision string
	Command         []string
	// Redact names flags or variables of Command whose values are hidden
	// wherever esteira shows or stores the command (beside the names that
	// look like credentials: --password, PGPASSWORD, URLs with a password).
	Redact []string
	// SnapshotDB, when set, is snapshotted (and available) before the
	// command runs; SnapshotKeep as for DeployOptions (default 10).
	SnapshotDB            string
	SnapshotKeep          int
	Timeout, PollInterval time.Duration
	// Releases, when set, holds the service's deploy lock while the
	// migration runs, so it never runs alongside a deploy's migration or
	// rollout; Who names the holder. nil = no lock.
	Releases       *release.Store
	Who            string
	LockStaleAfter time.Duration
	BreakLock      bool
	// DryRun resolves and checks, prints the plan and runs nothing.
	DryRun bool
	Out    io.Writer
}

// Migrated is what Migrate did: the task's result and, with SnapshotDB,
// the snapshot taken before it ran.
type Migrated struct {
	*migration.Result
	Snapshot *release.SnapshotRecord
	// Plan is set, and Result nil, after a dry run.
	Plan *MigratePlan
}

// MarshalJSON is the result's JSON (see migration.Result) with "snapshot";
// after a dry run {"dryRun":true,"plan":{...}}.
func (m Migrated) MarshalJSON() ([]byte, error) {
	if m.Plan != nil {
		return json.Marshal(struct {
			DryRun bool         `json:"dryRun"`
			Plan   *MigratePlan `json:"plan"`
		}{true, m.Plan})
	}
	data, err := json.Marshal(m.Result)
	if err != nil || m.Snapshot == nil {
		return data, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, err
	}
	if fields["snapshot"], err = json.Marshal(m.Snapshot); err != nil {
		return nil, err
	}
	return json.Marshal(fields)
}

// Migrate runs Command as a one-off task on the service's network and
// returns the result; the error of a failed task carries the log tail.
func Migrate(ctx context.Context, c Clients, o MigrateOptions) (*Migrated, error) {
	o.Timeout, o.PollInterval, o.Out = timing(o.Timeout, o.PollInterval, o.Out)
	if o.SnapshotKeep == 0 {
		o.SnapshotKeep = 10
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	var db *dbsnapshot.DB
	rec := newRecord(o.Cluster, o.Service, nil) // for step timings and the release id only
	rec.Redactor = newRedactor(o.Command, o.Redact)
	o.Out = rec.Redactor.Writer(o.Out)
	var l *liveService
	var td *types.TaskDefinition
	var container string
	err := step(o.Out, rec, "resolve", func() (string, error) {
		var err error
		l, td, container, err = migrateTarget(ctx, c.ECS, o)
		if err != nil {
			return "", err
		}
		checked, err := checkSecrets(ctx, c.Secrets, c.Parameters, td.ContainerDefinitions)
		if err != nil {
			return "", err
		}
		var dbDetail string
		if db, dbDetail, err = findDB(ctx, c.RDS, o.SnapshotDB); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s in %s; %s%s", container, revName(aws.ToString(td.TaskDefinitionArn)), checked, dbDetail), nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w; nothing was changed", err)
	}
	if o.DryRun {
		p, err := planMigration(ctx, c, o, td, container, db)
		if err != nil {
			return nil, err
		}
		fmt.Fprint(o.Out, p.String()+dryRunOK+"\n")
		return &Migrated{Plan: p}, nil
	}
	h := release.Holder{Who: o.Who, What: fmt.Sprintf("migrate %s/%s in %s", o.Cluster, o.Service, revName(aws.ToString(td.TaskDefinitionArn)))}
	if o.Image != "" {
		h.What = fmt.Sprintf("migrate %s/%s with %s", o.Cluster, o.Service, o.Image)
	}
	g := newGuard(o.Releases, rec, o.Out)
	if err := g.Lock(ctx, lockName(rec), h, release.LockOptions{StaleAfter: o.LockStaleAfter, Break: o.BreakLock}); err != nil {
		return nil, fmt.Errorf("%w; nothing was run", err)
	}
	defer g.Unlock(ctx, "") // deferred first, so it runs after the temporary revision is deregistered
	if o.Image != "" {
		if err := g.Check(ctx, "registering the migration's revision"); err != nil {
			return nil, fmt.Errorf("%w; nothing was run", err)
		}
		if td, err = registerTemporary(ctx, c.ECS, o.Out, rec, l, container, o.Image); err != nil {
			return nil, err
		}
		defer func() {
			if derr := deregister(context.WithoutCancel(ctx), c.ECS, aws.ToString(td.TaskDefinitionArn)); derr != nil {
				fmt.Fprintf(o.Out, "    warning: %v: deregister it by hand\n", derr)
				return
			}
			fmt.Fprintf(o.Out, "    deregistered the temporary revision %s\n", revName(aws.ToString(td.TaskDefinitionArn)))
		}()
	}
	if err := g.Check(ctx, "the snapshot before the migration"); err != nil {
		return nil, fmt.Errorf("%w; nothing was run", err)
	}
	snap, err := takeSnapshot(ctx, o.Out, rec, c.RDS, db, o.SnapshotKeep, o.Timeout)
	if err != nil {
		return nil, fmt.Errorf("%w; the migration did not run, the service was not changed", err)
	}
	if err := g.Check(ctx, "running the migration"); err != nil {
		return &Migrated{Snapshot: snap}, fmt.Errorf("%w; the migration did not run, the service was not changed%s", err, snapshotNote(snap))
	}
	var res *migration.Result
	err = step(o.Out, rec, "migrate", func() (string, error) {
		res, err = migration.Run(ctx, c.ECS, c.Logs, gateSpec(l, td, container, o.Command, rec.ID, o.Timeout, o.PollInterval, o.Out))
		scrub(res, o.Command, rec.Redactor)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("task %s exited 0", shortID(res.TaskARN)), nil
	})
	if err != nil {
		what, tail := migrationFailure(err, res)
		return &Migrated{Result: res, Snapshot: snap}, rec.Redactor.Error(&wrapped{msg: fmt.Sprintf("%s; the service was not changed%s%s", what, snapshotNote(snap), tail), err: err})
	}
	return &Migrated{Result: res, Snapshot: snap}, nil
}

func (o *MigrateOptions) validate() error {
	var errs []error
	if len(o.Command) == 0 {
		errs = append(errs, errors.New("command is empty: give the migration command, e.g. [\"./app\",\"migrate\"]"))
	}
	if o.Releases != nil && o.Who == "" {
		errs = append(errs, errors.New("who is empty: set it to user@host or the CI job URL so the deploy lock names its holder"))
	}
	if o.SnapshotKeep < 0 {
		errs = append(errs, fmt.Errorf("snapshot keep %d: keep at least 1 snapshot (default 10)", o.SnapshotKeep))
	}
	if o.Image != "" && o.Revision != "" {
		errs = append(errs, errors.New("give either an image or a revision, not both"))
	}
	if o.Image != "" {
		if _, err := parseImage(o.Image); err != nil {
			errs = append(errs, setting.Of("Image", err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("migrate %s/%s: nothing was run: %w", o.Cluster, o.Service, errors.Join(errs...))
	}
	return nil
}

// migrateTarget resolves the service and the revision the command runs in.
func migrateTarget(ctx context.Context, api ECSAPI, o MigrateOptions) (*liveService, *types.TaskDefinition, string, error) {
	l, err := describeService(ctx, api, o.Cluster, o.Service)
	if err != nil {
		return nil, nil, "", err
	}
	ref := o.Revision
	if ref == "" {
		if ref, err = liveRevisionARN(l); err != nil {
			return nil, nil, "", err
		}
	}
	if l.TaskDef, l.Tags, err = describeTaskDef(ctx, api, ref); err != nil {
		return nil, nil, "", err
	}
	container, err := pickContainer(l.TaskDef, o.Container)
	if err != nil {
		return nil, nil, "", err
	}
	if _, _, ok := migration.AwslogsOf(l.TaskDef, container); !ok {
		fmt.Fprintf(o.Out, "    warning: container %s has no awslogs log configuration with a stream prefix: the migration will run but its output cannot be shown\n", container)
	}
	return l, l.TaskDef, container, nil
}

func registerTemporary(ctx context.Context, api ECSAPI, out io.Writer, rec *release.Record, l *liveService, container, image string) (*types.TaskDefinition, error) {
	var td *types.TaskDefinition
	err := step(out, rec, "register", func() (string, error) {
		var err error
		if td, err = registerCopy(ctx, api, l, container, image); err != nil {
			return "", err
		}
		return revName(aws.ToString(td.TaskDefinitionArn)) + " (temporary)", nil
	})
	return td, err
}
