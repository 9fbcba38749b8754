package ecsdeploy_test

import (
	"context"
	"testing"

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
