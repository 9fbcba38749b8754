package envrelease_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/envrelease"
	"github.com/futuraplataforma/esteira/internal/lambdadeploy"
	"github.com/futuraplataforma/esteira/internal/release"
)

// withFunction adds the function "resize" (a zip, alias live on version
// 1) and its alarm to the world, and a release of it to the plan.
func withFunction(t *testing.T, e *env, p *envrelease.Plan, zip string) {
	t.Helper()
	if e.clients.Lambda.Lambda == nil {
		o := e.sim.Options()
		url := e.sim.Start(t)
		creds := credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")
		e.clients.Lambda = lambdadeploy.Clients{
			Lambda: lambda.New(lambda.Options{Region: o.Region, BaseEndpoint: aws.String(url), Credentials: creds}),
			Alarms: cloudwatch.New(cloudwatch.Options{Region: o.Region, BaseEndpoint: aws.String(url), Credentials: creds})}
		e.sim.Lambda.AddFunction("resize", "Zip")
		e.sim.Alarms.Set("resize-errors", "OK", "")
	}
	p.Functions = []lambdadeploy.Options{{Function: "resize", Zip: []byte(zip), Alarms: []string{"resize-errors"}, Bake: 20 * time.Millisecond,
		PollInterval: time.Millisecond, Timeout: 10 * time.Second, Releases: e.store, Who: "ci"}}
}

func TestRun_ReleasesTheFunctionsAfterTheServicesAndTheSite(t *testing.T) {
	e := newEnv(t)
	p := e.plan()
	withFunction(t, e, &p, "PK v2")
	res, err := envrelease.Run(t.Context(), e.clients, p)
	require.NoError(t, err)
	require.Len(t, res.Functions, 1)
	assert.Equal(t, release.OutcomeSucceeded, res.Functions[0].Outcome)
	v, _ := e.sim.Lambda.Alias("resize", "live")
	assert.Equal(t, "2", v)
	assert.Contains(t, res.Summary("staging", nil), "resize:live on version 2")
}

// A function whose alarm fires puts its alias back; the services and the
// site released before it are brought back too.
func TestRun_AFailingFunctionBringsEverythingBack(t *testing.T) {
	e := newEnv(t)
	p := e.plan()
	withFunction(t, e, &p, "PK v2")
	e.sim.Alarms.FireAfter("resize-errors", 2, "errors")
	api := e.live(t, "api")
	res, err := envrelease.Run(t.Context(), e.clients, p)
	require.Error(t, err)
	for _, want := range []string{"function resize:", "alarm resize-errors fired", "alias live is back on version 1", "every backend service was rolled back"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Equal(t, release.OutcomeRolledBack, res.Outcome)
	assert.Equal(t, api, e.live(t, "api"))
	v, _ := e.sim.Lambda.Alias("resize", "live")
	assert.Equal(t, "1", v)
	assert.True(t, strings.Contains(err.Error(), "the site was restored") || res.Frontend == nil, err.Error())
}

// A failing gate puts the functions' aliases back with the rest.
func TestRun_AFailingGatePutsTheFunctionsBack(t *testing.T) {
	e := newEnv(t)
	p := e.plan()
	withFunction(t, e, &p, "PK v2")
	p.Gate = func(context.Context) (string, error) { return "", errors.New("exit code 1") }
	res, err := envrelease.Run(t.Context(), e.clients, p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the functions were put back (resize:live on version 1)")
	v, _ := e.sim.Lambda.Alias("resize", "live")
	assert.Equal(t, "1", v)
	assert.Equal(t, release.OutcomeRolledBack, res.Outcome)
}

// status shows where each function's alias points, and its lock and releases.
func TestReadStatus_ShowsTheFunctions(t *testing.T) {
	e := newEnv(t)
	p := e.plan()
	withFunction(t, e, &p, "PK v2")
	_, err := envrelease.Run(t.Context(), e.clients, p)
	require.NoError(t, err)
	st, err := envrelease.ReadStatus(t.Context(), e.clients, e.store, envrelease.Where{Cluster: "main",
		Functions: []envrelease.FunctionRef{{Name: "resize"}}})
	require.NoError(t, err)
	require.Len(t, st.Functions, 1)
	assert.Equal(t, "2", st.Functions[0].Version)
	assert.Contains(t, st.Text(), "resize    live   version 2")
	require.NotEmpty(t, st.Releases)
	assert.Equal(t, release.KindLambda, st.Releases[0].Kind)
}
