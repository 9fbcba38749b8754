package lambdadeploy_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/lambdadeploy"
	"github.com/futuraplataforma/esteira/internal/release"
)

type env struct {
	sim     *awssim.Server
	clients lambdadeploy.Clients
	out     *bytes.Buffer
}

func newEnv(t *testing.T) *env {
	sim := awssim.New(awssim.DefaultOptions())
	url := sim.Start(t)
	o := sim.Options()
	creds := credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")
	sim.Lambda.AddFunction("resize", "Zip")
	sim.Lambda.AddFunction("api", "Image")
	sim.Alarms.Set("resize-errors", "OK", "")
	e := &env{sim: sim, out: &bytes.Buffer{}, clients: lambdadeploy.Clients{
		Lambda: lambda.New(lambda.Options{Region: o.Region, BaseEndpoint: aws.String(url), Credentials: creds}),
		Alarms: cloudwatch.New(cloudwatch.Options{Region: o.Region, BaseEndpoint: aws.String(url), Credentials: creds}),
	}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("engine output:\n%s", e.out)
		}
	})
	return e
}

func (e *env) opts(zip string) lambdadeploy.Options {
	return lambdadeploy.Options{Function: "resize", Zip: []byte(zip), PollInterval: time.Millisecond, Timeout: 10 * time.Second, Out: e.out}
}

func TestDeploy_PublishesAndMovesTheAlias(t *testing.T) {
	e := newEnv(t)
	e.sim.Lambda.OnUpdate(func(string) awssim.UpdateBehavior { return awssim.UpdateBehavior{Steps: 3} })
	o := e.opts("PK v2")
	o.Environment = map[string]string{"LOG_LEVEL": "info"}
	rec, err := lambdadeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
	assert.Equal(t, "1", rec.Lambda.BeforeVersion)
	assert.Equal(t, "2", rec.Lambda.AfterVersion)
	v, w := e.sim.Lambda.Alias("resize", "live")
	assert.Equal(t, "2", v)
	assert.Empty(t, w)
	assert.Equal(t, 1, e.sim.Count("lambda", "UpdateFunctionConfiguration"))

	again, err := lambdadeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	assert.Equal(t, release.OutcomeNoChange, again.Outcome, "the alias already runs this zip and environment")
	assert.Equal(t, 2, e.sim.Lambda.Versions("resize"))
}

func TestDeploy_CanaryBakesThenTakesAllTraffic(t *testing.T) {
	e := newEnv(t)
	o := e.opts("PK v2")
	o.Canary, o.Bake, o.Alarms = 0.1, 50*time.Millisecond, []string{"resize-errors"}
	rec, err := lambdadeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
	v, w := e.sim.Lambda.Alias("resize", "live")
	assert.Equal(t, "2", v)
	assert.Empty(t, w)
	assert.Contains(t, e.out.String(), "10% of live to version 2")
	assert.GreaterOrEqual(t, e.sim.Count("monitoring", "DescribeAlarms"), 2, "the alarm was watched during the bake")
	assert.Equal(t, 2, e.sim.Count("lambda", "UpdateAlias"), "the canary share, then all of it")
}

func TestDeploy_AnAlarmDuringTheBakePutsTheAliasBack(t *testing.T) {
	e := newEnv(t)
	e.sim.Alarms.FireAfter("resize-errors", 3, "Threshold Crossed: 5 errors in 1 minute")
	o := e.opts("PK v2")
	o.Canary, o.Bake, o.Alarms = 0.25, 5*time.Second, []string{"resize-errors"}
	rec, err := lambdadeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	for _, want := range []string{"alarm resize-errors fired (Threshold Crossed: 5 errors in 1 minute) during the bake", "rolled back: alias live is back on version 1"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Equal(t, release.OutcomeRolledBack, rec.Outcome)
	v, w := e.sim.Lambda.Alias("resize", "live")
	assert.Equal(t, "1", v, "the exact version it pointed to before")
	assert.Empty(t, w, "with all its traffic")
}

func TestDeploy_AFailedUpdatePublishesNothing(t *testing.T) {
	e := newEnv(t)
	e.sim.Lambda.OnUpdate(func(string) awssim.UpdateBehavior {
		return awssim.UpdateBehavior{Steps: 2, Fail: "bootstrap: exec format error"}
	})
	rec, err := lambdadeploy.Deploy(t.Context(), e.clients, e.opts("PK broken"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the code update of resize failed: bootstrap: exec format error")
	assert.Contains(t, err.Error(), "nothing was published, the alias live was not changed (still on version 1)")
	assert.Equal(t, release.OutcomeFailed, rec.Outcome)
	assert.Equal(t, 1, e.sim.Lambda.Versions("resize"))
	assert.Zero(t, e.sim.Count("lambda", "UpdateAlias"))
}

func TestDeploy_BadInputIsRefusedBeforeAnyChange(t *testing.T) {
	e := newEnv(t)
	for name, c := range map[string]struct {
		mutate func(*lambdadeploy.Options)
		want   string
	}{
		"unknown function":  {func(o *lambdadeploy.Options) { o.Function = "rsize" }, "function rsize does not exist"},
		"zip for an image":  {func(o *lambdadeploy.Options) { o.Function = "api" }, "function api runs a container image: give an image"},
		"image for a zip":   {func(o *lambdadeploy.Options) { o.Zip, o.ImageURI = nil, "r/x:1" }, "function resize runs a zip package"},
		"zip too large":     {func(o *lambdadeploy.Options) { o.Zip = make([]byte, lambdadeploy.MaxZip+1) }, "more than the 50 MB"},
		"unknown alarm":     {func(o *lambdadeploy.Options) { o.Canary, o.Alarms = 0.1, []string{"resize-erors"} }, "no CloudWatch metric alarm is named resize-erors"},
		"canary of 100%":    {func(o *lambdadeploy.Options) { o.Canary = 1 }, "canary 1: give a share between 0 and 1"},
		"canary, new alias": {func(o *lambdadeploy.Options) { o.Canary, o.Alias = 0.1, "beta" }, "alias beta of resize does not exist"},
	} {
		t.Run(name, func(t *testing.T) {
			o := e.opts("PK v2")
			c.mutate(&o)
			_, err := lambdadeploy.Deploy(t.Context(), e.clients, o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Contains(t, err.Error(), "nothing was changed")
		})
	}
	assert.Zero(t, e.sim.Count("lambda", "UpdateFunctionCode")+e.sim.Count("lambda", "UpdateAlias"))
}

func TestDeploy_CreatesAMissingAliasAndRollbackGoesBack(t *testing.T) {
	e := newEnv(t)
	o := e.opts("PK v2")
	o.Alias = "beta"
	rec, err := lambdadeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	assert.Empty(t, rec.Lambda.BeforeVersion)
	v, _ := e.sim.Lambda.Alias("resize", "beta")
	assert.Equal(t, "2", v)

	_, err = lambdadeploy.Deploy(t.Context(), e.clients, e.opts("PK v3"))
	require.NoError(t, err)
	v, _ = e.sim.Lambda.Alias("resize", "live")
	assert.Equal(t, "3", v)
	back, err := lambdadeploy.Rollback(t.Context(), e.clients, lambdadeploy.RollbackOptions{Function: "resize", ToVersion: "1", Out: e.out})
	require.NoError(t, err)
	assert.Equal(t, "3", back.Lambda.BeforeVersion)
	v, _ = e.sim.Lambda.Alias("resize", "live")
	assert.Equal(t, "1", v)

	_, err = lambdadeploy.Rollback(t.Context(), e.clients, lambdadeploy.RollbackOptions{Function: "resize", ToVersion: "9", Out: e.out})
	assert.ErrorContains(t, err, "nothing was changed")
}

func TestPreflight_ChecksWithoutChanging(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, lambdadeploy.Preflight(t.Context(), e.clients, e.opts("PK v2")))
	o := e.opts("PK v2")
	o.Function = "rsize"
	assert.ErrorContains(t, lambdadeploy.Preflight(t.Context(), e.clients, o), "function rsize does not exist")
	assert.Zero(t, e.sim.Count("lambda", "UpdateFunctionCode")+e.sim.Count("lambda", "UpdateAlias"))
}

// --force with unchanged code publishes no new version: nothing to move,
// and a canary of it is not a failure.
func TestDeploy_ForcedUnchangedCodeIsANoChange(t *testing.T) {
	e := newEnv(t)
	_, err := lambdadeploy.Deploy(t.Context(), e.clients, e.opts("PK v2"))
	require.NoError(t, err)
	o := e.opts("PK v2")
	o.Force, o.Canary, o.Bake = true, 0.1, time.Millisecond
	rec, err := lambdadeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	assert.Equal(t, release.OutcomeNoChange, rec.Outcome)
	v, w := e.sim.Lambda.Alias("resize", "live")
	assert.Equal(t, "2", v)
	assert.Empty(t, w)
}

func TestDeploy_AnAlarmAlreadyFiringIsRefusedFirst(t *testing.T) {
	e := newEnv(t)
	e.sim.Alarms.Set("resize-errors", "ALARM", "Threshold Crossed")
	o := e.opts("PK v2")
	o.Canary, o.Alarms = 0.1, []string{"resize-errors"}
	_, err := lambdadeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "alarm resize-errors is already in ALARM (Threshold Crossed)")
	assert.Zero(t, e.sim.Count("lambda", "UpdateFunctionCode"))
}

// The new version starts from the released version's environment, not
// from what a failed release left on $LATEST.
func TestDeploy_StartsFromTheReleasedEnvironment(t *testing.T) {
	e := newEnv(t)
	o := e.opts("PK v2")
	o.Environment = map[string]string{"LOG": "info"}
	_, err := lambdadeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	e.sim.Lambda.OnUpdate(func(string) awssim.UpdateBehavior { return awssim.UpdateBehavior{Fail: "broken"} })
	o = e.opts("PK broken")
	o.Environment = map[string]string{"DEBUG": "1"}
	_, err = lambdadeploy.Deploy(t.Context(), e.clients, o) // leaves DEBUG=1 on $LATEST
	require.Error(t, err)
	e.sim.Lambda.OnUpdate(nil)
	_, err = lambdadeploy.Deploy(t.Context(), e.clients, e.opts("PK v3"))
	require.NoError(t, err)
	cfg, err := e.clients.Lambda.GetFunctionConfiguration(t.Context(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("resize"), Qualifier: aws.String("live")})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"LOG": "info"}, cfg.Environment.Variables, "the failed release's DEBUG is not published")
}

func TestDeploy_RefusesAnARN(t *testing.T) {
	e := newEnv(t)
	o := e.opts("PK v2")
	o.Function = "arn:aws:lambda:eu-west-1:123456789012:function:resize"
	_, err := lambdadeploy.Deploy(t.Context(), e.clients, o)
	assert.ErrorContains(t, err, "give the function's name")
}
