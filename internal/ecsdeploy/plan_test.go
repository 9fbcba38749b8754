package ecsdeploy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/dbsnapshot"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/release"
)

// changes counts the calls of a deploy that change AWS, RDS included.
func (e *env) changes() int {
	return e.mutations() + e.sim.Count("rds", "CreateDBSnapshot") + e.sim.Count("rds", "DeleteDBSnapshot")
}

func TestPlan_ShowsTheNewRevisionAgainstTheLiveOneAndChangesNothing(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	before := e.changes()
	o := e.opts(imgV2)
	o.MigrateCommand, o.Redact = []string{"./app", "migrate", "--dsn", "postgres://u:hunter22@db/app"}, []string{"--dsn"}
	o.SnapshotDB, o.SnapshotKeep = "orders", 5
	o.Releases, o.Who = newStore(t), "ci"

	p, err := ecsdeploy.Plan(t.Context(), e.clients, o)
	require.NoError(t, err)

	assert.Equal(t, before, e.changes(), "a plan changes nothing")
	assert.False(t, p.NoChange)
	require.Len(t, p.Services, 1)
	s := p.Services[0]
	assert.Equal(t, "api", s.Service)
	assert.Equal(t, "app", s.Container)
	assert.Equal(t, "api:1", s.Live)
	assert.Equal(t, imgV1, s.LiveImage)
	assert.Equal(t, []ecsdeploy.FieldChange{{Field: "container app: image", Before: imgV1, After: imgV2}}, s.Changes,
		"only the image changes: every other field is carried over, so it is not listed")
	require.NotNil(t, s.Lock)
	assert.Equal(t, "backend/main/api", s.Lock.Name)
	assert.Nil(t, s.Lock.Holder, "the lock is free")
	require.NotNil(t, p.Migration)
	assert.Equal(t, []string{"./app", "migrate", "--dsn", "<redacted>"}, p.Migration.Command)
	require.NotNil(t, p.Migration.Snapshot)
	assert.Equal(t, ecsdeploy.SnapshotPlan{DB: "DB instance orders", Name: "esteira-orders-<release id>", Keep: 5}, *p.Migration.Snapshot)

	text := p.String()
	for _, want := range []string{
		"service api runs api:1 (container app: " + imgV1 + ")",
		"container app: image: " + imgV1 + " -> " + imgV2,
		"deploy lock backend/main/api: free",
		"snapshot DB instance orders as esteira-orders-<release id>",
		`run migration "./app migrate --dsn <redacted>" as a one-off task of the new revision of api`,
		"update service main/api and wait up to 20s; on failure roll back to api:1",
	} {
		assert.Contains(t, text, want)
	}
	assert.NotContains(t, text, "hunter22")
	assert.NotContains(t, text, "PORT", "unchanged fields are not listed")
	assert.Empty(t, e.sim.RDS.Snapshots("orders"))
}

func TestDeploy_DryRunPrintsExactlyThePlanAndChangesNothing(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	o := e.opts(imgV2)
	o.MigrateCommand, o.SnapshotDB = []string{"./app", "migrate"}, "orders"
	o.Releases, o.Who = newStore(t), "ci"
	p, err := ecsdeploy.Plan(t.Context(), e.clients, o)
	require.NoError(t, err)
	before := e.changes()

	o.DryRun = true
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)

	assert.Equal(t, release.OutcomeDryRun, rec.Outcome)
	for _, op := range []string{"RegisterTaskDefinition", "UpdateService", "RunTask"} {
		assert.Zero(t, e.sim.Count("ecs", op)-countAtSetup(op), op)
	}
	assert.Equal(t, before, e.changes())
	assert.Contains(t, e.out.String(), p.String()+"==> DRY RUN OK", "the dry run prints the plan, then says so")
	recs, err := o.Releases.List(t.Context(), release.KindBackend, "main/api")
	require.NoError(t, err)
	assert.Empty(t, recs, "a dry run writes no record")
}

// countAtSetup is how many calls of op newEnv makes (it registers v1).
func countAtSetup(op string) int {
	if op == "RegisterTaskDefinition" {
		return 1
	}
	return 0
}

func TestPlan_RefusesWhatTheDeployWouldRefuse(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	o := e.opts(imgV2)
	o.Container = "nope"
	_, planErr := ecsdeploy.Plan(t.Context(), e.clients, o)
	require.Error(t, planErr)
	_, deployErr := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, deployErr)
	assert.Equal(t, deployErr.Error(), planErr.Error())
	assert.Contains(t, planErr.Error(), `container "nope" is not in task definition api:1`)

	o = e.opts("Not An Image")
	_, err := ecsdeploy.Plan(t.Context(), e.clients, o)
	assert.ErrorContains(t, err, `image "Not An Image" is malformed`)
}

func TestPlan_NamesTheHolderOfAHeldLock(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	store := newStore(t)
	_, err := store.Acquire(t.Context(), "backend/main/api", release.Holder{Who: "alice@laptop", What: "deploy api v9"}, release.LockOptions{})
	require.NoError(t, err)
	o := e.opts(imgV2)
	o.Releases, o.Who = store, "bob@ci"

	p, err := ecsdeploy.Plan(t.Context(), e.clients, o)
	require.NoError(t, err, "a held lock is part of the plan, not an error")
	require.NotNil(t, p.Services[0].Lock.Holder)
	assert.Equal(t, "alice@laptop", p.Services[0].Lock.Holder.Who)
	assert.Contains(t, p.String(), `deploy lock backend/main/api: HELD by alice@laptop since `)
	assert.Contains(t, p.String(), `for "deploy api v9"; this would stop here`)

	o.BreakLock = true
	p, err = ecsdeploy.Plan(t.Context(), e.clients, o)
	require.NoError(t, err)
	assert.Contains(t, p.String(), "it would be broken")
	held, err := store.Held(t.Context(), "backend/main/api")
	require.NoError(t, err)
	assert.Equal(t, "alice@laptop", held.Who, "a plan never breaks the lock")
}

func TestPlan_SameImageIsNothingToDo(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	p, err := ecsdeploy.Plan(t.Context(), e.clients, e.opts(imgV1))
	require.NoError(t, err)
	assert.True(t, p.NoChange)
	assert.Contains(t, p.String(), "service main/api already runs "+imgV1+" (api:1) with this definition: nothing to do")

	o := e.opts(imgV1)
	o.Force = true
	p, err = ecsdeploy.Plan(t.Context(), e.clients, o)
	require.NoError(t, err)
	assert.False(t, p.NoChange)
	assert.Empty(t, p.Services[0].Changes)
	assert.Contains(t, p.String(), "register a new revision of api identical to api:1")
}

func TestPlanGroup_PlansEveryServiceAndDeployGroupDryRunPrintsIt(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	withWorker(t, e)
	before := e.changes()
	o := e.opts(imgV2)
	o.MigrateCommand = []string{"./app", "migrate"}

	p, err := ecsdeploy.PlanGroup(t.Context(), e.clients, o, []string{"api", "worker"})
	require.NoError(t, err)
	require.Len(t, p.Services, 2)
	assert.Equal(t, "worker:1", p.Services[1].Live)
	assert.Equal(t, []ecsdeploy.FieldChange{{Field: "container app: image", Before: imgV1, After: imgV2}}, p.Services[1].Changes)
	assert.Equal(t, "api", p.Migration.Service, "the migration runs once, in the first service's revision")
	assert.Equal(t, 1, strings.Count(p.String(), "run migration"))

	o.DryRun = true
	recs, err := ecsdeploy.DeployGroup(t.Context(), e.clients, o, []string{"api", "worker"})
	require.NoError(t, err)
	for _, r := range recs {
		assert.Equal(t, release.OutcomeDryRun, r.Outcome)
	}
	assert.Contains(t, e.out.String(), p.String()+"==> DRY RUN OK")
	assert.Equal(t, before, e.changes(), "nothing was registered, run or updated")
	out, err := e.ecs.DescribeServices(t.Context(), &ecs.DescribeServicesInput{Cluster: aws.String("main"), Services: []string{"api", "worker"}})
	require.NoError(t, err)
	for _, s := range out.Services {
		assert.True(t, strings.HasSuffix(aws.ToString(s.TaskDefinition), ":1"), aws.ToString(s.TaskDefinition))
	}
}

func TestPlan_NamesTheSnapshotsThePruneWouldDelete(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	db := dbsnapshot.DB{ID: "orders"}
	var ids []string
	for _, r := range []string{"r1", "r2", "r3"} {
		s, err := dbsnapshot.Take(t.Context(), e.clients.RDS, db, r, time.Minute)
		require.NoError(t, err)
		ids = append(ids, s.ID)
	}
	o := e.opts(imgV2)
	o.MigrateCommand, o.SnapshotDB, o.SnapshotKeep = []string{"./app", "migrate"}, "orders", 2
	p, err := ecsdeploy.Plan(t.Context(), e.clients, o)
	require.NoError(t, err)
	require.NotNil(t, p.Migration.Snapshot)
	assert.Equal(t, []string{ids[1], ids[0]}, p.Migration.Snapshot.Prune)
	assert.Contains(t, p.String(), "keep 2 of esteira's snapshots of it, deleting "+ids[1]+", "+ids[0]+"\n")
	assert.Equal(t, ids, e.sim.RDS.Snapshots("orders"), "nothing deleted")
}
