package lambdadeploy_test

import (
	"crypto/sha256"
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/lambdadeploy"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/teststack"
)

// changes counts the calls that change a function.
func (e *env) changes() int {
	n := 0
	for _, op := range []string{"UpdateFunctionCode", "UpdateFunctionConfiguration", "PublishVersion", "CreateAlias", "UpdateAlias"} {
		n += e.sim.Count("lambda", op)
	}
	return n
}

func b64sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func TestDeploy_DryRunPrintsCodeEnvironmentAndCanaryAndChangesNothing(t *testing.T) {
	e := newEnv(t)
	o := e.opts("PK v2")
	o.Environment = map[string]string{"LOG_LEVEL": "info", "API_TOKEN": "hunter22"}
	o.Canary, o.Bake, o.Alarms, o.DryRun = 0.1, time.Minute, []string{"resize-errors"}, true

	rec, err := lambdadeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)

	assert.Equal(t, release.OutcomeDryRun, rec.Outcome)
	assert.Zero(t, e.changes(), "a dry run changes nothing")
	v, w := e.sim.Lambda.Alias("resize", "live")
	assert.Equal(t, "1", v)
	assert.Empty(t, w)
	assert.Contains(t, e.out.String(), "plan: release function resize (Zip) through alias live\n"+
		"  code: sha256 "+b64sha("initial")+" -> sha256 "+b64sha("PK v2")+"\n"+
		"  environment API_TOKEN: (unset) -> <redacted>\n"+
		"  environment LOG_LEVEL: (unset) -> info\n"+
		"  publish a new version\n"+
		"  alias live: route 10% to the new version beside version 1 for 1m0s watching alarms resize-errors, then move all of it; on failure back to version 1\n"+
		"==> DRY RUN OK")
	assert.NotContains(t, e.out.String(), "hunter22")
}

func TestDeploy_DryRunStillRefusesBadInput(t *testing.T) {
	e := newEnv(t)
	o := lambdadeploy.Options{Function: "resize", ImageURI: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/resize@sha256:" + b64sha("x"),
		DryRun: true, PollInterval: time.Millisecond, Timeout: time.Second, Out: e.out}
	_, err := lambdadeploy.Deploy(t.Context(), e.clients, o)
	assert.ErrorContains(t, err, "function resize runs a zip package", "the package type is checked")

	o = e.opts("PK v2")
	o.Canary, o.Alarms, o.DryRun = 0.1, []string{"resize-erors"}, true
	_, err = lambdadeploy.Deploy(t.Context(), e.clients, o)
	assert.ErrorContains(t, err, "no CloudWatch metric alarm is named resize-erors")
	assert.Zero(t, e.changes())
	assert.NotContains(t, e.out.String(), "DRY RUN OK")
}

func TestDeploy_DryRunOfAnImageFunctionShowsTheImageAgainstTheLiveOne(t *testing.T) {
	e := newEnv(t)
	img := "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@sha256:" + "ab"
	o := lambdadeploy.Options{Function: "api", ImageURI: img, DryRun: true, PollInterval: time.Millisecond, Timeout: time.Second, Out: e.out}
	rec, err := lambdadeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	assert.Equal(t, release.OutcomeDryRun, rec.Outcome)
	assert.Contains(t, e.out.String(), "  code: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:initial -> "+img+"\n")
	assert.Contains(t, e.out.String(), "  alias live: move all traffic from version 1 to the new version; on failure back to version 1\n")
	assert.Zero(t, e.changes())
}

func TestRollback_DryRunNamesTheMoveAndChangesNothing(t *testing.T) {
	e := newEnv(t)
	_, err := lambdadeploy.Deploy(t.Context(), e.clients, e.opts("PK v2"))
	require.NoError(t, err)
	before := e.changes()
	rec, err := lambdadeploy.Rollback(t.Context(), e.clients, lambdadeploy.RollbackOptions{Function: "resize", ToVersion: "1", DryRun: true, Out: e.out})
	require.NoError(t, err)
	assert.Equal(t, release.OutcomeDryRun, rec.Outcome)
	assert.Equal(t, "2", rec.Lambda.BeforeVersion)
	assert.Equal(t, "1", rec.Lambda.AfterVersion)
	assert.Equal(t, before, e.changes())
	v, _ := e.sim.Lambda.Alias("resize", "live")
	assert.Equal(t, "2", v)
	assert.Contains(t, e.out.String(), "plan: move alias live of resize from version 2 to version 1, with all its traffic\n==> DRY RUN OK")

	_, err = lambdadeploy.Rollback(t.Context(), e.clients, lambdadeploy.RollbackOptions{Function: "resize", ToVersion: "9", DryRun: true, Out: e.out})
	assert.ErrorContains(t, err, "version 9 of resize", "a dry run still refuses a version that does not exist")
}

func TestDeploy_DryRunShowsTheLockAndNeverTakesIt(t *testing.T) {
	e := newEnv(t)
	s3srv := teststack.S3(t)
	store := release.NewStore(s3srv.Client(t), s3srv.NewBucket(t), "")
	_, err := store.Acquire(t.Context(), "lambda/resize", release.Holder{Who: "alice@ci", What: "deploy-lambda resize:live"}, release.LockOptions{})
	require.NoError(t, err)
	o := e.opts("PK v2")
	o.Releases, o.Who, o.DryRun = store, "bob@ci", true
	_, err = lambdadeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	assert.Contains(t, e.out.String(), `  lock lambda/resize: HELD by alice@ci since `)
	assert.Contains(t, e.out.String(), `for "deploy-lambda resize:live"; this would stop here`)
	h, err := store.Held(t.Context(), "lambda/resize")
	require.NoError(t, err)
	assert.Equal(t, "alice@ci", h.Who)
	recs, err := store.List(t.Context(), release.KindLambda, "resize")
	require.NoError(t, err)
	assert.Empty(t, recs, "a dry run writes no record")
}
