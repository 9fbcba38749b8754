package ecsdeploy_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/release"
)

// takeover is the ECS client of a deploy whose lock another run breaks
// and takes the first time the service is described while the lock is held:
// between taking the lock and the first change.
type takeover struct {
	ecsdeploy.ECSAPI
	t     *testing.T
	store *release.Store
	done  bool
}

func (c *takeover) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, f ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	if !c.done {
		if h, err := c.store.Held(ctx, "backend/main/api"); err == nil && h != nil {
			c.done = true
			_, err := c.store.Acquire(ctx, "backend/main/api", release.Holder{Who: "carol@ci", What: "deploy-backend main/api other"}, release.LockOptions{Break: true})
			require.NoError(c.t, err)
		}
	}
	return c.ECSAPI.DescribeServices(ctx, in, f...)
}

func TestDeploy_StopsBeforeTheFirstChangeOnceItsLockIsTaken(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	store := newStore(t)
	before := e.mutations()
	o := e.opts(imgV2)
	o.Releases, o.Who = store, "bob@ci"
	c := e.clients
	c.ECS = &takeover{ECSAPI: e.clients.ECS, t: t, store: store}
	rec, err := ecsdeploy.Deploy(t.Context(), c, o)
	require.Error(t, err)
	assert.ErrorIs(t, err, release.ErrLockLost)
	assert.Contains(t, err.Error(), "carol@ci")
	assert.Equal(t, before, e.mutations(), "no task definition registered, the service not updated")
	assert.Equal(t, release.OutcomeFailed, rec.Outcome)
}

// breakAt has carol break the lock name just before the change named
// change is checked: a lock lost at that moment of a release.
func breakAt(t *testing.T, store *release.Store, name, change string) {
	t.Helper()
	release.BeforeCheck = func(c string) {
		if c != change {
			return
		}
		release.BeforeCheck = nil
		_, err := store.Acquire(t.Context(), name, release.Holder{Who: "carol@ci", What: "deploy " + name}, release.LockOptions{Break: true})
		require.NoError(t, err)
	}
	t.Cleanup(func() { release.BeforeCheck = nil })
}

// A migration whose lock was taken between its lock and its task never
// runs: the deploy that took the lock may be migrating too.
func TestMigrate_StopsBeforeTheTaskOnceItsLockIsTaken(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	store := newStore(t)
	breakAt(t, store, "backend/main/api", "running the migration")
	_, err := ecsdeploy.Migrate(t.Context(), e.clients, ecsdeploy.MigrateOptions{
		Cluster: "main", Service: "api", Revision: "api:1", Command: []string{"./app", "migrate"},
		Releases: store, Who: "bob@ci", Timeout: 20 * time.Second, PollInterval: time.Millisecond, Out: e.out,
	})
	require.ErrorIs(t, err, release.ErrLockLost)
	assert.Contains(t, err.Error(), "stopped before running the migration")
	assert.Contains(t, err.Error(), "carol@ci")
	assert.Zero(t, e.sim.Count("ecs", "RunTask"), "the migration did not run")
}

// A deploy that loses its lock after registering, before its migration,
// runs no migration, changes no service and leaves its revision unused.
func TestDeploy_StopsBeforeTheMigrationOnceItsLockIsTaken(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	store := newStore(t)
	o := e.opts(imgV2)
	o.MigrateCommand, o.Releases, o.Who = []string{"./app", "migrate"}, store, "bob@ci"
	breakAt(t, store, "backend/main/api", "running the migration")
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.ErrorIs(t, err, release.ErrLockLost)
	assert.Contains(t, err.Error(), "the migration did not run")
	assert.Zero(t, e.sim.Count("ecs", "RunTask"))
	assert.Zero(t, e.sim.Count("ecs", "UpdateService"))
	assert.Equal(t, e.v1, aws.ToString(e.service(t).TaskDefinition))
	assert.Equal(t, release.OutcomeFailed, rec.Outcome)
}

// A group whose worker lock is taken after the migration updates no
// service at all: the parallel updates start only once every lock is
// still the group's.
func TestDeployGroup_UpdatesNoServiceOnceOneLockIsTaken(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	workerV1 := withWorker(t, e)
	store := newStore(t)
	o := e.opts(imgV2)
	o.Releases, o.Who = store, "bob@ci"
	breakAt(t, store, "backend/main/worker", "updating the services")
	recs, err := ecsdeploy.DeployGroup(t.Context(), e.clients, o, []string{"api", "worker"})
	require.ErrorIs(t, err, release.ErrLockLost)
	assert.Contains(t, err.Error(), "no service was changed")
	assert.Zero(t, e.sim.Count("ecs", "UpdateService"))
	assert.Equal(t, e.v1, e.live(t, "api"))
	assert.Equal(t, workerV1, e.live(t, "worker"))
	for _, r := range recs {
		assert.Equal(t, release.OutcomeFailed, r.Outcome, r.Target)
	}
}

// A rollback whose lock is taken before it moves the service leaves the
// service where it is.
func TestRollback_StopsOnceItsLockIsTaken(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	store := newStore(t)
	o := e.opts(imgV2)
	o.Releases, o.Who = store, "bob@ci"
	_, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	v2 := aws.ToString(e.service(t).TaskDefinition)
	breakAt(t, store, "backend/main/api", "pointing the service back")
	_, err = ecsdeploy.Rollback(t.Context(), e.clients, ecsdeploy.RollbackOptions{Cluster: "main", Service: "api",
		Releases: store, Who: "bob@ci", Timeout: 20 * time.Second, PollInterval: time.Millisecond, Out: e.out})
	require.ErrorIs(t, err, release.ErrLockLost)
	assert.Equal(t, v2, aws.ToString(e.service(t).TaskDefinition), "the service was not moved")
}
