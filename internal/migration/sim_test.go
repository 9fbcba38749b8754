package migration_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/migration"
)

func simClients(t *testing.T) (*awssim.Server, *ecs.Client, *cloudwatchlogs.Client) {
	t.Helper()
	sim := awssim.New(awssim.DefaultOptions())
	url := sim.Start(t)
	o := sim.Options()
	creds := credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")
	return sim,
		ecs.New(ecs.Options{Region: o.Region, BaseEndpoint: aws.String(url), Credentials: creds}),
		cloudwatchlogs.New(cloudwatchlogs.Options{Region: o.Region, BaseEndpoint: aws.String(url), Credentials: creds})
}

func TestFollower_ReadsEachLineOnceFromAStreamThatAppearsLater(t *testing.T) {
	sim, _, logs := simClients(t)
	var out bytes.Buffer
	f := migration.NewFollower(logs, "/ecs/api", "ecs/app/t1", &out)

	require.NoError(t, f.Poll(t.Context()), "a stream that does not exist yet is not an error")
	assert.Empty(t, f.Lines())

	sim.Logs.CreateLogGroup("/ecs/api")
	sim.Logs.Put("/ecs/api", "ecs/app/t1", "one", "two")
	require.NoError(t, f.Poll(t.Context()))
	sim.Logs.Put("/ecs/api", "ecs/app/t1", "three")
	require.NoError(t, f.Poll(t.Context()))
	require.NoError(t, f.Poll(t.Context()))

	assert.Equal(t, []string{"one", "two", "three"}, f.Lines())
	assert.Equal(t, "    | one\n    | two\n    | three\n", out.String())
}

func TestRun_AgainstTheSimulatorReportsExitCodeAndLogs(t *testing.T) {
	sim, api, logs := simClients(t)
	sim.ECS.CreateCluster("main")
	reg := registerAPI(t, api, &types.LogConfiguration{LogDriver: types.LogDriverAwslogs, Options: map[string]string{
		"awslogs-group": "/ecs/api", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "ecs"}})
	sim.ECS.OnRunTask(func(awssim.RunTaskCall) awssim.TaskBehavior {
		return awssim.TaskBehavior{ExitCodes: map[string]int{"app": 3}, LogLines: map[string][]string{"app": {"boom"}}}
	})
	var out bytes.Buffer
	res, err := migration.Run(t.Context(), api, logs, migration.Spec{
		Cluster: "main", TaskDefinition: reg.TaskDefinition, Container: "app", Command: []string{"./app", "migrate"},
		Network:    &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}},
		LaunchType: types.LaunchTypeFargate, StartedBy: "esteira/test", ClientToken: "t-1",
		Timeout: 10 * time.Second, PollInterval: time.Millisecond, Out: &out,
	})
	var failed *migration.FailedError
	require.ErrorAs(t, err, &failed)
	require.NotNil(t, res.ExitCode)
	assert.Equal(t, 3, *res.ExitCode)
	assert.Equal(t, "EssentialContainerExited", res.StopCode)
	assert.Equal(t, []string{"boom"}, res.Log)
	assert.Contains(t, err.Error(), "exited 3 (container app)")
	assert.Contains(t, out.String(), "    | boom")
	assert.Contains(t, out.String(), "STOPPED")
}

// Ctrl-C while the migration runs: the error says it was interrupted (not
// that it timed out), and that the task was stopped.
func TestRun_InterruptedSaysSoAndStopsTheTask(t *testing.T) {
	sim, api, logs := simClients(t)
	sim.ECS.CreateCluster("main")
	reg := registerAPI(t, api, nil)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(200*time.Millisecond, cancel)
	var out bytes.Buffer
	_, err := migration.Run(ctx, api, logs, migration.Spec{
		Cluster: "main", TaskDefinition: reg.TaskDefinition, Container: "app", Command: []string{"./app", "migrate"},
		Network:    &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}},
		LaunchType: types.LaunchTypeFargate, StartedBy: "esteira/test", ClientToken: "t-2",
		Timeout: 20 * time.Minute, PollInterval: time.Hour, Out: &out,
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "interrupted while migration task")
	assert.NotContains(t, err.Error(), "after 20m", "it did not time out")
	assert.Contains(t, err.Error(), "the task was stopped (StopTask)")
	assert.Equal(t, 1, sim.Count("ecs", "StopTask"))
	for _, r := range sim.Requests() {
		if r.Operation == "StopTask" {
			assert.Contains(t, string(r.Body), "interrupted")
		}
	}
}

// registerAPI registers family api with one essential container app.
func registerAPI(t *testing.T, api *ecs.Client, logs *types.LogConfiguration) *ecs.RegisterTaskDefinitionOutput {
	t.Helper()
	reg, err := api.RegisterTaskDefinition(t.Context(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("api"), NetworkMode: types.NetworkModeAwsvpc,
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate}, Cpu: aws.String("256"), Memory: aws.String("512"),
		ExecutionRoleArn: aws.String("arn:aws:iam::123456789012:role/exec"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("r/api:1"), Essential: aws.Bool(true),
			LogConfiguration: logs}},
	})
	require.NoError(t, err)
	return reg
}
