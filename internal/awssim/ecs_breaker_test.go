package awssim_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failingRevision makes tasks of td behave as b and every other revision healthy.
func failingRevision(e env, td *string, b awssim.TaskBehavior) {
	e.sim.ECS.OnServiceTask(func(arn string) awssim.TaskBehavior {
		if arn == *td {
			return b
		}
		return awssim.TaskBehavior{}
	})
}

func containsPrefix(msgs []string, prefix string) bool {
	for _, m := range msgs {
		if strings.HasPrefix(m, prefix) {
			return true
		}
	}
	return false
}

func TestCircuitBreaker_FailsTheDeploymentAndRollsBack(t *testing.T) {
	behaviors := map[string]awssim.TaskBehavior{
		"unhealthy":     {Unhealthy: true},
		"never running": {NeverRunning: true, StoppedReason: "CannotPullContainerError: pull image manifest has been retried 5 time(s)"},
		"crashing":      {ExitCodes: map[string]int{"app": 1}},
	}
	for name, b := range behaviors {
		t.Run(name, func(t *testing.T) {
			e, v1, v2 := newService(t, awssim.ServiceSpec{CircuitBreaker: true, CircuitBreakerRollback: true})
			failingRevision(e, &v2, b)
			failed := e.update(t, v2)

			svc := e.pollService(t, "web", 40, func(s types.Service) bool {
				return len(s.Deployments) > 1 && s.Deployments[1].RolloutState == types.DeploymentRolloutStateFailed
			})
			assert.Equal(t, aws.ToString(failed.Id), aws.ToString(svc.Deployments[1].Id))
			assert.Equal(t, "ECS deployment circuit breaker: tasks failed to start.", aws.ToString(svc.Deployments[1].RolloutStateReason))
			assert.GreaterOrEqual(t, svc.Deployments[1].FailedTasks, int32(awssim.CircuitBreakerThreshold))
			assert.Equal(t, v1, aws.ToString(svc.Deployments[0].TaskDefinition), "ECS rolls back to the previous revision")
			assert.Equal(t, v1, aws.ToString(svc.TaskDefinition))
			msgs := eventMessages(svc)
			assert.True(t, containsPrefix(msgs, "(service web) rolling back to deployment ecs-svc/"), "events: %q", msgs)
			if b.Unhealthy {
				assert.True(t, containsPrefix(msgs, "(service web) (task "), "events: %q", msgs)
				assert.Contains(t, msgs[len(msgs)-3], "failed container health checks.")
			}

			done := e.pollService(t, "web", 10, func(s types.Service) bool {
				return s.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted
			})
			require.Len(t, done.Deployments, 1)
			assert.Equal(t, v1, aws.ToString(done.Deployments[0].TaskDefinition))
			assert.Equal(t, int32(2), done.RunningCount)
		})
	}
}

func TestCircuitBreaker_WithoutRollbackLeavesTheOldDeploymentRunning(t *testing.T) {
	e, v1, v2 := newService(t, awssim.ServiceSpec{CircuitBreaker: true})
	failingRevision(e, &v2, awssim.TaskBehavior{Unhealthy: true})
	e.update(t, v2)

	svc := e.pollService(t, "web", 40, func(s types.Service) bool {
		return s.Deployments[0].RolloutState == types.DeploymentRolloutStateFailed
	})
	require.Len(t, svc.Deployments, 2)
	assert.Equal(t, v2, aws.ToString(svc.Deployments[0].TaskDefinition))
	assert.Equal(t, v1, aws.ToString(svc.Deployments[1].TaskDefinition))
	for range 5 {
		svc = e.describeService(t, "web")
	}
	assert.Equal(t, types.DeploymentRolloutStateFailed, svc.Deployments[0].RolloutState, "a failed deployment stays failed")
	assert.Equal(t, int32(2), svc.Deployments[1].RunningCount, "the old tasks keep serving")
	assert.Equal(t, int32(0), svc.Deployments[0].RunningCount)

	// The engine's own rollback: update back to v1 and wait.
	e.update(t, v1)
	done := e.pollService(t, "web", 10, func(s types.Service) bool {
		return s.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted
	})
	require.Len(t, done.Deployments, 1)
	assert.Equal(t, v1, aws.ToString(done.TaskDefinition))
}

func TestNoCircuitBreaker_ReplacesFailingTasksForever(t *testing.T) {
	e, _, v2 := newService(t, awssim.ServiceSpec{DesiredCount: 1})
	failingRevision(e, &v2, awssim.TaskBehavior{Unhealthy: true})
	e.update(t, v2)
	var svc types.Service
	for range 30 {
		svc = e.describeService(t, "web")
	}
	require.Len(t, svc.Deployments, 2)
	assert.Equal(t, types.DeploymentRolloutStateInProgress, svc.Deployments[0].RolloutState)
	assert.Greater(t, svc.Deployments[0].FailedTasks, int32(awssim.CircuitBreakerThreshold))
	assert.Equal(t, int32(1), svc.Deployments[1].RunningCount, "the old task keeps serving")

	stopped, err := e.ecs.ListTasks(e.ctx, &ecs.ListTasksInput{Cluster: aws.String("main"), StartedBy: svc.Deployments[0].Id, DesiredStatus: types.DesiredStatusStopped})
	require.NoError(t, err)
	require.NotEmpty(t, stopped.TaskArns)
	tasks, err := e.ecs.DescribeTasks(e.ctx, &ecs.DescribeTasksInput{Cluster: aws.String("main"), Tasks: stopped.TaskArns[:1]})
	require.NoError(t, err)
	assert.Equal(t, types.TaskStopCodeServiceSchedulerInitiated, tasks.Tasks[0].StopCode)
	assert.Equal(t, "Task failed container health checks", aws.ToString(tasks.Tasks[0].StoppedReason))
}

func TestCircuitBreaker_RollsBackToTheLastCompletedDeploymentNotTheOneItReplaced(t *testing.T) {
	e, v1, v2 := newService(t, awssim.ServiceSpec{CircuitBreaker: true, CircuitBreakerRollback: true})
	v3 := e.registerApp(t, "api")
	failingRevision(e, &v3, awssim.TaskBehavior{Unhealthy: true})
	e.update(t, v2) // still IN_PROGRESS when v3 replaces it
	e.update(t, v3)

	svc := e.pollService(t, "web", 40, func(s types.Service) bool {
		return len(s.Deployments) > 1 && s.Deployments[1].RolloutState == types.DeploymentRolloutStateFailed
	})
	assert.Equal(t, v1, aws.ToString(svc.Deployments[0].TaskDefinition), "v1 is the last deployment that completed; v2 never did")
}
