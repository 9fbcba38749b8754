package ecsdeploy_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/release"
)

// canaryCodeDeployEnv is codeDeployEnv with the group shifting production
// traffic as CodeDeployDefault.ECSCanary10Percent5Minutes and watching
// the alarm api-5xx (OK), rolling back on it.
func canaryCodeDeployEnv(t *testing.T) (*env, ecsdeploy.DeployOptions) {
	t.Helper()
	e := newEnv(t, awssim.ServiceSpec{DeploymentController: "CODE_DEPLOY"})
	e.sim.CodeDeploy.CreateDeploymentGroup("app", "api-dg", awssim.DeploymentGroupSpec{
		Cluster: "main", Service: "api",
		ProdListenerArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/api/1/80",
		TestListenerArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/api/1/8080",
		TargetGroups:    [2]string{"api-blue", "api-green"}, ContainerName: "app", ContainerPort: 8080,
		WaitForReady: true, DeploymentConfigName: "CodeDeployDefault.ECSCanary10Percent5Minutes", Alarms: []string{"api-5xx"},
	})
	e.sim.Alarms.Set("api-5xx", "OK", "")
	o := e.sim.Options()
	e.clients.CodeDeploy = codedeploy.New(codedeploy.Options{Region: o.Region, BaseEndpoint: aws.String(e.url),
		Credentials: credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")})
	opts := e.opts(imgV2)
	opts.CodeDeploy = map[string]ecsdeploy.CodeDeployGroup{"api": {Application: "app", DeploymentGroup: "api-dg"}}
	return e, opts
}

func TestDeploy_CodeDeployCanaryGoesLiveThroughItsCanaryStep(t *testing.T) {
	e, o := canaryCodeDeployEnv(t)
	runs := 0
	o.Releases, o.Who, o.TestGate = newStore(t), "bob@ci", gate(&runs, nil)
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err, e.out.String())
	assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
	assert.Equal(t, "codedeploy canary 10% 5m", rec.Backend.Strategy)
	out := e.out.String()
	assert.Contains(t, out, "deployment group app/api-dg: codedeploy canary 10% 5m (CodeDeployDefault.ECSCanary10Percent5Minutes), CodeDeploy watching api-5xx")
	canary, all := strings.Index(out, "production 90% blue / 10% green"), strings.Index(out, "production 0% blue / 100% green")
	require.GreaterOrEqual(t, canary, 0, "the canary step is shown:\n%s", out)
	assert.Less(t, canary, all, "the canary took 10% before the rest moved")
	assert.True(t, strings.HasSuffix(aws.ToString(e.service(t).TaskDefinition), "api:2"))
}

// The drill for a CodeDeploy service: the group's alarm fires
// while the canary bakes; CodeDeploy stops the deployment and rolls it
// back, and the release ends rolled back on the exact pre-deploy
// revision, naming the alarm.
func TestDeploy_CodeDeployAlarmDuringTheCanaryRollsItBack(t *testing.T) {
	e, o := canaryCodeDeployEnv(t)
	e.sim.Alarms.FireAfter("api-5xx", 1, "5xx above 1%")
	runs := 0
	o.Releases, o.Who, o.TestGate = newStore(t), "bob@ci", gate(&runs, nil)
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	require.NotNil(t, rec)
	out := e.out.String()
	assert.Equal(t, release.OutcomeRolledBack, rec.Outcome, out)
	assert.Equal(t, "codedeploy canary 10% 5m", rec.Backend.Strategy)
	var ce *ecsdeploy.CodeDeployError
	require.True(t, errors.As(err, &ce), "%v", err)
	assert.True(t, ce.RolledBack)
	assert.Equal(t, "Stopped", string(ce.Status))
	for _, want := range []string{"alarm api-5xx went into ALARM while production traffic moved, and CodeDeploy stopped the deployment (ALARM_ACTIVE)",
		"CodeDeploy rolled it back: all production traffic is on api:1"} {
		assert.Contains(t, err.Error(), want)
		assert.Contains(t, rec.Error, want, "the record says so")
	}
	assert.Contains(t, out, "production 90% blue / 10% green", "the canary had its share when the alarm fired")
	assert.NotContains(t, out, "production 0% blue / 100% green", "the rest never moved")
	assert.Equal(t, e.v1, aws.ToString(e.service(t).TaskDefinition), "the exact pre-deploy revision runs")
	assert.Equal(t, e.v1, rec.Backend.BeforeRevision)
}
