package awssim_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newService registers api:1 and api:2 and creates service "web" on api:1.
func newService(t *testing.T, spec awssim.ServiceSpec) (e env, v1, v2 string) {
	t.Helper()
	e = newEnv(t)
	v1, v2 = e.registerApp(t, "api"), e.registerApp(t, "api")
	spec.Name, spec.TaskDefinition = "web", v1
	if spec.DesiredCount == 0 {
		spec.DesiredCount = 2
	}
	spec.Subnets = []string{"subnet-1"}
	e.sim.ECS.CreateService("main", spec)
	return e, v1, v2
}

func (e env) update(t *testing.T, td string) types.Deployment {
	t.Helper()
	out, err := e.ecs.UpdateService(e.ctx, &ecs.UpdateServiceInput{Cluster: aws.String("main"), Service: aws.String("web"), TaskDefinition: aws.String(td)})
	require.NoError(t, err)
	return out.Service.Deployments[0]
}

func TestCreateService_StartsSteadyWithOneCompletedDeployment(t *testing.T) {
	e, v1, _ := newService(t, awssim.ServiceSpec{})
	svc := e.describeService(t, "web")
	assert.Equal(t, "ACTIVE", aws.ToString(svc.Status))
	assert.Equal(t, v1, aws.ToString(svc.TaskDefinition))
	assert.Equal(t, int32(2), svc.RunningCount)
	require.Len(t, svc.Deployments, 1)
	d := svc.Deployments[0]
	assert.Equal(t, "PRIMARY", aws.ToString(d.Status))
	assert.Equal(t, types.DeploymentRolloutStateCompleted, d.RolloutState)
	assert.Regexp(t, `^ecs-svc/\d{19}$`, aws.ToString(d.Id))
	assert.Equal(t, []string{"subnet-1"}, svc.NetworkConfiguration.AwsvpcConfiguration.Subnets)

	list, err := e.ecs.ListTasks(e.ctx, &ecs.ListTasksInput{Cluster: aws.String("main"), ServiceName: aws.String("web")})
	require.NoError(t, err)
	require.Len(t, list.TaskArns, 2)
	tasks, err := e.ecs.DescribeTasks(e.ctx, &ecs.DescribeTasksInput{Cluster: aws.String("main"), Tasks: list.TaskArns})
	require.NoError(t, err)
	for _, task := range tasks.Tasks {
		assert.Equal(t, "RUNNING", aws.ToString(task.LastStatus))
		assert.Equal(t, types.HealthStatusHealthy, task.HealthStatus)
		assert.Equal(t, aws.ToString(d.Id), aws.ToString(task.StartedBy))
	}
}

func TestUpdateService_RolloutCompletesAndDrainsOldTasks(t *testing.T) {
	e, v1, v2 := newService(t, awssim.ServiceSpec{CircuitBreaker: true, CircuitBreakerRollback: true})
	d := e.update(t, v2)
	assert.Equal(t, types.DeploymentRolloutStateInProgress, d.RolloutState)
	assert.Equal(t, "ECS deployment "+aws.ToString(d.Id)+" in progress.", aws.ToString(d.RolloutStateReason))

	mid := e.describeService(t, "web")
	require.Len(t, mid.Deployments, 2)
	assert.Equal(t, v1, aws.ToString(mid.Deployments[1].TaskDefinition))
	assert.Equal(t, "ACTIVE", aws.ToString(mid.Deployments[1].Status))

	svc := e.pollService(t, "web", 10, func(s types.Service) bool {
		return s.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted
	})
	require.Len(t, svc.Deployments, 1)
	assert.Equal(t, v2, aws.ToString(svc.Deployments[0].TaskDefinition))
	assert.Equal(t, int32(2), svc.RunningCount)
	assert.Equal(t, int32(0), svc.Deployments[0].FailedTasks)
	msgs := eventMessages(svc)
	assert.Equal(t, "(service web) has reached a steady state.", msgs[0])
	assert.Equal(t, "(service web) (deployment "+aws.ToString(d.Id)+") deployment completed.", msgs[1])
	assert.Regexp(t, `^\(service web\) has stopped 2 running tasks: \(task [0-9a-f]{32}\) \(task [0-9a-f]{32}\)\.$`, msgs[2])
	assert.Contains(t, msgs, "(service web) has started 2 tasks: "+taskList(t, e, d)+".")

	old, err := e.ecs.ListTasks(e.ctx, &ecs.ListTasksInput{Cluster: aws.String("main"), ServiceName: aws.String("web"), DesiredStatus: types.DesiredStatusStopped})
	require.NoError(t, err)
	stopped, err := e.ecs.DescribeTasks(e.ctx, &ecs.DescribeTasksInput{Cluster: aws.String("main"), Tasks: old.TaskArns})
	require.NoError(t, err)
	require.Len(t, stopped.Tasks, 2)
	for _, task := range stopped.Tasks {
		assert.Equal(t, "STOPPED", aws.ToString(task.LastStatus))
		assert.Equal(t, types.TaskStopCodeServiceSchedulerInitiated, task.StopCode)
		assert.Equal(t, v1, aws.ToString(task.TaskDefinitionArn))
	}
}

// taskList renders the running tasks of a deployment as ECS lists them in events.
func taskList(t *testing.T, e env, d types.Deployment) string {
	t.Helper()
	list, err := e.ecs.ListTasks(e.ctx, &ecs.ListTasksInput{Cluster: aws.String("main"), StartedBy: d.Id})
	require.NoError(t, err)
	s := ""
	for i, arn := range list.TaskArns {
		if i > 0 {
			s += " "
		}
		s += "(task " + arn[len(arn)-32:] + ")"
	}
	return s
}

func TestUpdateService_ServicesStableWaiterSucceedsAfterRollout(t *testing.T) {
	e, _, v2 := newService(t, awssim.ServiceSpec{})
	e.update(t, v2)
	w := ecs.NewServicesStableWaiter(e.ecs, func(o *ecs.ServicesStableWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 5*time.Millisecond
	})
	out, err := w.WaitForOutput(e.ctx, &ecs.DescribeServicesInput{Cluster: aws.String("main"), Services: []string{"web"}}, 10*time.Second)
	require.NoError(t, err)
	assert.Equal(t, v2, aws.ToString(out.Services[0].TaskDefinition))
	assert.Len(t, out.Services[0].Deployments, 1)
}

func TestService_UnknownClusterAndServiceAreTypedErrors(t *testing.T) {
	e, _, v2 := newService(t, awssim.ServiceSpec{})
	_, err := e.ecs.UpdateService(e.ctx, &ecs.UpdateServiceInput{Cluster: aws.String("main"), Service: aws.String("ghost"), TaskDefinition: aws.String(v2)})
	assert.True(t, errors.As(err, new(*types.ServiceNotFoundException)), "unknown service: %v", err)
	_, err = e.ecs.UpdateService(e.ctx, &ecs.UpdateServiceInput{Cluster: aws.String("ghost"), Service: aws.String("web"), TaskDefinition: aws.String(v2)})
	assert.True(t, errors.As(err, new(*types.ClusterNotFoundException)), "unknown cluster: %v", err)
	_, err = e.ecs.DescribeServices(e.ctx, &ecs.DescribeServicesInput{Cluster: aws.String("ghost"), Services: []string{"web"}})
	assert.True(t, errors.As(err, new(*types.ClusterNotFoundException)), "unknown cluster: %v", err)
	_, err = e.ecs.UpdateService(e.ctx, &ecs.UpdateServiceInput{Cluster: aws.String("main"), Service: aws.String("web"), TaskDefinition: aws.String("api:7")})
	assert.True(t, errors.As(err, new(*types.InvalidParameterException)), "unknown task definition: %v", err)

	out, err := e.ecs.DescribeServices(e.ctx, &ecs.DescribeServicesInput{Cluster: aws.String("main"), Services: []string{"ghost"}})
	require.NoError(t, err)
	assert.Empty(t, out.Services)
	require.Len(t, out.Failures, 1)
	assert.Equal(t, "MISSING", aws.ToString(out.Failures[0].Reason))
	assert.Equal(t, 1, len(e.describeService(t, "web").Deployments), "nothing changed")
}

func TestDescribeTasks_DoesNotAdvanceServiceTasks(t *testing.T) {
	e, _, v2 := newService(t, awssim.ServiceSpec{DesiredCount: 1})
	d := e.update(t, v2)
	e.describeService(t, "web") // the scheduler starts the new task
	list, err := e.ecs.ListTasks(e.ctx, &ecs.ListTasksInput{Cluster: aws.String("main"), StartedBy: d.Id})
	require.NoError(t, err)
	require.Len(t, list.TaskArns, 1)
	for range 3 {
		task, _ := e.describeTask(t, list.TaskArns[0])
		assert.Equal(t, "PROVISIONING", aws.ToString(task.LastStatus), "service tasks move with DescribeServices only")
	}
	e.sim.ECS.Advance()
	task, _ := e.describeTask(t, list.TaskArns[0])
	assert.Equal(t, "PENDING", aws.ToString(task.LastStatus))
}

func TestUpdateService_DesiredCountScalesWithoutANewDeployment(t *testing.T) {
	e, _, _ := newService(t, awssim.ServiceSpec{DesiredCount: 2})
	out, err := e.ecs.UpdateService(e.ctx, &ecs.UpdateServiceInput{Cluster: aws.String("main"), Service: aws.String("web"), DesiredCount: aws.Int32(3)})
	require.NoError(t, err)
	require.Len(t, out.Service.Deployments, 1)
	svc := e.pollService(t, "web", 5, func(s types.Service) bool { return s.RunningCount == 3 })
	assert.Len(t, svc.Deployments, 1)

	_, err = e.ecs.UpdateService(e.ctx, &ecs.UpdateServiceInput{Cluster: aws.String("main"), Service: aws.String("web"), DesiredCount: aws.Int32(1)})
	require.NoError(t, err)
	e.pollService(t, "web", 5, func(s types.Service) bool { return s.RunningCount == 1 })
}

func TestUpdateService_OtherDeploymentControllersCannotChangeTheTaskDefinition(t *testing.T) {
	for _, ctl := range []string{"CODE_DEPLOY", "EXTERNAL"} {
		t.Run(ctl, func(t *testing.T) {
			e, v1, v2 := newService(t, awssim.ServiceSpec{DeploymentController: ctl})
			svc := e.describeService(t, "web")
			assert.Equal(t, types.DeploymentControllerType(ctl), svc.DeploymentController.Type)
			assert.Empty(t, svc.Deployments, "deployments describe only ECS-controlled services")

			_, err := e.ecs.UpdateService(e.ctx, &ecs.UpdateServiceInput{Cluster: aws.String("main"), Service: aws.String("web"), TaskDefinition: aws.String(v2)})
			var invalid *types.InvalidParameterException
			require.ErrorAs(t, err, &invalid)
			assert.Contains(t, err.Error(), "Unable to update task definition on services with a "+ctl+" deployment controller.")
			assert.Equal(t, v1, aws.ToString(e.describeService(t, "web").TaskDefinition))

			_, err = e.ecs.UpdateService(e.ctx, &ecs.UpdateServiceInput{Cluster: aws.String("main"), Service: aws.String("web"), DesiredCount: aws.Int32(3)})
			require.NoError(t, err, "the desired count can still change")
		})
	}
}
