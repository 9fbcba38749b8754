package awssim_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
)

// newTrafficEnv is newCodeDeployEnv (not waiting in Ready) with the group's
// deployment config and alarms.
func newTrafficEnv(t *testing.T, config string, alarms []string, noRollback bool) cdEnv {
	t.Helper()
	e, v1, v2 := newService(t, awssim.ServiceSpec{DeploymentController: "CODE_DEPLOY"})
	e.sim.CodeDeploy.CreateDeploymentGroup("app", "web-dg", awssim.DeploymentGroupSpec{
		Cluster: "main", Service: "web",
		ProdListenerArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/1/80",
		TestListenerArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/1/8080",
		TargetGroups:    [2]string{"web-blue", "web-green"}, ContainerName: "app", ContainerPort: 8080,
		DeploymentConfigName: config, Alarms: alarms, NoRollbackOnAlarm: noRollback,
	})
	o := e.sim.Options()
	client := codedeploy.New(codedeploy.Options{Region: o.Region, BaseEndpoint: aws.String(e.sim.Start(t)),
		Credentials: credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")})
	return cdEnv{env: e, cd: client, v1: v1, v2: v2}
}

// weights polls the deployment to its end and returns each production
// share of the replacement task set seen, in order, once.
func (e cdEnv) weights(t *testing.T, id string) (cdtypes.DeploymentInfo, []float64) {
	t.Helper()
	var seen []float64
	for range 120 {
		d := e.get(t, id)
		if w := greenWeight(e.target(t, id)); len(seen) == 0 || seen[len(seen)-1] != w {
			seen = append(seen, w)
		}
		switch d.Status {
		case cdtypes.DeploymentStatusSucceeded, cdtypes.DeploymentStatusFailed, cdtypes.DeploymentStatusStopped:
			return d, seen
		}
	}
	t.Fatalf("deployment %s did not end in 120 observations", id)
	return cdtypes.DeploymentInfo{}, nil
}

func TestCodeDeploy_GroupReportsItsConfigAlarmsAndRollbackEvents(t *testing.T) {
	e := newTrafficEnv(t, "CodeDeployDefault.ECSCanary10Percent5Minutes", []string{"web-5xx"}, false)
	out, err := e.cd.GetDeploymentGroup(e.ctx, &codedeploy.GetDeploymentGroupInput{ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("web-dg")})
	require.NoError(t, err)
	g := out.DeploymentGroupInfo
	assert.Equal(t, "CodeDeployDefault.ECSCanary10Percent5Minutes", aws.ToString(g.DeploymentConfigName))
	require.NotNil(t, g.AlarmConfiguration)
	assert.True(t, g.AlarmConfiguration.Enabled)
	assert.Equal(t, []cdtypes.Alarm{{Name: aws.String("web-5xx")}}, g.AlarmConfiguration.Alarms)
	assert.Contains(t, g.AutoRollbackConfiguration.Events, cdtypes.AutoRollbackEventDeploymentStopOnAlarm)
	assert.Contains(t, g.AutoRollbackConfiguration.Events, cdtypes.AutoRollbackEventDeploymentFailure)

	plain := newCodeDeployEnv(t, false)
	out, err = plain.cd.GetDeploymentGroup(plain.ctx, &codedeploy.GetDeploymentGroupInput{ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("web-dg")})
	require.NoError(t, err)
	assert.Equal(t, "CodeDeployDefault.ECSAllAtOnce", aws.ToString(out.DeploymentGroupInfo.DeploymentConfigName))
	assert.False(t, out.DeploymentGroupInfo.AlarmConfiguration.Enabled)
	assert.NotContains(t, out.DeploymentGroupInfo.AutoRollbackConfiguration.Events, cdtypes.AutoRollbackEventDeploymentStopOnAlarm)
}

func TestCodeDeploy_ConfigsShiftProductionTrafficInTheirSteps(t *testing.T) {
	for config, want := range map[string][]float64{
		"CodeDeployDefault.ECSAllAtOnce":                    {0, 100},
		"CodeDeployDefault.ECSCanary10Percent5Minutes":      {0, 10, 100},
		"CodeDeployDefault.ECSCanary10Percent15Minutes":     {0, 10, 100},
		"CodeDeployDefault.ECSLinear10PercentEvery1Minutes": {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100},
		"CodeDeployDefault.ECSLinear10PercentEvery3Minutes": {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100},
	} {
		t.Run(config, func(t *testing.T) {
			e := newTrafficEnv(t, config, nil, false)
			d, seen := e.weights(t, e.deployV2(t))
			assert.Equal(t, cdtypes.DeploymentStatusSucceeded, d.Status)
			assert.Equal(t, config, aws.ToString(d.DeploymentConfigName))
			assert.Equal(t, want, seen)
			assert.Equal(t, e.v2, aws.ToString(e.describeService(t, "web").TaskDefinition))
		})
	}
}

// A canary step holds BakeObservations observations before the rest of
// production traffic moves.
func TestCodeDeploy_CanaryStepHoldsItsBake(t *testing.T) {
	e := newTrafficEnv(t, "CodeDeployDefault.ECSCanary10Percent5Minutes", nil, false)
	id := e.deployV2(t)
	at10 := 0
	for range 60 {
		d := e.get(t, id)
		if greenWeight(e.target(t, id)) == 10 {
			at10++
		}
		if d.Status == cdtypes.DeploymentStatusSucceeded {
			break
		}
	}
	assert.Equal(t, awssim.BakeObservations, at10, "the canary holds 10% for its (scaled) wait")
}

func TestCodeDeploy_AlarmDuringTheCanaryStopsAndRollsBack(t *testing.T) {
	e := newTrafficEnv(t, "CodeDeployDefault.ECSCanary10Percent5Minutes", []string{"web-5xx"}, false)
	e.sim.Alarms.FireAfter("web-5xx", 1, "5xx above 1%")
	id := e.deployV2(t)
	d, seen := e.weights(t, id)
	assert.Equal(t, []float64{0, 10}, seen, "stopped during the canary, before the rest moved")
	assert.Equal(t, cdtypes.DeploymentStatusStopped, d.Status)
	require.NotNil(t, d.ErrorInformation)
	assert.Equal(t, cdtypes.ErrorCodeAlarmActive, d.ErrorInformation.Code)
	assert.Equal(t, "One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, "+
		"and the affected deployments have been stopped. Activated alarms: <web-5xx>", aws.ToString(d.ErrorInformation.Message))
	require.NotNil(t, d.RollbackInfo)
	rb := aws.ToString(d.RollbackInfo.RollbackDeploymentId)
	require.NotEmpty(t, rb, "DEPLOYMENT_STOP_ON_ALARM rolls it back")
	r, _ := e.poll(t, rb, 30, cdStatus(cdtypes.DeploymentStatusSucceeded))
	assert.Equal(t, cdtypes.DeploymentCreatorCodeDeployRollback, r.Creator)
	assert.Equal(t, 0.0, greenWeight(e.target(t, rb)), "the rollback put all production traffic back on the original task set")
	assert.Equal(t, e.v1, aws.ToString(e.describeService(t, "web").TaskDefinition))
}

// Without DEPLOYMENT_STOP_ON_ALARM the deployment stops where it is.
func TestCodeDeploy_AlarmWithoutRollbackLeavesTrafficWhereItWas(t *testing.T) {
	e := newTrafficEnv(t, "CodeDeployDefault.ECSLinear10PercentEvery1Minutes", []string{"web-5xx"}, true)
	e.sim.Alarms.FireAfter("web-5xx", 3, "5xx above 1%")
	id := e.deployV2(t)
	d, seen := e.weights(t, id)
	assert.Equal(t, cdtypes.DeploymentStatusStopped, d.Status)
	assert.Equal(t, cdtypes.ErrorCodeAlarmActive, d.ErrorInformation.Code)
	assert.True(t, d.RollbackInfo == nil || aws.ToString(d.RollbackInfo.RollbackDeploymentId) == "", "no rollback deployment")
	assert.Equal(t, []float64{0, 10, 20}, seen)
	assert.Equal(t, 20.0, greenWeight(e.target(t, id)), "traffic stays split")
}

func TestCodeDeploy_UnknownDeploymentConfigIsRefused(t *testing.T) {
	e, _, _ := newService(t, awssim.ServiceSpec{DeploymentController: "CODE_DEPLOY"})
	assert.PanicsWithValue(t, `awssim: CreateDeploymentGroup: deployment group "web-dg": deployment config "CodeDeployDefault.LambdaCanary10Percent5Minutes" is not a predefined ECS one (CodeDeployDefault.ECSAllAtOnce, ECSCanary10Percent5Minutes, ECSCanary10Percent15Minutes, ECSLinear10PercentEvery1Minutes, ECSLinear10PercentEvery3Minutes)`, func() {
		e.sim.CodeDeploy.CreateDeploymentGroup("app", "web-dg", awssim.DeploymentGroupSpec{Cluster: "main", Service: "web",
			ProdListenerArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/1/80",
			TargetGroups:    [2]string{"web-blue", "web-green"}, ContainerName: "app", ContainerPort: 8080,
			DeploymentConfigName: "CodeDeployDefault.LambdaCanary10Percent5Minutes"})
	})
}
