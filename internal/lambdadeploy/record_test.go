package lambdadeploy_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/lambdadeploy"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/teststack"
)

func TestMain(m *testing.M) { teststack.Main(m) }

// With a release bucket: each release is recorded, a second one is refused
// while the first holds the lock, and rollback-lambda finds in the records
// the version the last release replaced.
func TestDeploy_RecordsLocksAndRollsBackFromTheRecords(t *testing.T) {
	e := newEnv(t)
	s3srv := teststack.S3(t)
	store := release.NewStore(s3srv.Client(t), s3srv.NewBucket(t), "")
	for _, zip := range []string{"PK v2", "PK v3"} {
		o := e.opts(zip)
		o.Releases, o.Who = store, "ci"
		_, err := lambdadeploy.Deploy(t.Context(), e.clients, o)
		require.NoError(t, err)
	}
	recs, err := store.List(t.Context(), release.KindLambda, "resize")
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Equal(t, "2", recs[0].Lambda.BeforeVersion, "newest first")
	assert.Equal(t, "3", recs[0].Lambda.AfterVersion)

	held, err := store.Acquire(t.Context(), "lambda/resize", release.Holder{Who: "alice", What: "deploy-lambda resize"}, release.LockOptions{})
	require.NoError(t, err)
	o := e.opts("PK v4")
	o.Releases, o.Who = store, "ci"
	_, err = lambdadeploy.Deploy(t.Context(), e.clients, o)
	var locked *release.LockedError
	require.ErrorAs(t, err, &locked)
	assert.Equal(t, 3, e.sim.Lambda.Versions("resize"), "nothing was published while locked")
	require.NoError(t, held.Release(t.Context()))

	back, err := lambdadeploy.Rollback(t.Context(), e.clients, lambdadeploy.RollbackOptions{Function: "resize", Releases: store, Who: "ci", Out: e.out, LockStaleAfter: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, "2", back.Lambda.AfterVersion)
	v, _ := e.sim.Lambda.Alias("resize", "live")
	assert.Equal(t, "2", v)
}

// A second rollback does not undo the first: rollbacks are skipped, and
// only a release that put the alias where it is counts.
func TestRollback_TwiceDoesNotReleaseTheBadVersionAgain(t *testing.T) {
	e := newEnv(t)
	s3srv := teststack.S3(t)
	store := release.NewStore(s3srv.Client(t), s3srv.NewBucket(t), "")
	o := e.opts("PK v2")
	o.Releases, o.Who = store, "ci"
	_, err := lambdadeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	ro := lambdadeploy.RollbackOptions{Function: "resize", Releases: store, Who: "ci", Out: e.out}
	_, err = lambdadeploy.Rollback(t.Context(), e.clients, ro)
	require.NoError(t, err)
	v, _ := e.sim.Lambda.Alias("resize", "live")
	require.Equal(t, "1", v)
	_, err = lambdadeploy.Rollback(t.Context(), e.clients, ro)
	assert.ErrorContains(t, err, "put the alias on version 1")
	v, _ = e.sim.Lambda.Alias("resize", "live")
	assert.Equal(t, "1", v, "still on the good version")
}
