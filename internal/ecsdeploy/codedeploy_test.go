package ecsdeploy_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/setting"
)

// codeDeployEnv is env with the service api deployed by CodeDeploy (group
// app/api-dg), waiting in Ready with test traffic on the new task set.
func codeDeployEnv(t *testing.T) (*env, ecsdeploy.DeployOptions) {
	t.Helper()
	e := newEnv(t, awssim.ServiceSpec{DeploymentController: "CODE_DEPLOY"})
	e.sim.CodeDeploy.CreateDeploymentGroup("app", "api-dg", awssim.DeploymentGroupSpec{
		Cluster: "main", Service: "api",
		ProdListenerArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/api/1/80",
		TestListenerArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/api/1/8080",
		TargetGroups:    [2]string{"api-blue", "api-green"}, ContainerName: "app", ContainerPort: 8080,
		WaitForReady: true,
	})
	o := e.sim.Options()
	e.clients.CodeDeploy = codedeploy.New(codedeploy.Options{Region: o.Region, BaseEndpoint: aws.String(e.url),
		Credentials: credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")})
	opts := e.opts(imgV2)
	opts.CodeDeploy = map[string]ecsdeploy.CodeDeployGroup{"api": {Application: "app", DeploymentGroup: "api-dg"}}
	return e, opts
}

func TestDeploy_CodeDeployServiceGoesLiveAfterTheGateOnTestTraffic(t *testing.T) {
	e, o := codeDeployEnv(t)
	runs := 0
	o.Releases, o.Who, o.TestGate = newStore(t), "bob@ci", gate(&runs, nil)
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
	assert.Equal(t, 1, runs)
	assert.Equal(t, "codedeploy blue/green", rec.Backend.Strategy, "the record says which controller ran it")
	assert.NotEmpty(t, rec.Backend.ServiceDeployment)
	require.NotNil(t, rec.Backend.TestGate)
	assert.True(t, rec.Backend.TestGate.Passed)
	out := e.out.String()
	assert.Less(t, strings.Index(out, "quality gate passed"), strings.Index(out, "/ 100% green"), "production moved after the gate")
	assert.True(t, strings.HasSuffix(aws.ToString(e.service(t).TaskDefinition), "api:2"))
}

// The gate fails on test traffic: the deployment is stopped with auto
// rollback, and production never reached the new task set.
func TestDeploy_CodeDeployGateFailingStopsWithRollback(t *testing.T) {
	e, o := codeDeployEnv(t)
	runs := 0
	o.TestGate = gate(&runs, errors.New("health check returned 500"))
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	assert.Equal(t, release.OutcomeRolledBack, rec.Outcome)
	assert.Contains(t, err.Error(), "the quality gate failed on test traffic")
	assert.Contains(t, err.Error(), "CodeDeploy rolled it back: all production traffic is on api:1")
	for _, seen := range regexp.MustCompile(`production \S+% blue / \S+% green`).FindAllString(e.out.String(), -1) {
		assert.Contains(t, seen, "/ 0% green", "production traffic never moved")
	}
	assert.Equal(t, e.v1, aws.ToString(e.service(t).TaskDefinition))
}

// Replacement tasks that never get healthy: CodeDeploy fails the
// deployment and rolls back by itself.
func TestDeploy_CodeDeployUnhealthyTasksAreRolledBack(t *testing.T) {
	e, o := codeDeployEnv(t)
	e.sim.ECS.OnServiceTask(func(td string) awssim.TaskBehavior {
		return awssim.TaskBehavior{Unhealthy: strings.HasSuffix(td, "api:2")}
	})
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	assert.Equal(t, release.OutcomeRolledBack, rec.Outcome)
	assert.Equal(t, e.v1, aws.ToString(e.service(t).TaskDefinition))
}

// Ctrl-C while it waits in Ready: stopped with rollback, and waited for.
func TestDeploy_CodeDeployInterruptedIsRolledBack(t *testing.T) {
	e, o := codeDeployEnv(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	o.TestGate = func(context.Context) (string, error) { cancel(); time.Sleep(10 * time.Millisecond); return "", nil }
	rec, err := ecsdeploy.Deploy(ctx, e.clients, o)
	require.Error(t, err)
	assert.Equal(t, release.OutcomeRolledBack, rec.Outcome, e.out.String())
	assert.Equal(t, e.v1, aws.ToString(e.service(t).TaskDefinition))
}

// A rollback CodeDeploy cannot finish is reported as uncertain.
func TestDeploy_CodeDeployRollbackFailedIsUncertain(t *testing.T) {
	e, o := codeDeployEnv(t)
	e.sim.CodeDeploy.FailRollbacks("api-dg")
	runs := 0
	o.TestGate = gate(&runs, errors.New("smoke test failed"))
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	assert.Equal(t, release.OutcomeFailed, rec.Outcome)
	assert.Contains(t, err.Error(), "UNCERTAIN")
	assert.NotContains(t, err.Error(), "rolled back", "the rollback failed: nothing may say it rolled back")
}

// A CodeDeploy service without its application and group is refused
// before anything changes, naming the setting.
func TestDeploy_CodeDeployServiceNeedsItsDeploymentGroup(t *testing.T) {
	e, o := codeDeployEnv(t)
	o.CodeDeploy = nil
	before := e.mutations()
	_, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "service api is deployed by AWS CodeDeploy: name its application and deployment group")
	assert.Equal(t, []string{"CodeDeploy"}, setting.Names(err))
	assert.Equal(t, before, e.mutations())
}

// A deployment group that does not wait in Ready gives the gate no moment
// on test traffic: the release says so, and goes through ungated.
func TestDeploy_CodeDeployWarnsWhenTheGroupDoesNotWaitInReady(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{DeploymentController: "CODE_DEPLOY"})
	e.sim.CodeDeploy.CreateDeploymentGroup("app", "api-dg", awssim.DeploymentGroupSpec{
		Cluster: "main", Service: "api",
		ProdListenerArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/api/1/80",
		TestListenerArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/api/1/8080",
		TargetGroups:    [2]string{"api-blue", "api-green"}, ContainerName: "app", ContainerPort: 8080,
	})
	o := e.sim.Options()
	e.clients.CodeDeploy = codedeploy.New(codedeploy.Options{Region: o.Region, BaseEndpoint: aws.String(e.url),
		Credentials: credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")})
	opts := e.opts(imgV2)
	opts.CodeDeploy = map[string]ecsdeploy.CodeDeployGroup{"api": {Application: "app", DeploymentGroup: "api-dg"}}
	runs := 0
	opts.TestGate = gate(&runs, nil)
	_, err := ecsdeploy.Deploy(t.Context(), e.clients, opts)
	require.NoError(t, err)
	assert.Contains(t, e.out.String(), "warning: deployment group app/api-dg does not wait in Ready")
	assert.Zero(t, runs)
}
