package awssim_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// productionSteps polls the deployment to SUCCESSFUL and returns the
// target's production weight at each PRODUCTION_TRAFFIC_SHIFT observed,
// and how many times PRE_PRODUCTION_TRAFFIC_SHIFT was entered.
func (e env) productionSteps(t *testing.T, arn string) (steps []float64, pre int) {
	t.Helper()
	last := ""
	for range 80 {
		sd := e.describeSD(t, arn)
		st := string(sd.LifecycleStage)
		if st != last && st == "PRODUCTION_TRAFFIC_SHIFT" {
			steps = append(steps, aws.ToFloat64(sd.TargetServiceRevision.RequestedProductionTrafficWeight))
			src := aws.ToFloat64(sd.SourceServiceRevisions[0].RequestedProductionTrafficWeight)
			assert.InDelta(t, 100, src+steps[len(steps)-1], 0.001, "source and target weights add up to 100")
		}
		if st != last && st == "PRE_PRODUCTION_TRAFFIC_SHIFT" {
			pre++
		}
		last = st
		if sd.Status == types.ServiceDeploymentStatusSuccessful {
			return steps, pre
		}
	}
	t.Fatal("the deployment did not succeed in 80 observations")
	return nil, 0
}

func TestServiceDeployment_LinearShiftsProductionInEqualSteps(t *testing.T) {
	e, _, v2 := newService(t, awssim.ServiceSpec{Strategy: awssim.StrategyLinear, LinearStepPercent: 25})
	svc := e.describeService(t, "web")
	assert.Equal(t, types.DeploymentStrategyLinear, svc.DeploymentConfiguration.Strategy)
	assert.Equal(t, 25.0, aws.ToFloat64(svc.DeploymentConfiguration.LinearConfiguration.StepPercent))

	steps, pre := e.productionSteps(t, e.deploy(t, v2))
	assert.Equal(t, []float64{25, 50, 75, 100}, steps)
	assert.Equal(t, 4, pre, "PRE_PRODUCTION_TRAFFIC_SHIFT comes before every step")
	assert.Equal(t, v2, aws.ToString(e.describeService(t, "web").TaskDefinition))
}

func TestServiceDeployment_CanaryShiftsItsShareThenTheRest(t *testing.T) {
	e, _, v2 := newService(t, awssim.ServiceSpec{Strategy: awssim.StrategyCanary, CanaryPercent: 10})
	assert.Equal(t, 10.0, aws.ToFloat64(e.describeService(t, "web").DeploymentConfiguration.CanaryConfiguration.CanaryPercent))
	steps, _ := e.productionSteps(t, e.deploy(t, v2))
	assert.Equal(t, []float64{10, 100}, steps)
}

func TestServiceDeployment_AlarmDuringBakeRollsBack(t *testing.T) {
	e, v1, v2 := newService(t, blueGreen(awssim.ServiceSpec{Alarms: []string{"web-5xx"}}))
	e.sim.Alarms.Set("web-5xx", "OK", "")
	alarms := e.describeService(t, "web").DeploymentConfiguration.Alarms
	require.NotNil(t, alarms)
	assert.Equal(t, []string{"web-5xx"}, alarms.AlarmNames)
	assert.True(t, alarms.Enable)
	assert.True(t, alarms.Rollback)

	arn := e.deploy(t, v2)
	sd, _ := e.pollSD(t, arn, 20, atStage("BAKE_TIME"))
	assert.Equal(t, types.ServiceDeploymentRollbackMonitorsStatusMonitoring, sd.Alarms.Status)
	e.sim.Alarms.Set("web-5xx", "ALARM", "5xx above 1%")

	sd = e.rolledBack(t, arn, v1, "web-5xx")
	assert.Equal(t, types.ServiceDeploymentRollbackMonitorsStatusTriggered, sd.Alarms.Status)
	assert.Equal(t, []string{"web-5xx"}, sd.Alarms.TriggeredAlarmNames)
}

func TestServiceDeployment_AlarmDuringALinearStepRollsBack(t *testing.T) {
	e, v1, v2 := newService(t, awssim.ServiceSpec{Strategy: awssim.StrategyLinear, LinearStepPercent: 20, Alarms: []string{"web-5xx"}})
	e.sim.Alarms.FireAfter("web-5xx", 2, "5xx above 1%") // two looks by ECS once traffic moved
	arn := e.deploy(t, v2)
	sd := e.rolledBack(t, arn, v1, "web-5xx")
	assert.Equal(t, "PRODUCTION_TRAFFIC_SHIFT", string(sd.LifecycleStage), "it failed during the first step's bake")
}

func TestServiceDeployment_FailRollbacksEndsRollbackFailedWithTrafficWhereItWas(t *testing.T) {
	e, _, v2 := newService(t, blueGreen(awssim.ServiceSpec{}))
	e.sim.ECS.FailRollbacks("web")
	arn := e.deploy(t, v2)
	e.pollSD(t, arn, 20, atStage("BAKE_TIME"))
	_, err := e.ecs.StopServiceDeployment(e.ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: &arn, StopType: types.StopServiceDeploymentStopTypeRollback})
	require.NoError(t, err)

	sd, _ := e.pollSD(t, arn, 10, hasStatus(types.ServiceDeploymentStatusRollbackFailed))
	assert.Contains(t, aws.ToString(sd.StatusReason), "rollback failed")
	assert.NotNil(t, sd.FinishedAt)
	assert.Equal(t, [2]float64{100, 100}, weights(sd.TargetServiceRevision), "production stays on green")
	assert.Equal(t, [2]float64{0, 0}, weights(&sd.SourceServiceRevisions[0]))
	assert.Equal(t, v2, aws.ToString(e.describeService(t, "web").TaskDefinition))

	// Only the next rollback fails.
	v3 := e.registerApp(t, "api")
	arn3 := e.deploy(t, v3)
	e.describeSD(t, arn3)
	_, err = e.ecs.StopServiceDeployment(e.ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: &arn3})
	require.NoError(t, err)
	e.pollSD(t, arn3, 10, hasStatus(types.ServiceDeploymentStatusRollbackSuccessful))
}

func TestServiceDeployment_RollingServiceListsNone(t *testing.T) {
	e, _, v2 := newService(t, awssim.ServiceSpec{})
	assert.Equal(t, types.DeploymentStrategyRolling, e.describeService(t, "web").DeploymentConfiguration.Strategy)
	e.update(t, v2)
	e.pollService(t, "web", 10, func(s types.Service) bool {
		return s.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted
	})
	out, err := e.ecs.ListServiceDeployments(e.ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("main"), Service: aws.String("web")})
	require.NoError(t, err)
	assert.Empty(t, out.ServiceDeployments)
}

func TestServiceDeployment_UpdateServiceChangesTheStrategy(t *testing.T) {
	e, _, v2 := newService(t, awssim.ServiceSpec{CircuitBreaker: true})
	_, err := e.ecs.UpdateService(e.ctx, &ecs.UpdateServiceInput{Cluster: aws.String("main"), Service: aws.String("web"),
		DeploymentConfiguration: &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyBlueGreen, BakeTimeInMinutes: aws.Int32(1),
			LifecycleHooks: []types.DeploymentLifecycleHook{{TargetType: types.DeploymentLifecycleHookTargetTypePause,
				LifecycleStages: []types.DeploymentLifecycleHookStage{"POST_TEST_TRAFFIC_SHIFT"}}}}})
	require.NoError(t, err)
	dc := e.describeService(t, "web").DeploymentConfiguration
	assert.Equal(t, types.DeploymentStrategyBlueGreen, dc.Strategy)
	assert.True(t, dc.DeploymentCircuitBreaker.Enable, "fields not in the request are kept")

	_, err = e.ecs.UpdateService(e.ctx, &ecs.UpdateServiceInput{Cluster: aws.String("main"), Service: aws.String("web"),
		DeploymentConfiguration: &types.DeploymentConfiguration{LifecycleHooks: []types.DeploymentLifecycleHook{{
			TargetType: types.DeploymentLifecycleHookTargetTypePause, LifecycleStages: []types.DeploymentLifecycleHookStage{"PRODUCTION_TRAFFIC_SHIFT"}}}}})
	var invalid *types.InvalidParameterException
	require.ErrorAs(t, err, &invalid, "ECS refuses PAUSE hooks at PRODUCTION_TRAFFIC_SHIFT")

	arn := e.deploy(t, v2)
	e.pollSD(t, arn, 20, atStage("POST_TEST_TRAFFIC_SHIFT"))
	assert.Equal(t, "POST_TEST_TRAFFIC_SHIFT", string(e.describeSD(t, arn).LifecycleStage))
}

func TestListServiceDeployments_NewestFirstInPages(t *testing.T) {
	e, v1, v2 := newService(t, blueGreen(awssim.ServiceSpec{}))
	first := e.deploy(t, v2)
	e.pollSD(t, first, 40, hasStatus(types.ServiceDeploymentStatusSuccessful))
	second := e.deploy(t, v1)

	var got []string
	var token *string
	for {
		out, err := e.ecs.ListServiceDeployments(e.ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("main"), Service: aws.String("web"),
			MaxResults: aws.Int32(1), NextToken: token})
		require.NoError(t, err)
		for _, b := range out.ServiceDeployments {
			got = append(got, aws.ToString(b.ServiceDeploymentArn))
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	assert.Equal(t, []string{second, first}, got)

	done, err := e.ecs.ListServiceDeployments(e.ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("main"), Service: aws.String("web"),
		Status: []types.ServiceDeploymentStatus{types.ServiceDeploymentStatusSuccessful}})
	require.NoError(t, err)
	require.Len(t, done.ServiceDeployments, 1)
	b := done.ServiceDeployments[0]
	assert.Equal(t, first, aws.ToString(b.ServiceDeploymentArn))
	assert.NotNil(t, b.FinishedAt)
	assert.Regexp(t, `^arn:aws:ecs:eu-west-1:123456789012:service-revision/main/web/\d{19}$`, aws.ToString(b.TargetServiceRevisionArn))

	_, err = e.ecs.ListServiceDeployments(e.ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("main"), Service: aws.String("nope")})
	var notFound *types.ServiceNotFoundException
	require.ErrorAs(t, err, &notFound)
}
