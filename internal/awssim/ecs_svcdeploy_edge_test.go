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

func TestServiceDeployment_CircuitBreakerWithoutRollbackStopsTheDeployment(t *testing.T) {
	e, v1, v2 := newService(t, awssim.ServiceSpec{Strategy: awssim.StrategyBlueGreen, CircuitBreaker: true})
	failingRevision(e, &v2, awssim.TaskBehavior{Unhealthy: true})
	arn := e.deploy(t, v2)
	sd, _ := e.pollSD(t, arn, 30, hasStatus(types.ServiceDeploymentStatusStopped))
	assert.NotNil(t, sd.StoppedAt)
	assert.Nil(t, sd.Rollback)
	assert.Contains(t, aws.ToString(sd.StatusReason), "circuit breaker")
	assert.Equal(t, [2]float64{100, 100}, weights(&sd.SourceServiceRevisions[0]), "production never left blue")
	svc := e.describeService(t, "web")
	require.Len(t, svc.Deployments, 2)
	assert.Equal(t, types.DeploymentRolloutStateFailed, svc.Deployments[0].RolloutState)
	assert.Equal(t, v1, aws.ToString(svc.Deployments[1].TaskDefinition))
	assert.Equal(t, int32(2), svc.Deployments[1].RunningCount, "blue keeps serving")
}

func TestServiceDeployment_RollbackDuringCleanUpStartsBlueAgain(t *testing.T) {
	e, v1, v2 := newService(t, blueGreen(awssim.ServiceSpec{}))
	arn := e.deploy(t, v2)
	e.pollSD(t, arn, 30, atStage("CLEAN_UP"))
	_, err := e.ecs.StopServiceDeployment(e.ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: &arn})
	require.NoError(t, err)
	e.rolledBack(t, arn, v1, "StopServiceDeployment")
}

func TestServiceDeployment_ANewUpdateStopsTheOneInProgress(t *testing.T) {
	e, _, v2 := newService(t, blueGreen(awssim.ServiceSpec{}))
	first := e.deploy(t, v2)
	e.pollSD(t, first, 10, atStage("POST_SCALE_UP"))
	v3 := e.registerApp(t, "api")
	second := e.deploy(t, v3)

	sd := e.describeSD(t, first)
	assert.Equal(t, types.ServiceDeploymentStatusStopped, sd.Status)
	sd, _ = e.pollSD(t, second, 40, hasStatus(types.ServiceDeploymentStatusSuccessful))
	assert.Equal(t, e.describeSD(t, first).SourceServiceRevisions[0].Arn, sd.SourceServiceRevisions[0].Arn, "the new one starts from what serves production")
	svc := e.describeService(t, "web")
	assert.Equal(t, v3, aws.ToString(svc.TaskDefinition))
	require.Len(t, svc.Deployments, 1)
	assert.Equal(t, int32(2), svc.RunningCount)
}
