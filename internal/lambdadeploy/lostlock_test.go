package lambdadeploy_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/lambdadeploy"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/teststack"
)

// takeover is the Lambda client of a release whose lock another run breaks
// and takes the first time the alias is read while the lock is held:
// between taking the lock and the first change.
type takeover struct {
	lambdadeploy.LambdaAPI
	t     *testing.T
	store *release.Store
	done  bool
}

func (c *takeover) GetAlias(ctx context.Context, in *lambda.GetAliasInput, f ...func(*lambda.Options)) (*lambda.GetAliasOutput, error) {
	if !c.done {
		if h, err := c.store.Held(ctx, release.KindLambda+"/resize"); err == nil && h != nil {
			c.done = true
			_, err := c.store.Acquire(ctx, release.KindLambda+"/resize", release.Holder{Who: "carol@ci", What: "release of function resize:live"}, release.LockOptions{Break: true})
			require.NoError(c.t, err)
		}
	}
	return c.LambdaAPI.GetAlias(ctx, in, f...)
}

func TestDeploy_StopsBeforeTheFirstChangeOnceItsLockIsTaken(t *testing.T) {
	e := newEnv(t)
	s3srv := teststack.S3(t)
	store := release.NewStore(s3srv.Client(t), s3srv.NewBucket(t), "")
	o := e.opts("PK v2")
	o.Environment = map[string]string{"LOG_LEVEL": "info"}
	o.Releases, o.Who = store, "bob@ci"
	c := e.clients
	c.Lambda = &takeover{LambdaAPI: e.clients.Lambda, t: t, store: store}
	rec, err := lambdadeploy.Deploy(t.Context(), c, o)
	require.Error(t, err)
	assert.ErrorIs(t, err, release.ErrLockLost)
	assert.Contains(t, err.Error(), "carol@ci")
	for _, op := range []string{"UpdateFunctionConfiguration", "UpdateFunctionCode", "PublishVersion", "UpdateAlias", "CreateAlias"} {
		assert.Zero(t, e.sim.Count("lambda", op), op)
	}
	assert.Equal(t, release.OutcomeFailed, rec.Outcome)
}
