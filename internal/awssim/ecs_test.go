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

func TestTaskDefinition_KeepsEveryFieldRevisionsAndTags(t *testing.T) {
	e := newEnv(t)
	first := e.registerApp(t, "api")
	second := e.registerApp(t, "api")
	assert.Equal(t, "arn:aws:ecs:eu-west-1:123456789012:task-definition/api:1", first)
	assert.Equal(t, "arn:aws:ecs:eu-west-1:123456789012:task-definition/api:2", second)

	out, err := e.ecs.DescribeTaskDefinition(e.ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String("api"), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags},
	})
	require.NoError(t, err)
	td := out.TaskDefinition
	assert.Equal(t, second, aws.ToString(td.TaskDefinitionArn), "a bare family resolves to the latest ACTIVE revision")
	assert.Equal(t, int32(2), td.Revision)
	assert.Equal(t, types.TaskDefinitionStatusActive, td.Status)
	assert.Equal(t, types.NetworkModeAwsvpc, td.NetworkMode)
	assert.Equal(t, "arn:aws:iam::123456789012:role/exec", aws.ToString(td.ExecutionRoleArn))
	assert.Contains(t, td.Compatibilities, types.CompatibilityFargate)
	assert.NotNil(t, td.RegisteredAt)
	require.Len(t, td.ContainerDefinitions, 2)
	app := td.ContainerDefinitions[0]
	assert.Equal(t, "DB_URL", aws.ToString(app.Secrets[0].Name))
	assert.Equal(t, "/ecs/api", app.LogConfiguration.Options["awslogs-group"])
	assert.NotEmpty(t, td.RequiresAttributes)
	require.Len(t, out.Tags, 1)
	assert.Equal(t, "abc123", aws.ToString(out.Tags[0].Value))

	_, err = e.ecs.DeregisterTaskDefinition(e.ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(first)})
	require.NoError(t, err)
	old, err := e.ecs.DescribeTaskDefinition(e.ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("api:1")})
	require.NoError(t, err)
	assert.Equal(t, types.TaskDefinitionStatusInactive, old.TaskDefinition.Status)

	var active []string
	p := ecs.NewListTaskDefinitionsPaginator(e.ecs, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("api"), MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(e.ctx)
		require.NoError(t, err)
		active = append(active, page.TaskDefinitionArns...)
	}
	assert.Equal(t, []string{second}, active)
	inactive, err := e.ecs.ListTaskDefinitions(e.ctx, &ecs.ListTaskDefinitionsInput{Status: types.TaskDefinitionStatusInactive})
	require.NoError(t, err)
	assert.Equal(t, []string{first}, inactive.TaskDefinitionArns)
	third := e.registerApp(t, "api")
	desc, err := e.ecs.ListTaskDefinitions(e.ctx, &ecs.ListTaskDefinitionsInput{Sort: types.SortOrderDesc})
	require.NoError(t, err)
	assert.Equal(t, []string{third, second}, desc.TaskDefinitionArns)
}

func TestTaskDefinition_RejectsWhatECSRejects(t *testing.T) {
	e := newEnv(t)
	c := func(name, image string) []types.ContainerDefinition {
		return []types.ContainerDefinition{{Name: aws.String(name), Image: aws.String(image)}}
	}
	tests := []struct {
		name string
		in   ecs.RegisterTaskDefinitionInput
		want string
	}{
		{"no containers", ecs.RegisterTaskDefinitionInput{Family: aws.String("x"), ContainerDefinitions: []types.ContainerDefinition{}}, "Container list cannot be empty"},
		{"no image", ecs.RegisterTaskDefinitionInput{Family: aws.String("x"), ContainerDefinitions: c("app", "")}, "Container.image"},
		{"fargate without awsvpc", ecs.RegisterTaskDefinitionInput{Family: aws.String("x"), ContainerDefinitions: c("app", "i"),
			RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate}, NetworkMode: types.NetworkModeBridge}, "awsvpc"},
		{"fargate without cpu", ecs.RegisterTaskDefinitionInput{Family: aws.String("x"), ContainerDefinitions: c("app", "i"),
			RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate}, NetworkMode: types.NetworkModeAwsvpc}, "'cpu'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.ecs.RegisterTaskDefinition(e.ctx, &tt.in)
			var ce *types.ClientException
			require.ErrorAs(t, err, &ce)
			assert.Contains(t, ce.ErrorMessage(), tt.want)
		})
	}
	_, err := e.ecs.DescribeTaskDefinition(e.ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("nope:1")})
	assert.True(t, errors.As(err, new(*types.ClientException)), "unknown task definition: %v", err)
}

func TestDescribeClusters_ReportsUnknownClustersAsMissing(t *testing.T) {
	e := newEnv(t)
	arn := e.sim.ECS.CreateCluster("main")
	out, err := e.ecs.DescribeClusters(e.ctx, &ecs.DescribeClustersInput{Clusters: []string{"main", "ghost"}})
	require.NoError(t, err)
	require.Len(t, out.Clusters, 1)
	assert.Equal(t, arn, aws.ToString(out.Clusters[0].ClusterArn))
	assert.Equal(t, "ACTIVE", aws.ToString(out.Clusters[0].Status))
	require.Len(t, out.Failures, 1)
	assert.Equal(t, "MISSING", aws.ToString(out.Failures[0].Reason))
	assert.Equal(t, "arn:aws:ecs:eu-west-1:123456789012:cluster/ghost", aws.ToString(out.Failures[0].Arn))
}

func (e env) runTask(t *testing.T, td string, mutate ...func(*ecs.RunTaskInput)) types.Task {
	t.Helper()
	in := &ecs.RunTaskInput{Cluster: aws.String("main"), TaskDefinition: aws.String(td),
		LaunchType: types.LaunchTypeFargate, NetworkConfiguration: awsvpc, StartedBy: aws.String("esteira"), Group: aws.String("migration")}
	for _, m := range mutate {
		m(in)
	}
	out, err := e.ecs.RunTask(e.ctx, in)
	require.NoError(t, err)
	require.Len(t, out.Tasks, 1)
	return out.Tasks[0]
}

func TestRunTask_GoesThroughEveryLifecycleStepAndExitsWithScriptedCodes(t *testing.T) {
	e := newEnv(t)
	e.sim.ECS.CreateCluster("main")
	td := e.registerApp(t, "api")
	var seen awssim.RunTaskCall
	e.sim.ECS.OnRunTask(func(c awssim.RunTaskCall) awssim.TaskBehavior {
		seen = c
		return awssim.TaskBehavior{ExitCodes: map[string]int{"app": 3}}
	})
	task := e.runTask(t, td, func(in *ecs.RunTaskInput) {
		in.Overrides = &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{Name: aws.String("app"), Command: []string{"migrate", "up"}}}}
	})
	assert.Equal(t, "PROVISIONING", aws.ToString(task.LastStatus))
	assert.Equal(t, awssim.RunTaskCall{TaskDefinitionArn: td, Command: map[string][]string{"app": {"migrate", "up"}},
		StartedBy: "esteira", Group: "migration"}, seen)

	var statuses []string
	var last *types.Task
	for range 4 {
		last, _ = e.describeTask(t, aws.ToString(task.TaskArn))
		require.NotNil(t, last)
		statuses = append(statuses, aws.ToString(last.LastStatus))
	}
	assert.Equal(t, []string{"PENDING", "RUNNING", "DEPROVISIONING", "STOPPED"}, statuses)
	assert.Equal(t, types.TaskStopCodeEssentialContainerExited, last.StopCode)
	assert.Equal(t, "Essential container in task exited", aws.ToString(last.StoppedReason))
	assert.Equal(t, "STOPPED", aws.ToString(last.DesiredStatus))
	assert.Equal(t, "migration", aws.ToString(last.Group))
	assert.Equal(t, "migrate", last.Overrides.ContainerOverrides[0].Command[0])
	require.Len(t, last.Containers, 2)
	assert.Equal(t, int32(3), aws.ToInt32(last.Containers[0].ExitCode))
	assert.Equal(t, int32(0), aws.ToInt32(last.Containers[1].ExitCode))
	require.NotNil(t, last.Containers[1].ExitCode)
	require.NotNil(t, last.StoppedAt)
	assert.False(t, last.StoppedAt.Before(*last.StartedAt))
	assert.True(t, last.StartedAt.After(*last.CreatedAt))
}

func TestRunTask_TasksStoppedWaiterSeesTheEnd(t *testing.T) {
	e := newEnv(t)
	e.sim.ECS.CreateCluster("main")
	task := e.runTask(t, e.registerApp(t, "api"))
	w := ecs.NewTasksStoppedWaiter(e.ecs, func(o *ecs.TasksStoppedWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 5*time.Millisecond
	})
	out, err := w.WaitForOutput(e.ctx, &ecs.DescribeTasksInput{Cluster: aws.String("main"), Tasks: []string{aws.ToString(task.TaskArn)}}, 10*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "STOPPED", aws.ToString(out.Tasks[0].LastStatus))
}

func TestRunTask_FailureKnobs(t *testing.T) {
	pullErr := "CannotPullContainerError: pull image manifest has been retried 5 time(s): not found"
	tests := []struct {
		name       string
		behavior   awssim.TaskBehavior
		statuses   []string
		stopCode   types.TaskStopCode
		reason     string
		noExitCode bool
	}{
		{"never running", awssim.TaskBehavior{NeverRunning: true, StoppedReason: pullErr},
			[]string{"PENDING", "STOPPED"}, types.TaskStopCodeTaskFailedToStart, pullErr, true},
		{"no exit code", awssim.TaskBehavior{NoExitCode: true, StopCode: "TaskFailedToStart", StoppedReason: "ResourceInitializationError: unable to pull secrets"},
			[]string{"PENDING", "RUNNING", "DEPROVISIONING", "STOPPED"}, types.TaskStopCodeTaskFailedToStart, "ResourceInitializationError: unable to pull secrets", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.sim.ECS.CreateCluster("main")
			e.sim.ECS.OnRunTask(func(awssim.RunTaskCall) awssim.TaskBehavior { return tt.behavior })
			arn := aws.ToString(e.runTask(t, e.registerApp(t, "api")).TaskArn)
			var statuses []string
			var last *types.Task
			for range len(tt.statuses) {
				last, _ = e.describeTask(t, arn)
				statuses = append(statuses, aws.ToString(last.LastStatus))
			}
			assert.Equal(t, tt.statuses, statuses)
			assert.Equal(t, tt.stopCode, last.StopCode)
			assert.Equal(t, tt.reason, aws.ToString(last.StoppedReason))
			for _, c := range last.Containers {
				assert.Equal(t, tt.noExitCode, c.ExitCode == nil, "container %s exit code", aws.ToString(c.Name))
			}
		})
	}
}

func TestRunTask_VanishedTaskIsReportedMissing(t *testing.T) {
	e := newEnv(t)
	e.sim.ECS.CreateCluster("main")
	e.sim.ECS.OnRunTask(func(awssim.RunTaskCall) awssim.TaskBehavior { return awssim.TaskBehavior{Vanish: true} })
	arn := aws.ToString(e.runTask(t, e.registerApp(t, "api")).TaskArn)

	task, failures := e.describeTask(t, arn)
	require.NotNil(t, task)
	assert.Equal(t, "PENDING", aws.ToString(task.LastStatus))
	assert.Empty(t, failures)

	task, failures = e.describeTask(t, arn)
	assert.Nil(t, task)
	require.Len(t, failures, 1)
	assert.Equal(t, "MISSING", aws.ToString(failures[0].Reason))
	assert.Equal(t, arn, aws.ToString(failures[0].Arn))
}

func TestRunTask_ClientTokenIsIdempotent(t *testing.T) {
	e := newEnv(t)
	e.sim.ECS.CreateCluster("main")
	td := e.registerApp(t, "api")
	token := func(in *ecs.RunTaskInput) { in.ClientToken = aws.String("deploy-42-migrate") }
	first := e.runTask(t, td, token)
	again := e.runTask(t, td, token)
	assert.Equal(t, aws.ToString(first.TaskArn), aws.ToString(again.TaskArn))
	other := e.runTask(t, td)
	assert.NotEqual(t, aws.ToString(first.TaskArn), aws.ToString(other.TaskArn))
	assert.Equal(t, 3, e.sim.Count("ecs", "RunTask"), "three calls served, one task reused")

	_, err := e.ecs.RunTask(e.ctx, &ecs.RunTaskInput{Cluster: aws.String("main"), TaskDefinition: aws.String(td),
		NetworkConfiguration: awsvpc, ClientToken: aws.String("deploy-42-migrate"), Count: aws.Int32(2)})
	assert.True(t, errors.As(err, new(*types.InvalidParameterException)), "token reused with other parameters: %v", err)
}

func TestRunTask_RejectsBadInputBeforeStartingAnything(t *testing.T) {
	e := newEnv(t)
	e.sim.ECS.CreateCluster("main")
	td := e.registerApp(t, "api")
	tests := []struct {
		name   string
		mutate func(*ecs.RunTaskInput)
		target any
	}{
		{"unknown cluster", func(in *ecs.RunTaskInput) { in.Cluster = aws.String("ghost") }, new(*types.ClusterNotFoundException)},
		{"unknown task definition", func(in *ecs.RunTaskInput) { in.TaskDefinition = aws.String("api:9") }, new(*types.InvalidParameterException)},
		{"awsvpc without network configuration", func(in *ecs.RunTaskInput) { in.NetworkConfiguration = nil }, new(*types.InvalidParameterException)},
		{"launch type and capacity providers", func(in *ecs.RunTaskInput) {
			in.CapacityProviderStrategy = []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE_SPOT")}}
		}, new(*types.InvalidParameterException)},
		{"override of an unknown container", func(in *ecs.RunTaskInput) {
			in.Overrides = &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{Name: aws.String("ghost"), Command: []string{"x"}}}}
		}, new(*types.InvalidParameterException)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &ecs.RunTaskInput{Cluster: aws.String("main"), TaskDefinition: aws.String(td),
				LaunchType: types.LaunchTypeFargate, NetworkConfiguration: awsvpc}
			tt.mutate(in)
			_, err := e.ecs.RunTask(e.ctx, in)
			require.Error(t, err)
			assert.True(t, errors.As(err, tt.target), "got %v", err)
		})
	}
	list, err := e.ecs.ListTasks(e.ctx, &ecs.ListTasksInput{Cluster: aws.String("main")})
	require.NoError(t, err)
	assert.Empty(t, list.TaskArns, "no task started")
}

func TestListTasksAndStopTask_FilterAndStopAUserTask(t *testing.T) {
	e := newEnv(t)
	e.sim.ECS.CreateCluster("main")
	td := e.registerApp(t, "api")
	var arns []string
	for range 3 {
		arns = append(arns, aws.ToString(e.runTask(t, td).TaskArn))
	}
	e.runTask(t, td, func(in *ecs.RunTaskInput) { in.StartedBy = aws.String("someone-else") })

	var listed []string
	p := ecs.NewListTasksPaginator(e.ecs, &ecs.ListTasksInput{Cluster: aws.String("main"), StartedBy: aws.String("esteira"), MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(e.ctx)
		require.NoError(t, err)
		listed = append(listed, page.TaskArns...)
	}
	assert.Equal(t, arns, listed)

	e.sim.ECS.Advance()
	e.sim.ECS.Advance() // RUNNING
	out, err := e.ecs.StopTask(e.ctx, &ecs.StopTaskInput{Cluster: aws.String("main"), Task: aws.String(arns[0]), Reason: aws.String("superseded")})
	require.NoError(t, err)
	assert.Equal(t, types.TaskStopCodeUserInitiated, out.Task.StopCode)
	assert.Equal(t, "superseded", aws.ToString(out.Task.StoppedReason))
	assert.Equal(t, int32(143), aws.ToInt32(out.Task.Containers[0].ExitCode))

	stopped, err := e.ecs.ListTasks(e.ctx, &ecs.ListTasksInput{Cluster: aws.String("main"), DesiredStatus: types.DesiredStatusStopped})
	require.NoError(t, err)
	assert.Equal(t, []string{arns[0]}, stopped.TaskArns)

	_, err = e.ecs.StopTask(e.ctx, &ecs.StopTaskInput{Cluster: aws.String("main"), Task: aws.String("0123")})
	assert.True(t, errors.As(err, new(*types.InvalidParameterException)), "unknown task: %v", err)
	_, err = e.ecs.ListTasks(e.ctx, &ecs.ListTasksInput{Cluster: aws.String("main"), ServiceName: aws.String("ghost")})
	assert.True(t, errors.As(err, new(*types.ServiceNotFoundException)), "unknown service: %v", err)
}

func TestRunTask_CapacityProviderStrategyPlacesTheTask(t *testing.T) {
	e := newEnv(t)
	e.sim.ECS.CreateCluster("main")
	task := e.runTask(t, e.registerApp(t, "api"), func(in *ecs.RunTaskInput) {
		in.LaunchType = ""
		in.CapacityProviderStrategy = []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE_SPOT"), Weight: 1}}
	})
	assert.Equal(t, "FARGATE_SPOT", aws.ToString(task.CapacityProviderName))
	assert.Equal(t, types.LaunchTypeFargate, task.LaunchType)
}

func TestDescribeTasks_ConcurrentCallersEachAdvanceTheirOwnTasks(t *testing.T) {
	e := newEnv(t)
	e.sim.ECS.CreateCluster("main")
	td := e.registerApp(t, "api")
	arns := make([]string, 8)
	for i := range arns {
		arns[i] = aws.ToString(e.runTask(t, td).TaskArn)
	}
	errs := make(chan error, len(arns))
	for _, arn := range arns {
		go func() {
			var last string
			for range 4 {
				out, err := e.ecs.DescribeTasks(e.ctx, &ecs.DescribeTasksInput{Cluster: aws.String("main"), Tasks: []string{arn}})
				if err != nil {
					errs <- err
					return
				}
				last = aws.ToString(out.Tasks[0].LastStatus)
			}
			if last != "STOPPED" {
				errs <- errors.New(arn + " ended " + last)
				return
			}
			errs <- nil
		}()
	}
	for range arns {
		assert.NoError(t, <-errs)
	}
}
