package awssim_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deploy updates "web" to td and returns the service deployment it started.
func (e env) deploy(t *testing.T, td string) string {
	t.Helper()
	e.update(t, td)
	out, err := e.ecs.ListServiceDeployments(e.ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("main"), Service: aws.String("web")})
	require.NoError(t, err)
	require.NotEmpty(t, out.ServiceDeployments)
	require.Equal(t, types.ServiceDeploymentStatusPending, out.ServiceDeployments[0].Status)
	return aws.ToString(out.ServiceDeployments[0].ServiceDeploymentArn)
}

// describeSD calls DescribeServiceDeployments once (one step).
func (e env) describeSD(t *testing.T, arn string) types.ServiceDeployment {
	t.Helper()
	out, err := e.ecs.DescribeServiceDeployments(e.ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{arn}})
	require.NoError(t, err)
	require.Len(t, out.ServiceDeployments, 1, "failures: %+v", out.Failures)
	return out.ServiceDeployments[0]
}

// stageLog is what a poll saw: each stage once, in order, with the
// target's production and test weights on entering it.
type stageLog struct {
	stages     []string
	prod, test map[string]float64
	count      map[string]int
}

// pollSD describes the deployment until done says so, at most max times.
func (e env) pollSD(t *testing.T, arn string, max int, done func(types.ServiceDeployment) bool) (types.ServiceDeployment, stageLog) {
	t.Helper()
	log := stageLog{prod: map[string]float64{}, test: map[string]float64{}, count: map[string]int{}}
	for range max {
		sd := e.describeSD(t, arn)
		if st := string(sd.LifecycleStage); st != "" {
			if len(log.stages) == 0 || log.stages[len(log.stages)-1] != st {
				log.stages = append(log.stages, st)
				log.prod[st] = aws.ToFloat64(sd.TargetServiceRevision.RequestedProductionTrafficWeight)
				log.test[st] = aws.ToFloat64(sd.TargetServiceRevision.RequestedTestTrafficWeight)
			}
			log.count[st]++
		}
		if done(sd) {
			return sd, log
		}
	}
	t.Fatalf("service deployment did not reach the expected state in %d observations", max)
	return types.ServiceDeployment{}, log
}

func hasStatus(s types.ServiceDeploymentStatus) func(types.ServiceDeployment) bool {
	return func(sd types.ServiceDeployment) bool { return sd.Status == s }
}

func atStage(stage string) func(types.ServiceDeployment) bool {
	return func(sd types.ServiceDeployment) bool { return string(sd.LifecycleStage) == stage }
}

func weights(r *types.ServiceRevisionSummary) [2]float64 {
	return [2]float64{aws.ToFloat64(r.RequestedProductionTrafficWeight), aws.ToFloat64(r.RequestedTestTrafficWeight)}
}

func blueGreen(extra awssim.ServiceSpec) awssim.ServiceSpec {
	extra.Strategy, extra.BakeTimeInMinutes = awssim.StrategyBlueGreen, 5
	extra.CircuitBreaker, extra.CircuitBreakerRollback = true, true
	return extra
}

func TestServiceDeployment_BlueGreenShiftsTestThenProductionTrafficAndSucceeds(t *testing.T) {
	e, v1, v2 := newService(t, blueGreen(awssim.ServiceSpec{}))
	svc := e.describeService(t, "web")
	assert.Equal(t, types.DeploymentStrategyBlueGreen, svc.DeploymentConfiguration.Strategy)
	assert.Equal(t, int32(5), aws.ToInt32(svc.DeploymentConfiguration.BakeTimeInMinutes))

	arn := e.deploy(t, v2)
	assert.Regexp(t, `^arn:aws:ecs:eu-west-1:123456789012:service-deployment/main/web/[A-Za-z0-9_-]{22}$`, arn)
	mid := e.describeService(t, "web") // the observation that enters PRE_SCALE_UP
	require.Len(t, mid.Deployments, 2)
	assert.Equal(t, v2, aws.ToString(mid.Deployments[0].TaskDefinition))
	assert.Equal(t, "PRIMARY", aws.ToString(mid.Deployments[0].Status))
	assert.Equal(t, v1, aws.ToString(mid.Deployments[1].TaskDefinition))

	sd, log := e.pollSD(t, arn, 40, hasStatus(types.ServiceDeploymentStatusSuccessful))
	assert.Equal(t, []string{"SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT",
		"PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"}, log.stages)
	assert.Equal(t, 0.0, log.test["TEST_TRAFFIC_SHIFT"])
	assert.Equal(t, 100.0, log.test["POST_TEST_TRAFFIC_SHIFT"], "test traffic on green once shifted")
	assert.Equal(t, 0.0, log.prod["PRE_PRODUCTION_TRAFFIC_SHIFT"], "production untouched until its shift")
	assert.Equal(t, 100.0, log.prod["PRODUCTION_TRAFFIC_SHIFT"])
	assert.Equal(t, awssim.BakeObservations, log.count["BAKE_TIME"])

	assert.NotNil(t, sd.FinishedAt)
	assert.NotNil(t, sd.StartedAt)
	assert.Equal(t, [2]float64{100, 100}, weights(sd.TargetServiceRevision))
	require.Len(t, sd.SourceServiceRevisions, 1)
	assert.Equal(t, [2]float64{0, 0}, weights(&sd.SourceServiceRevisions[0]))
	assert.Equal(t, int32(2), sd.TargetServiceRevision.RunningTaskCount)
	assert.Equal(t, types.ServiceDeploymentRollbackMonitorsStatusMonitoringComplete, sd.DeploymentCircuitBreaker.Status)

	svc = e.describeService(t, "web")
	assert.Equal(t, v2, aws.ToString(svc.TaskDefinition))
	require.Len(t, svc.Deployments, 1)
	assert.Equal(t, types.DeploymentRolloutStateCompleted, svc.Deployments[0].RolloutState)
	assert.Equal(t, int32(2), svc.RunningCount, "blue's tasks were stopped in CLEAN_UP")
}

func TestServiceDeployment_PauseHookHoldsUntilContinue(t *testing.T) {
	e, _, v2 := newService(t, blueGreen(awssim.ServiceSpec{PauseAt: []string{"POST_TEST_TRAFFIC_SHIFT"}}))
	hooks := e.describeService(t, "web").DeploymentConfiguration.LifecycleHooks
	require.Len(t, hooks, 1)
	assert.Equal(t, types.DeploymentLifecycleHookTargetTypePause, hooks[0].TargetType)
	assert.Equal(t, []types.DeploymentLifecycleHookStage{"POST_TEST_TRAFFIC_SHIFT"}, hooks[0].LifecycleStages)

	arn := e.deploy(t, v2)
	sd, _ := e.pollSD(t, arn, 20, atStage("POST_TEST_TRAFFIC_SHIFT"))
	require.Len(t, sd.LifecycleHookDetails, 1)
	h := sd.LifecycleHookDetails[0]
	assert.Equal(t, types.DeploymentLifecycleHookStatusAwaitingAction, h.Status)
	assert.Equal(t, types.DeploymentLifecycleHookTargetTypePause, h.TargetType)
	assert.Equal(t, types.DeploymentLifecycleHookActionRollback, h.TimeoutAction)
	assert.True(t, h.ExpiresAt.After(aws.ToTime(sd.UpdatedAt)))
	for range 5 {
		sd = e.describeSD(t, arn)
	}
	assert.Equal(t, "POST_TEST_TRAFFIC_SHIFT", string(sd.LifecycleStage), "a PAUSE hook holds the deployment")
	assert.Equal(t, [2]float64{0, 100}, weights(sd.TargetServiceRevision), "green has test traffic only")

	_, err := e.ecs.ContinueServiceDeployment(e.ctx, &ecs.ContinueServiceDeploymentInput{ServiceDeploymentArn: &arn, HookId: aws.String("not-the-hook")})
	var invalid *types.InvalidParameterException
	require.ErrorAs(t, err, &invalid)

	_, err = e.ecs.ContinueServiceDeployment(e.ctx, &ecs.ContinueServiceDeploymentInput{ServiceDeploymentArn: &arn, HookId: h.HookId,
		Action: types.DeploymentLifecycleHookActionContinue})
	require.NoError(t, err)
	_, err = e.ecs.ContinueServiceDeployment(e.ctx, &ecs.ContinueServiceDeploymentInput{ServiceDeploymentArn: &arn, HookId: h.HookId})
	require.ErrorAs(t, err, &invalid, "a hook is continued once")

	sd = e.describeSD(t, arn)
	assert.Equal(t, "PRE_PRODUCTION_TRAFFIC_SHIFT", string(sd.LifecycleStage))
	sd, _ = e.pollSD(t, arn, 20, hasStatus(types.ServiceDeploymentStatusSuccessful))
	assert.Equal(t, [2]float64{100, 100}, weights(sd.TargetServiceRevision))
}

// rolledBack checks a deployment ended ROLLBACK_SUCCESSFUL with all traffic
// and the service back on v1.
func (e env) rolledBack(t *testing.T, arn, v1, reason string) types.ServiceDeployment {
	t.Helper()
	sd, _ := e.pollSD(t, arn, 20, hasStatus(types.ServiceDeploymentStatusRollbackSuccessful))
	assert.Contains(t, aws.ToString(sd.StatusReason), reason)
	assert.NotNil(t, sd.FinishedAt)
	require.NotNil(t, sd.Rollback)
	assert.Equal(t, aws.ToString(sd.SourceServiceRevisions[0].Arn), aws.ToString(sd.Rollback.ServiceRevisionArn))
	assert.Equal(t, [2]float64{100, 100}, weights(&sd.SourceServiceRevisions[0]))
	assert.Equal(t, [2]float64{0, 0}, weights(sd.TargetServiceRevision))
	svc := e.describeService(t, "web")
	assert.Equal(t, v1, aws.ToString(svc.TaskDefinition))
	require.Len(t, svc.Deployments, 1)
	assert.Equal(t, v1, aws.ToString(svc.Deployments[0].TaskDefinition))
	assert.Equal(t, types.DeploymentRolloutStateCompleted, svc.Deployments[0].RolloutState)
	assert.Equal(t, int32(2), svc.RunningCount)
	return sd
}

func TestServiceDeployment_ContinueWithRollbackRollsBack(t *testing.T) {
	e, v1, v2 := newService(t, blueGreen(awssim.ServiceSpec{PauseAt: []string{"POST_TEST_TRAFFIC_SHIFT"}}))
	arn := e.deploy(t, v2)
	sd, _ := e.pollSD(t, arn, 20, atStage("POST_TEST_TRAFFIC_SHIFT"))
	_, err := e.ecs.ContinueServiceDeployment(e.ctx, &ecs.ContinueServiceDeploymentInput{ServiceDeploymentArn: &arn,
		HookId: sd.LifecycleHookDetails[0].HookId, Action: types.DeploymentLifecycleHookActionRollback})
	require.NoError(t, err)

	sd = e.describeSD(t, arn)
	assert.Equal(t, types.ServiceDeploymentStatusRollbackInProgress, sd.Status)
	e.rolledBack(t, arn, v1, "ContinueServiceDeployment")

	_, err = e.ecs.StopServiceDeployment(e.ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: &arn, StopType: types.StopServiceDeploymentStopTypeRollback})
	var conflict *types.ConflictException
	require.ErrorAs(t, err, &conflict, "a finished deployment cannot be stopped")
}

func TestServiceDeployment_StopWithRollbackAfterProductionShiftRollsBack(t *testing.T) {
	e, v1, v2 := newService(t, blueGreen(awssim.ServiceSpec{}))
	arn := e.deploy(t, v2)
	sd, _ := e.pollSD(t, arn, 20, atStage("BAKE_TIME"))
	assert.Equal(t, [2]float64{100, 100}, weights(sd.TargetServiceRevision))

	out, err := e.ecs.StopServiceDeployment(e.ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: &arn, StopType: types.StopServiceDeploymentStopTypeRollback})
	require.NoError(t, err)
	assert.Equal(t, arn, aws.ToString(out.ServiceDeploymentArn))
	list, err := e.ecs.ListServiceDeployments(e.ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("main"), Service: aws.String("web"),
		Status: []types.ServiceDeploymentStatus{types.ServiceDeploymentStatusRollbackRequested}})
	require.NoError(t, err)
	require.Len(t, list.ServiceDeployments, 1)
	assert.Equal(t, arn, aws.ToString(list.ServiceDeployments[0].ServiceDeploymentArn))

	e.rolledBack(t, arn, v1, "StopServiceDeployment")
}

func TestServiceDeployment_FailingGreenTripsTheCircuitBreakerAndRollsBack(t *testing.T) {
	behaviors := map[string]awssim.TaskBehavior{
		"never healthy": {Unhealthy: true},
		"crashing":      {ExitCodes: map[string]int{"app": 1}}, // healthy for a moment, then replaced
	}
	for name, b := range behaviors {
		t.Run(name, func(t *testing.T) {
			e, v1, v2 := newService(t, blueGreen(awssim.ServiceSpec{}))
			failingRevision(e, &v2, b)
			arn := e.deploy(t, v2)
			sd := e.rolledBack(t, arn, v1, "circuit breaker")
			assert.Equal(t, types.ServiceDeploymentRollbackMonitorsStatusTriggered, sd.DeploymentCircuitBreaker.Status)
			assert.GreaterOrEqual(t, sd.DeploymentCircuitBreaker.FailureCount, int32(awssim.CircuitBreakerThreshold))
			assert.NotContains(t, []string{"PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"},
				string(sd.LifecycleStage), "it failed before production traffic moved")
		})
	}
}

func TestServiceDeployment_UnknownAndFinishedDeploymentsAreRefusedAsECSDoes(t *testing.T) {
	e, _, v2 := newService(t, blueGreen(awssim.ServiceSpec{}))
	arn := e.deploy(t, v2)
	e.pollSD(t, arn, 40, hasStatus(types.ServiceDeploymentStatusSuccessful))

	unknown := arn[:len(arn)-3] + "zzz"
	out, err := e.ecs.DescribeServiceDeployments(e.ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{arn, unknown}})
	require.NoError(t, err)
	require.Len(t, out.ServiceDeployments, 1)
	assert.Equal(t, []types.Failure{{Arn: aws.String(unknown), Reason: aws.String("MISSING")}}, out.Failures)

	_, err = e.ecs.StopServiceDeployment(e.ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: &unknown})
	var notFound *types.ServiceDeploymentNotFoundException
	require.ErrorAs(t, err, &notFound)
	_, err = e.ecs.StopServiceDeployment(e.ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: &arn})
	var conflict *types.ConflictException
	require.ErrorAs(t, err, &conflict)
	_, err = e.ecs.ContinueServiceDeployment(e.ctx, &ecs.ContinueServiceDeploymentInput{ServiceDeploymentArn: &arn, HookId: aws.String("h")})
	var invalid *types.InvalidParameterException
	require.True(t, errors.As(err, &invalid), "continuing a deployment that is not paused: %v", err)
}
