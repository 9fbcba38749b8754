package ecsdeploy_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/release"
)

func TestMigrate_RunsTheGateAloneInATemporaryRevision(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	var ran string
	e.sim.ECS.OnRunTask(func(c awssim.RunTaskCall) awssim.TaskBehavior {
		ran = c.TaskDefinitionArn
		return awssim.TaskBehavior{LogLines: map[string][]string{"app": {"up to date"}}}
	})
	res, err := ecsdeploy.Migrate(t.Context(), e.clients, ecsdeploy.MigrateOptions{
		Cluster: "main", Service: "api", Image: imgV2, Command: []string{"./app", "migrate"},
		Timeout: 20 * time.Second, PollInterval: time.Millisecond, Out: e.out,
	})
	require.NoError(t, err)
	assert.True(t, res.Succeeded)
	assert.Equal(t, []string{"up to date"}, res.Log)
	tmp, _ := e.taskDef(t, ran)
	assert.Equal(t, imgV2, aws.ToString(tmp.ContainerDefinitions[0].Image))
	assert.Equal(t, types.TaskDefinitionStatusInactive, tmp.Status, "the temporary revision is deregistered")
	assert.Zero(t, e.sim.Count("ecs", "UpdateService"))
	assert.Equal(t, e.v1, aws.ToString(e.service(t).TaskDefinition))
}

func TestMigrate_FailsWithTheLogTailInAGivenRevision(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	e.sim.ECS.OnRunTask(func(awssim.RunTaskCall) awssim.TaskBehavior {
		return awssim.TaskBehavior{ExitCodes: map[string]int{"app": 2}, LogLines: map[string][]string{"app": {"connection refused"}}}
	})
	res, err := ecsdeploy.Migrate(t.Context(), e.clients, ecsdeploy.MigrateOptions{
		Cluster: "main", Service: "api", Revision: "api:1", Command: []string{"./app", "migrate"},
		Timeout: 20 * time.Second, PollInterval: time.Millisecond, Out: e.out,
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exited 2 (container app)")
	assert.Contains(t, err.Error(), "connection refused")
	require.NotNil(t, res)
	assert.Equal(t, 2, *res.ExitCode)
	assert.Zero(t, e.sim.Count("ecs", "RegisterTaskDefinition")-1, "no revision registered for an existing one")
}

func TestMigrate_TakesTheServiceLockWhenGivenAStore(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	store := newStore(t)
	held, err := store.Acquire(t.Context(), "backend/main/api", release.Holder{Who: "alice@ci", What: "deploy-backend main/api"}, release.LockOptions{})
	require.NoError(t, err)
	o := ecsdeploy.MigrateOptions{
		Cluster: "main", Service: "api", Image: imgV2, Command: []string{"./app", "migrate"},
		Releases: store, Who: "bob@laptop", Timeout: 20 * time.Second, PollInterval: time.Millisecond, Out: e.out,
	}
	before := e.mutations()
	_, err = ecsdeploy.Migrate(t.Context(), e.clients, o)
	var locked *release.LockedError
	require.ErrorAs(t, err, &locked, "a migration never runs while a deploy holds the lock")
	assert.Equal(t, "alice@ci", locked.Holder.Who)
	assert.Contains(t, err.Error(), "nothing was run")
	assert.Equal(t, before, e.mutations())

	require.NoError(t, held.Release(t.Context()))
	res, err := ecsdeploy.Migrate(t.Context(), e.clients, o)
	require.NoError(t, err)
	assert.True(t, res.Succeeded)
	l, err := store.Acquire(t.Context(), "backend/main/api", release.Holder{Who: "carol@ci", What: "check"}, release.LockOptions{})
	require.NoError(t, err, "the lock is released after the migration")
	require.NoError(t, l.Release(t.Context()))
}
