package ecsdeploy

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/futuraplataforma/esteira/internal/dbsnapshot"
	"github.com/futuraplataforma/esteira/internal/redact"
	"github.com/futuraplataforma/esteira/internal/release"
)

// dryRunOK ends every dry run's output.
const dryRunOK = "==> DRY RUN OK: every check passed; nothing was changed"

// MigratePlan is what Migrate would do: the command, where it would run,
// the snapshot before it and the lock it would take.
type MigratePlan struct {
	Cluster   string `json:"cluster"`
	Service   string `json:"service"`
	Revision  string `json:"revision"` // family:revision the task runs, or is copied from
	Container string `json:"container"`
	Image     string `json:"image"`
	// Temporary: a copy of Revision with Image is registered for the task
	// and deregistered after it.
	Temporary bool          `json:"temporary,omitempty"`
	Command   []string      `json:"command"` // credentials redacted
	Snapshot  *SnapshotPlan `json:"snapshot,omitempty"`
	Lock      *LockState    `json:"lock,omitempty"`
}

func (p *MigratePlan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "plan: migrate %s/%s\n", p.Cluster, p.Service)
	if p.Lock != nil {
		fmt.Fprintf(&b, "  deploy lock %s: %s\n", p.Lock.Name, p.Lock)
	}
	if p.Temporary {
		fmt.Fprintf(&b, "  register a temporary copy of %s with container %s: %s (deregistered after the migration)\n", p.Revision, p.Container, p.Image)
	}
	if s := p.Snapshot; s != nil {
		fmt.Fprintf(&b, "  %s\n", s)
	}
	where := p.Revision
	if p.Temporary {
		where = "the temporary copy of " + p.Revision
	}
	fmt.Fprintf(&b, "  run migration %q as a one-off task of %s (container %s: %s); the service is not changed\n", strings.Join(p.Command, " "), where, p.Container, p.Image)
	return b.String()
}

// planMigration is Migrate's dry run, once its resolve step has run.
func planMigration(ctx context.Context, c Clients, o MigrateOptions, td *types.TaskDefinition, container string, db *dbsnapshot.DB) (*MigratePlan, error) {
	p := &MigratePlan{
		Cluster: o.Cluster, Service: o.Service, Revision: revName(aws.ToString(td.TaskDefinitionArn)), Container: container,
		Image: aws.ToString(containerDef(td, container).Image), Command: redact.Command(o.Command, o.Redact...),
	}
	if o.Image != "" {
		p.Image, p.Temporary = o.Image, true
	}
	if db != nil {
		p.Snapshot = snapshotPlan(ctx, c.RDS, *db, o.SnapshotKeep)
	}
	var err error
	p.Lock, err = readLock(ctx, o.Releases, nameOf(o.Cluster)+"/"+nameOf(o.Service), o.LockStaleAfter, o.BreakLock)
	return p, err
}

// snapshotPlan is the snapshot a release would take of db, and what the
// prune after it would delete.
func snapshotPlan(ctx context.Context, api dbsnapshot.API, db dbsnapshot.DB, keep int) *SnapshotPlan {
	p := &SnapshotPlan{DB: db.String(), Name: dbsnapshot.Name(db.ID, "") + "-<release id>", Keep: keep}
	var err error
	if p.Prune, err = dbsnapshot.WouldPrune(ctx, api, db, keep); err != nil {
		p.PruneError = err.Error()
	}
	return p
}

// RollbackPlan is what Rollback would do to one service.
type RollbackPlan struct {
	Cluster string `json:"cluster"`
	Service string `json:"service"`
	From    string `json:"from"` // family:revision the service runs
	To      string `json:"to"`
	// Changes are the fields of To that differ from From.
	Changes []FieldChange `json:"changes,omitempty"`
	Lock    *LockState    `json:"lock,omitempty"`
}

func (p *RollbackPlan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "plan: roll back %s/%s from %s to %s\n", p.Cluster, p.Service, p.From, p.To)
	if len(p.Changes) > 0 {
		fmt.Fprintf(&b, "  against %s, %s changes:\n", p.From, p.To)
	}
	for _, c := range p.Changes {
		fmt.Fprintf(&b, "    %s: %s -> %s\n", c.Field, orNone(c.Before), orNone(c.After))
	}
	if p.Lock != nil {
		fmt.Fprintf(&b, "  deploy lock %s: %s\n", p.Lock.Name, p.Lock)
	}
	fmt.Fprintf(&b, "  update service %s/%s to %s and wait until its deployment is COMPLETED\n", p.Cluster, p.Service, p.To)
	return b.String()
}

// planRollback is Rollback's dry run, once its resolve step has found
// the target.
func planRollback(ctx context.Context, c Clients, o RollbackOptions, rec *release.Record) (*RollbackPlan, error) {
	from, to := rec.Backend.BeforeRevision, rec.Backend.AfterRevision
	p := &RollbackPlan{Cluster: o.Cluster, Service: o.Service, From: revName(from), To: revName(to)}
	fromTD, fromTags, err := describeTaskDef(ctx, c.ECS, from)
	if err != nil {
		return nil, err
	}
	toTD, toTags, err := describeTaskDef(ctx, c.ECS, to)
	if err != nil {
		return nil, err
	}
	p.Changes = diffTaskDef(registerInput(fromTD, fromTags, "", ""), registerInput(toTD, toTags, "", ""), nil)
	p.Lock, err = readLock(ctx, o.Releases, rec.Target, 0, o.BreakLock)
	return p, err
}
