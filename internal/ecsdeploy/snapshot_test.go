package ecsdeploy_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// indexOf is the position of the first request for op, or -1.
func indexOf(reqs []awssim.Request, service, op string) int {
	for i, r := range reqs {
		if r.Service == service && r.Operation == op {
			return i
		}
	}
	return -1
}

func TestDeploy_SnapshotsTheDBBeforeTheMigrationStarts(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	e.sim.RDS.OnSnapshot(func(string) awssim.SnapshotBehavior { return awssim.SnapshotBehavior{Steps: 3} })
	o := e.opts(imgV2)
	o.MigrateCommand, o.SnapshotDB = []string{"./app", "migrate"}, "orders"

	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
	require.NotNil(t, rec.Backend.Snapshot)
	snap := rec.Backend.Snapshot
	assert.Equal(t, "orders", snap.DB)
	assert.True(t, strings.HasPrefix(snap.ID, "esteira-orders-"), snap.ID)
	assert.Contains(t, snap.Restore, "--db-snapshot-identifier "+snap.ID)
	assert.Equal(t, []string{snap.ID}, e.sim.RDS.Snapshots("orders"))

	reqs := e.sim.Requests()
	lastWait := -1
	for i, r := range reqs {
		if r.Service == "rds" && r.Operation == "DescribeDBSnapshots" {
			lastWait = i
		}
	}
	assert.Less(t, indexOf(reqs, "rds", "CreateDBSnapshot"), lastWait)
	assert.Less(t, lastWait, indexOf(reqs, "ecs", "RunTask"), "the migration starts once the snapshot is available")
	assert.Contains(t, stepNames(rec), "snapshot")
}

func TestDeploy_AFailedSnapshotStopsBeforeTheMigration(t *testing.T) {
	for name, b := range map[string]awssim.SnapshotBehavior{
		"fails":      {Steps: 2, Fail: true},
		"is refused": {Refuse: "SnapshotQuotaExceeded"},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, awssim.ServiceSpec{})
			e.sim.RDS.OnSnapshot(func(string) awssim.SnapshotBehavior { return b })
			o := e.opts(imgV2)
			o.MigrateCommand, o.SnapshotDB = []string{"./app", "migrate"}, "orders"

			rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
			require.Error(t, err)
			for _, want := range []string{"esteira-orders-", "the migration did not run", "the service was not changed (still on api:1)", "revision api:2 was deregistered"} {
				assert.Contains(t, err.Error(), want)
			}
			assert.Zero(t, e.sim.Count("ecs", "RunTask"), "no migration without its snapshot")
			assert.Zero(t, e.sim.Count("ecs", "UpdateService"))
			assert.Equal(t, release.OutcomeFailed, rec.Outcome)
			assert.Nil(t, rec.Backend.Snapshot)
		})
	}
}

func TestDeploy_AFailedMigrationNamesTheSnapshotAndHowToRestoreIt(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	e.sim.ECS.OnRunTask(func(awssim.RunTaskCall) awssim.TaskBehavior {
		return awssim.TaskBehavior{ExitCodes: map[string]int{"app": 1}}
	})
	o := e.opts(imgV2)
	o.MigrateCommand, o.SnapshotDB = []string{"./app", "migrate"}, "orders"

	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	require.NotNil(t, rec.Backend.Snapshot)
	assert.Contains(t, err.Error(), "snapshotted before the migration ran ("+rec.Backend.Snapshot.ID+")")
	assert.Contains(t, err.Error(), "aws rds restore-db-instance-from-db-snapshot --db-instance-identifier orders-restored --db-snapshot-identifier "+rec.Backend.Snapshot.ID)
	assert.Equal(t, e.v1, aws.ToString(e.service(t).TaskDefinition))
}

func TestDeploy_SnapshotInputIsCheckedBeforeAnyChange(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	o := e.opts(imgV2)
	o.MigrateCommand, o.SnapshotDB = []string{"./app", "migrate"}, "ordrs"
	before := e.mutations()
	_, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `snapshot DB ordrs: no RDS DB instance or Aurora cluster is named "ordrs"`)
	assert.Equal(t, before, e.mutations(), "nothing registered, nothing run")

	o.MigrateCommand = nil
	_, err = ecsdeploy.Deploy(t.Context(), e.clients, o)
	assert.ErrorContains(t, err, "give the migration command too")
}

func TestDeploy_OldSnapshotsArePrunedBeyondTheRetention(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	var ids []string
	for i, img := range []string{imgV2, imgV1, imgV2, imgV1} {
		o := e.opts(img)
		o.MigrateCommand, o.SnapshotDB, o.SnapshotKeep = []string{"./app", "migrate"}, "orders", 2
		rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
		require.NoError(t, err, "release %d", i)
		ids = append(ids, rec.Backend.Snapshot.ID)
	}
	assert.Equal(t, ids[2:], e.sim.RDS.Snapshots("orders"), "the two newest are kept")
	assert.Contains(t, e.out.String(), "pruned 1 older snapshot(s) of DB instance orders, keeping 2")
}

func TestDeploy_DryRunNamesTheSnapshotAndTakesNone(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	o := e.opts(imgV2)
	o.MigrateCommand, o.SnapshotDB, o.DryRun = []string{"./app", "migrate"}, "orders", true
	_, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	assert.Contains(t, e.out.String(), "snapshot DB instance orders as esteira-orders-")
	assert.Empty(t, e.sim.RDS.Snapshots("orders"))
}

func TestMigrate_SnapshotsFirstAndReturnsTheSnapshot(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	o := ecsdeploy.MigrateOptions{Cluster: "main", Service: "api", Command: []string{"./app", "migrate"}, SnapshotDB: "orders",
		Timeout: 20 * time.Second, PollInterval: time.Millisecond, Out: e.out}
	res, err := ecsdeploy.Migrate(t.Context(), e.clients, o)
	require.NoError(t, err)
	require.NotNil(t, res.Snapshot)
	assert.True(t, res.Succeeded)
	assert.Equal(t, []string{res.Snapshot.ID}, e.sim.RDS.Snapshots("orders"))
	reqs := e.sim.Requests()
	assert.Less(t, indexOf(reqs, "rds", "CreateDBSnapshot"), indexOf(reqs, "ecs", "RunTask"))
	out, err := json.Marshal(res)
	require.NoError(t, err)
	assert.Contains(t, string(out), `"snapshot":{"id":"`+res.Snapshot.ID+`"`)
	assert.Contains(t, string(out), `"succeeded":true`, "the result's own fields are kept")

	e.sim.RDS.OnSnapshot(func(string) awssim.SnapshotBehavior { return awssim.SnapshotBehavior{Refuse: "SnapshotQuotaExceeded"} })
	runs := e.sim.Count("ecs", "RunTask")
	_, err = ecsdeploy.Migrate(t.Context(), e.clients, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the migration did not run")
	assert.Equal(t, runs, e.sim.Count("ecs", "RunTask"))

	o.SnapshotDB = "nope"
	_, err = ecsdeploy.Migrate(t.Context(), e.clients, o)
	assert.ErrorContains(t, err, `no RDS DB instance or Aurora cluster is named "nope"`)
	assert.Equal(t, runs, e.sim.Count("ecs", "RunTask"))
}
