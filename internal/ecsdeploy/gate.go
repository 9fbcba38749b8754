package ecsdeploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/futuraplataforma/esteira/internal/migration"
	"github.com/futuraplataforma/esteira/internal/redact"
	"github.com/futuraplataforma/esteira/internal/release"
)

// gateSpec builds the migration spec: the service's network and launch
// settings, with startedBy and clientToken derived from the release id.
func gateSpec(l *liveService, td *types.TaskDefinition, container string, cmd []string, id string, timeout, poll time.Duration, out io.Writer) migration.Spec {
	return migration.Spec{
		Cluster: l.Cluster, TaskDefinition: td, Container: container, Command: cmd,
		Network: l.Svc.NetworkConfiguration, LaunchType: l.Svc.LaunchType,
		CapacityProviderStrategy: l.Svc.CapacityProviderStrategy, PlatformVersion: aws.ToString(l.Svc.PlatformVersion),
		StartedBy: "esteira/" + id, ClientToken: "esteira-" + id + "-migrate",
		Timeout: timeout, PollInterval: poll, Out: out,
	}
}

// migrationRecord is the record of a migration; scrub has already hidden
// the credentials in res.
func migrationRecord(res *migration.Result, cmd []string, red *redact.Redactor) *release.MigrationRecord {
	if res == nil {
		return &release.MigrationRecord{Command: red.Command(cmd)}
	}
	return &release.MigrationRecord{
		Command: res.Command, TaskARN: res.TaskARN, ExitCode: res.ExitCode, StopCode: res.StopCode,
		StoppedReason: res.StoppedReason, Succeeded: res.Succeeded, Log: res.Log,
	}
}

// newRedactor is the redactor of a release or a migration: it knows the
// secrets of the migration command (and the names the user marks) from
// the start, and learns more from what it sees (log lines, errors).
func newRedactor(cmd, names []string) *redact.Redactor {
	red := redact.New(names...)
	red.Command(cmd)
	return red
}

// scrub hides credentials in a migration's result (its command, log lines
// and reasons) before anything shows or stores it.
func scrub(res *migration.Result, cmd []string, red *redact.Redactor) {
	if res == nil {
		return
	}
	res.Command = red.Command(cmd)
	res.Log = red.Lines(res.Log)
	res.Failure, res.StoppedReason = red.String(res.Failure), red.String(res.StoppedReason)
}

// migrate is step 4. On failure the service is never touched and the new
// revision is deregistered.
func (d *deploy) migrate(ctx context.Context, next *types.TaskDefinition) error {
	if err := d.g.Check(ctx, "the snapshot before the migration"); err != nil {
		return &wrapped{msg: fmt.Sprintf("%v; the migration did not run; %s", err, d.abandon(ctx, next)), err: err}
	}
	snap, err := takeSnapshot(ctx, d.o.Out, d.rec, d.c.RDS, d.db, d.o.SnapshotKeep, d.o.Timeout)
	if err != nil {
		return &wrapped{msg: fmt.Sprintf("%v; the migration did not run; %s", err, d.abandon(ctx, next)), err: err}
	}
	d.rec.Backend.Snapshot = snap
	if err := d.g.Check(ctx, "running the migration"); err != nil {
		return &wrapped{msg: fmt.Sprintf("%v; the migration did not run; %s%s", err, d.abandon(ctx, next), snapshotNote(snap)), err: err}
	}
	var res *migration.Result
	err = step(d.o.Out, d.rec, "migrate", func() (string, error) {
		var err error
		spec := gateSpec(d.live, next, d.container, d.o.MigrateCommand, d.rec.ID, d.o.Timeout, d.o.PollInterval, d.o.Out)
		res, err = migration.Run(ctx, d.c.ECS, d.c.Logs, spec)
		scrub(res, d.o.MigrateCommand, d.rec.Redactor)
		if err != nil {
			return "", d.rec.Redactor.Error(err) // the log tail it carries, as the record keeps it
		}
		return fmt.Sprintf("task %s exited 0", shortID(res.TaskARN)), nil
	})
	d.rec.Backend.Migration = migrationRecord(res, d.o.MigrateCommand, d.rec.Redactor)
	if err == nil {
		return nil
	}
	what, tail := migrationFailure(err, res)
	return &wrapped{msg: fmt.Sprintf("%s; %s%s; fix the migration and deploy again%s", what, d.abandon(ctx, next), snapshotNote(snap), tail), err: err}
}

// abandon deregisters the new revision of a deploy that stops before the
// rollout, and says where the service is.
func (d *deploy) abandon(ctx context.Context, next *types.TaskDefinition) string {
	nextARN := aws.ToString(next.TaskDefinitionArn)
	state := fmt.Sprintf("the service was not changed (still on %s)", revName(d.before))
	if derr := deregister(context.WithoutCancel(ctx), d.c.ECS, nextARN); derr != nil {
		return state + fmt.Sprintf("; revision %s could NOT be deregistered (%v): deregister it by hand", revName(nextARN), derr)
	}
	return state + fmt.Sprintf("; revision %s was deregistered", revName(nextARN))
}

// wrapped rewords an error for the user and keeps it for errors.As
// (e.g. *migration.FailedError).
type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }

// migrationFailure phrases the gate's error and, apart, the log tail.
// A task that timed out or vanished has no *FailedError but may have
// logged: its tail is shown too.
func migrationFailure(err error, res *migration.Result) (what, tail string) {
	var failed *migration.FailedError
	switch {
	case errors.As(err, &failed):
		what = fmt.Sprintf("migration task %s %s", shortID(res.TaskARN), res.Failure)
	case res != nil && res.Failure != "":
		what = res.Failure
	default:
		return err.Error(), ""
	}
	if lines := migration.Tail(res.Log, 10); len(lines) > 0 {
		return what, "; last log lines:\n  " + strings.Join(lines, "\n  ")
	}
	return what, "; the task wrote no log lines"
}

func shortID(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }
