package ecsdeploy

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/futuraplataforma/esteira/internal/redact"
	"github.com/futuraplataforma/esteira/internal/release"
)

// DeployPlan is what a deploy would do, worked out by the deploy's own
// read-only steps (resolve, check) and the function that builds the new
// revision's registration, so the plan cannot drift from the deploy.
type DeployPlan struct {
	Cluster string `json:"cluster"`
	Image   string `json:"image"`
	// NoChange: every service already runs the image and the deploy is not
	// forced, so it would do nothing.
	NoChange bool          `json:"noChange,omitempty"`
	Services []ServicePlan `json:"services"`
	// Migration is nil when no migration would run.
	Migration *MigrationPlan `json:"migration,omitempty"`
	// Timeout bounds each wait of the deploy (migration, rollout, rollback).
	Timeout time.Duration `json:"timeout"`
}

// ServicePlan is one service's part of a deploy.
type ServicePlan struct {
	Service   string `json:"service"`
	Container string `json:"container"` // whose image changes
	Live      string `json:"live"`      // family:revision the service runs, the rollback target
	LiveImage string `json:"liveImage"`
	// Changes are the fields of the new revision that differ from Live;
	// empty when the new revision would be an identical copy (a forced deploy).
	Changes []FieldChange `json:"changes,omitempty"`
	// Lock is the service's deploy lock; nil without a release store.
	Lock *LockState `json:"lock,omitempty"`
	// Strategy is how ECS deploys the service: rolling, blue/green,
	// linear or canary (deploymentConfiguration.strategy).
	Strategy string `json:"strategy"`
	// StrategyChange, when the release expects another strategy or other
	// settings ECS can change in place, says the change the deploy makes
	// (e.g. "blue/green -> canary 10% baking 1m").
	StrategyChange string `json:"strategyChange,omitempty"`
}

// LockState is a deploy lock as a deploy would find it.
type LockState = release.LockState

// MigrationPlan is the migration a deploy would run before the rollout.
type MigrationPlan struct {
	// Service is the service whose new revision the one-off task runs.
	Service string `json:"service"`
	// Command is the command as shown: credentials redacted.
	Command  []string      `json:"command"`
	Snapshot *SnapshotPlan `json:"snapshot,omitempty"`
}

// SnapshotPlan is the database snapshot taken before the migration.
type SnapshotPlan struct {
	DB   string `json:"db"`   // "DB instance orders", "Aurora cluster orders"
	Name string `json:"name"` // esteira-<db>-<release id>
	Keep int    `json:"keep"` // esteira's snapshots of the DB kept after it
	// Prune are esteira's older snapshots the prune after it would delete;
	// PruneError why they could not be listed (the prune only warns).
	Prune      []string `json:"prune,omitempty"`
	PruneError string   `json:"pruneError,omitempty"`
}

// String is the snapshot step for people.
func (s *SnapshotPlan) String() string {
	line := fmt.Sprintf("snapshot %s as %s and wait until it is available; keep %d of esteira's snapshots of it", s.DB, s.Name, s.Keep)
	switch {
	case s.PruneError != "":
		return line + " (which older ones would be deleted is unknown: " + s.PruneError + ")"
	case len(s.Prune) > 0:
		return line + ", deleting " + strings.Join(s.Prune, ", ")
	}
	return line
}

// Plan is what Deploy would do with o, without changing anything: the
// live task definition of the service, the revision the deploy would
// register against it field by field, the migration and its snapshot,
// and the deploy lock. It runs Deploy's checks, so input a deploy would
// refuse is refused here with the same error. Progress goes to o.Out.
func Plan(ctx context.Context, c Clients, o DeployOptions) (*DeployPlan, error) {
	return PlanGroup(ctx, c, o, []string{o.Service})
}

// PlanGroup is Plan for DeployGroup: one release of o.Image to every
// service of services, the migration run once in the first one's revision.
func PlanGroup(ctx context.Context, c Clients, o DeployOptions, services []string) (*DeployPlan, error) {
	o.defaults()
	g, err := newGroup(c, o, services, len(services) > 1)
	if err != nil {
		return nil, err
	}
	if _, err := g.prepare(ctx); err != nil {
		if len(g.ds) == 1 {
			return nil, g.errs[0] // as Deploy says it, without the group's "release of"
		}
		return nil, err
	}
	return buildPlan(ctx, g.ds)
}

// buildPlan is the plan of deploys whose resolve (and, unless nothing
// would change, check) steps have run.
func buildPlan(ctx context.Context, ds []*deploy) (*DeployPlan, error) {
	first := ds[0].o
	p := &DeployPlan{Cluster: first.Cluster, Image: first.Image, Timeout: first.Timeout, NoChange: !first.Force}
	for _, d := range ds {
		live := aws.ToString(containerDef(d.live.TaskDef, d.container).Image)
		p.NoChange = p.NoChange && !d.changes()
		p.Services = append(p.Services, ServicePlan{Service: d.o.Service, Container: d.container, Live: revName(d.before), LiveImage: live,
			Strategy: strategyName(strategyOf(d.live.Svc)), StrategyChange: d.strategyChange})
	}
	if p.NoChange {
		return p, nil
	}
	for i, d := range ds {
		sp := &p.Services[i]
		sp.Changes = diffTaskDef(d.liveInput(), d.nextInput(), d.o.Redact)
		lock, err := lockState(ctx, d)
		if err != nil {
			return nil, err
		}
		sp.Lock = lock
	}
	if len(first.MigrateCommand) > 0 {
		p.Migration = &MigrationPlan{Service: first.Service, Command: redact.Command(first.MigrateCommand, first.Redact...)}
		if db := ds[0].db; db != nil {
			p.Migration.Snapshot = snapshotPlan(ctx, ds[0].c.RDS, *db, first.SnapshotKeep)
		}
	}
	return p, nil
}

// lockState reads the service's deploy lock without taking it.
func lockState(ctx context.Context, d *deploy) (*LockState, error) {
	return readLock(ctx, d.o.Releases, d.rec.Target, d.o.LockStaleAfter, d.o.BreakLock)
}

// readLock reads the deploy lock of target (cluster/service) without
// taking it; nil without a store.
func readLock(ctx context.Context, store *release.Store, target string, staleAfter time.Duration, brk bool) (*LockState, error) {
	ls, err := release.ReadLockState(ctx, store, release.KindBackend+"/"+target, staleAfter, brk)
	if err != nil {
		return nil, fmt.Errorf("%w; nothing was changed", err)
	}
	return ls, nil
}

// String is the plan for people, one line a step, in the order the deploy
// takes them.
func (p *DeployPlan) String() string {
	var b strings.Builder
	if p.NoChange {
		for _, s := range p.Services {
			fmt.Fprintf(&b, "service %s/%s already runs %s (%s) with this definition: nothing to do unless the deploy is forced\n", p.Cluster, s.Service, p.Image, s.Live)
		}
		return b.String()
	}
	fmt.Fprintf(&b, "plan: deploy %s to %s in cluster %s\n", p.Image, names(p.Services), p.Cluster)
	for _, s := range p.Services {
		fmt.Fprintf(&b, "  service %s runs %s (container %s: %s)\n", s.Service, s.Live, s.Container, s.LiveImage)
		if len(s.Changes) == 0 {
			fmt.Fprintf(&b, "    register a new revision of %s identical to %s (forced redeploy)\n", familyOf(s.Live), s.Live)
		} else {
			fmt.Fprintf(&b, "    register a new revision of %s; against %s it changes:\n", familyOf(s.Live), s.Live)
		}
		for _, c := range s.Changes {
			fmt.Fprintf(&b, "      %s: %s -> %s\n", c.Field, orNone(c.Before), orNone(c.After))
		}
		if s.Lock != nil {
			fmt.Fprintf(&b, "    deploy lock %s: %s\n", s.Lock.Name, s.Lock)
		}
	}
	if m := p.Migration; m != nil {
		if s := m.Snapshot; s != nil {
			fmt.Fprintf(&b, "  %s\n", s)
		}
		fmt.Fprintf(&b, "  run migration %q as a one-off task of the new revision of %s\n", strings.Join(m.Command, " "), m.Service)
	}
	for _, s := range p.Services {
		if s.StrategyChange != "" {
			fmt.Fprintf(&b, "  set the deployment strategy of %s/%s: %s\n", p.Cluster, s.Service, s.StrategyChange)
		}
		if s.Strategy == "" || s.Strategy == "rolling" {
			fmt.Fprintf(&b, "  update service %s/%s and wait up to %s; on failure roll back to %s\n", p.Cluster, s.Service, p.Timeout, s.Live)
			continue
		}
		fmt.Fprintf(&b, "  update service %s/%s: ECS deploys it %s; follow its service deployment up to %s (bake time included); on failure, timeout or interruption ECS rolls it back to %s\n",
			p.Cluster, s.Service, s.Strategy, p.Timeout, s.Live)
	}
	return b.String()
}

func names(ss []ServicePlan) string {
	var n []string
	for _, s := range ss {
		n = append(n, s.Service)
	}
	return strings.Join(n, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// printPlan is a dry run's end: the plan of ds, then DRY RUN OK.
func printPlan(ctx context.Context, out io.Writer, ds []*deploy) error {
	p, err := buildPlan(ctx, ds)
	if err != nil {
		return err
	}
	fmt.Fprint(out, p.String()+dryRunOK+"\n")
	return nil
}
