package migration

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const taskARN = "arn:aws:ecs:us-east-1:123456789012:task/c/abc123"

// fakeECS answers DescribeTasks from a script of states, the last repeating.
type fakeECS struct {
	runIn    *ecs.RunTaskInput
	script   []*types.Task // nil entry = MISSING
	calls    int
	stopped  bool
	stopErr  error
	describe func() (*ecs.DescribeTasksOutput, error)
}

func (f *fakeECS) RunTask(_ context.Context, in *ecs.RunTaskInput, _ ...func(*ecs.Options)) (*ecs.RunTaskOutput, error) {
	f.runIn = in
	return &ecs.RunTaskOutput{Tasks: []types.Task{{TaskArn: aws.String(taskARN)}}}, nil
}

func (f *fakeECS) DescribeTasks(_ context.Context, _ *ecs.DescribeTasksInput, _ ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	if f.describe != nil {
		return f.describe()
	}
	i := min(f.calls, len(f.script)-1)
	f.calls++
	if f.script[i] == nil {
		return &ecs.DescribeTasksOutput{Failures: []types.Failure{{Arn: aws.String(taskARN), Reason: aws.String("MISSING")}}}, nil
	}
	return &ecs.DescribeTasksOutput{Tasks: []types.Task{*f.script[i]}}, nil
}

func (f *fakeECS) StopTask(_ context.Context, _ *ecs.StopTaskInput, _ ...func(*ecs.Options)) (*ecs.StopTaskOutput, error) {
	f.stopped = true
	return &ecs.StopTaskOutput{}, f.stopErr
}

type fakeLogs struct{ events []string }

func (f *fakeLogs) GetLogEvents(_ context.Context, in *cloudwatchlogs.GetLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error) {
	if aws.ToString(in.LogStreamName) != "app/app/abc123" || aws.ToString(in.LogGroupName) != "/ecs/api" {
		return nil, &cwtypes.ResourceNotFoundException{Message: aws.String("no such stream")}
	}
	if in.NextToken != nil {
		return &cloudwatchlogs.GetLogEventsOutput{NextForwardToken: in.NextToken}, nil
	}
	out := &cloudwatchlogs.GetLogEventsOutput{NextForwardToken: aws.String("f/end")}
	for _, e := range f.events {
		out.Events = append(out.Events, cwtypes.OutputLogEvent{Message: aws.String(e)})
	}
	return out, nil
}

func taskDef() *types.TaskDefinition {
	return &types.TaskDefinition{
		TaskDefinitionArn: aws.String("arn:aws:ecs:us-east-1:123456789012:task-definition/api:42"),
		ContainerDefinitions: []types.ContainerDefinition{
			{Name: aws.String("app"), Essential: aws.Bool(true), LogConfiguration: &types.LogConfiguration{
				LogDriver: types.LogDriverAwslogs,
				Options:   map[string]string{"awslogs-group": "/ecs/api", "awslogs-stream-prefix": "app"},
			}},
			{Name: aws.String("sidecar"), Essential: aws.Bool(false)},
		},
	}
}

func stopped(code types.TaskStopCode, reason string, exits map[string]*int32) *types.Task {
	t := &types.Task{TaskArn: aws.String(taskARN), LastStatus: aws.String("STOPPED"), StopCode: code, StoppedReason: aws.String(reason)}
	for name, c := range exits {
		t.Containers = append(t.Containers, types.Container{Name: aws.String(name), ExitCode: c})
	}
	return t
}

func status(s string) *types.Task {
	return &types.Task{TaskArn: aws.String(taskARN), LastStatus: aws.String(s)}
}

func spec(out *bytes.Buffer) Spec {
	return Spec{
		Cluster: "c", TaskDefinition: taskDef(), Container: "app", Command: []string{"./app", "migrate"},
		Network:    &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}},
		LaunchType: types.LaunchTypeFargate, StartedBy: "esteira/r1", ClientToken: "tok-1",
		PollInterval: time.Millisecond, Timeout: 5 * time.Second, Out: out,
	}
}

func TestRun_JudgesTheStoppedTask(t *testing.T) {
	exit := func(v int32) *int32 { return &v }
	essential := types.TaskStopCodeEssentialContainerExited
	tests := []struct {
		name     string
		final    *types.Task
		ok       bool
		exitCode *int
		failure  string
	}{
		{"SucceedsWhenEssentialContainersExitZero", stopped(essential, "Essential container in task exited", map[string]*int32{"app": exit(0), "sidecar": exit(137)}), true, aws.Int(0), ""},
		{"FailsOnNonZeroExit", stopped(essential, "Essential container in task exited", map[string]*int32{"app": exit(1)}), false, aws.Int(1), "exited 1 (container app)"},
		{"FailsWithoutExitCode", stopped(essential, "", map[string]*int32{"app": nil}), false, nil, "container app stopped without an exit code"},
		{"FailsWhenTaskFailedToStart", stopped(types.TaskStopCodeTaskFailedToStart, "CannotPullContainerError: pull failed", map[string]*int32{"app": nil}), false, nil, "stopped with TaskFailedToStart"},
		{"FailsWhenSchedulerStoppedItEvenWithZeroExit", stopped(types.TaskStopCodeServiceSchedulerInitiated, "", map[string]*int32{"app": exit(0)}), false, aws.Int(0), "stopped with ServiceSchedulerInitiated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			api := &fakeECS{script: []*types.Task{nil, status("PENDING"), status("RUNNING"), tt.final}}
			res, err := Run(context.Background(), api, &fakeLogs{events: []string{"applying 0042_users"}}, spec(&out))
			require.NotNil(t, res)
			assert.Equal(t, tt.ok, res.Succeeded)
			assert.Equal(t, tt.exitCode, res.ExitCode)
			assert.Equal(t, []string{"applying 0042_users"}, res.Log)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			var failed *FailedError
			require.ErrorAs(t, err, &failed)
			assert.Contains(t, err.Error(), tt.failure)
			assert.Contains(t, err.Error(), "applying 0042_users", "error carries the log tail")
		})
	}
}

func TestRun_RunsTheCommandWhereTheServiceRuns(t *testing.T) {
	var out bytes.Buffer
	api := &fakeECS{script: []*types.Task{stopped(types.TaskStopCodeEssentialContainerExited, "", map[string]*int32{"app": aws.Int32(0)})}}
	_, err := Run(context.Background(), api, &fakeLogs{}, spec(&out))
	require.NoError(t, err)
	in := api.runIn
	assert.Equal(t, "tok-1", aws.ToString(in.ClientToken))
	assert.Equal(t, "esteira/r1", aws.ToString(in.StartedBy))
	assert.Equal(t, types.LaunchTypeFargate, in.LaunchType)
	assert.Equal(t, []string{"subnet-1"}, in.NetworkConfiguration.AwsvpcConfiguration.Subnets)
	require.Len(t, in.Overrides.ContainerOverrides, 1)
	assert.Equal(t, "app", aws.ToString(in.Overrides.ContainerOverrides[0].Name))
	assert.Equal(t, []string{"./app", "migrate"}, in.Overrides.ContainerOverrides[0].Command)
}

func TestRun_FailsWhenTheTaskVanishes(t *testing.T) {
	var out bytes.Buffer
	api := &fakeECS{script: []*types.Task{status("PENDING"), nil}}
	res, err := Run(context.Background(), api, &fakeLogs{}, spec(&out))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "vanished")
	assert.Contains(t, err.Error(), `after status "PENDING"`)
	assert.False(t, res.Succeeded)
}

func TestRun_ToleratesMissingRightAfterRunTask(t *testing.T) {
	var out bytes.Buffer
	zero := int32(0)
	// DescribeTasks is eventually consistent: a new task may be MISSING for
	// a while before it shows up. Many short polls must not fail it.
	script := make([]*types.Task, 20)
	script = append(script, status("RUNNING"), stopped(types.TaskStopCodeEssentialContainerExited, "Essential container in task exited", map[string]*int32{"app": &zero}))
	api := &fakeECS{script: script}
	res, err := Run(context.Background(), api, &fakeLogs{}, spec(&out))
	require.NoError(t, err)
	assert.True(t, res.Succeeded)
}

func TestRun_StopsTheTaskWhenTheTimeoutExpires(t *testing.T) {
	tests := []struct {
		name    string
		stopErr error
		want    string
	}{
		{"Stopped", nil, "the task was stopped (StopTask), possibly part-way through: check the database"},
		{"StopFails", errors.New("AccessDeniedException"), "stopping it FAILED (AccessDeniedException): it may still be migrating; stop it with aws ecs stop-task --cluster c --task " + taskARN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			s := spec(&out)
			s.Timeout = 20 * time.Millisecond
			api := &fakeECS{script: []*types.Task{status("RUNNING")}, stopErr: tt.stopErr}
			res, err := Run(context.Background(), api, &fakeLogs{events: []string{"applying 0042_users"}}, s)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assert.True(t, api.stopped, "a timed-out migration must be stopped")
			assert.Contains(t, err.Error(), tt.want, "the error says what state the task is in")
			assert.Contains(t, err.Error(), "last log lines:\n  applying 0042_users", "a timed-out migration still shows its log tail")
			require.NotNil(t, res)
			assert.False(t, res.Succeeded)
			assert.Contains(t, res.Failure, "still RUNNING")
		})
	}
}

func TestRun_RejectsBadSpecBeforeRunningAnything(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Spec)
		want   string
	}{
		{"EmptyCommand", func(s *Spec) { s.Command = nil }, "command is empty"},
		{"UnknownContainer", func(s *Spec) { s.Container = "web" }, `container "web" is not in task definition`},
		{"LongStartedBy", func(s *Spec) { s.StartedBy = "0123456789012345678901234567890123456789" }, "longer than 36"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			s := spec(&out)
			tt.change(&s)
			api := &fakeECS{describe: func() (*ecs.DescribeTasksOutput, error) { return nil, errors.New("must not be called") }}
			_, err := Run(context.Background(), api, &fakeLogs{}, s)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Nil(t, api.runIn, "nothing may start on bad input")
		})
	}
}

// countingLogs is fakeLogs that reports, once, that a line was read.
type countingLogs struct {
	fakeLogs
	read chan struct{}
}

func (c *countingLogs) GetLogEvents(ctx context.Context, in *cloudwatchlogs.GetLogEventsInput, o ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error) {
	out, err := c.fakeLogs.GetLogEvents(ctx, in, o...)
	if err == nil && len(out.Events) > 0 {
		select {
		case c.read <- struct{}{}:
		default:
		}
	}
	return out, err
}

func TestRun_StreamsLogsWhileTheTaskRuns(t *testing.T) {
	var out bytes.Buffer
	logs := &countingLogs{fakeLogs: fakeLogs{events: []string{"applying 0042_users"}}, read: make(chan struct{}, 1)}
	seen := false
	api := &fakeECS{describe: func() (*ecs.DescribeTasksOutput, error) {
		// The task keeps RUNNING until its log line has been read: a gate
		// that reads logs only after the task stopped never gets there.
		select {
		case <-logs.read:
			seen = true
		default:
		}
		if !seen {
			return &ecs.DescribeTasksOutput{Tasks: []types.Task{*status("RUNNING")}}, nil
		}
		return &ecs.DescribeTasksOutput{Tasks: []types.Task{*stopped(types.TaskStopCodeEssentialContainerExited, "", map[string]*int32{"app": aws.Int32(0)})}}, nil
	}}
	s := spec(&out)
	s.Timeout = 3 * time.Second
	res, err := Run(context.Background(), api, logs, s)
	require.NoError(t, err, "the log line must be read while the task runs")
	assert.Equal(t, []string{"applying 0042_users"}, res.Log)
	o := out.String()
	assert.Less(t, strings.Index(o, "| applying 0042_users"), strings.Index(o, "STOPPED"), "the line is printed before the task stops:\n%s", o)
}

func TestRun_SaysWhyLogsAreNotShown(t *testing.T) {
	var out bytes.Buffer
	api := &fakeECS{script: []*types.Task{stopped(types.TaskStopCodeEssentialContainerExited, "", map[string]*int32{"app": aws.Int32(0)})}}
	_, err := Run(context.Background(), api, nil, spec(&out))
	require.NoError(t, err)
	assert.Contains(t, out.String(), "no CloudWatch Logs client was given")
	assert.NotContains(t, out.String(), "has no awslogs configuration", "the container does log with awslogs")
}
