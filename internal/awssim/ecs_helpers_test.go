package awssim_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/stretchr/testify/require"
)

// env is a running simulator with real SDK clients pointed at it.
type env struct {
	sim  *awssim.Server
	ecs  *ecs.Client
	logs *cloudwatchlogs.Client
	ctx  context.Context
}

func newEnv(t *testing.T) env {
	t.Helper()
	sim := awssim.New(awssim.DefaultOptions())
	url := sim.Start(t)
	o := sim.Options()
	creds := credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")
	return env{
		sim: sim,
		ecs: ecs.New(ecs.Options{Region: o.Region, BaseEndpoint: aws.String(url), Credentials: creds}),
		logs: cloudwatchlogs.New(cloudwatchlogs.Options{Region: o.Region, BaseEndpoint: aws.String(url),
			Credentials: creds}),
		ctx: t.Context(),
	}
}

// registerApp registers a Fargate task definition with an "app" container
// logging to /ecs/<family> and a "sidecar" container, and returns its ARN.
func (e env) registerApp(t *testing.T, family string) string {
	t.Helper()
	out, err := e.ecs.RegisterTaskDefinition(e.ctx, &ecs.RegisterTaskDefinitionInput{
		Family:                  aws.String(family),
		NetworkMode:             types.NetworkModeAwsvpc,
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		Cpu:                     aws.String("256"),
		Memory:                  aws.String("512"),
		ExecutionRoleArn:        aws.String("arn:aws:iam::123456789012:role/exec"),
		ContainerDefinitions: []types.ContainerDefinition{
			{
				Name: aws.String("app"), Image: aws.String("registry.example/app:1"), Essential: aws.Bool(true),
				Secrets: []types.Secret{{Name: aws.String("DB_URL"), ValueFrom: aws.String("arn:aws:secretsmanager:eu-west-1:123456789012:secret:db")}},
				LogConfiguration: &types.LogConfiguration{LogDriver: types.LogDriverAwslogs, Options: map[string]string{
					"awslogs-group": "/ecs/" + family, "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "ecs",
				}},
			},
			{Name: aws.String("sidecar"), Image: aws.String("registry.example/agent:7"), Essential: aws.Bool(false)},
		},
		Tags: []types.Tag{{Key: aws.String("esteira:commit"), Value: aws.String("abc123")}},
	})
	require.NoError(t, err)
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

var awsvpc = &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{
	Subnets: []string{"subnet-1"}, SecurityGroups: []string{"sg-1"},
}}

// describeTask calls DescribeTasks once (one lifecycle step) for one task.
func (e env) describeTask(t *testing.T, arn string) (*types.Task, []types.Failure) {
	t.Helper()
	out, err := e.ecs.DescribeTasks(e.ctx, &ecs.DescribeTasksInput{Cluster: aws.String("main"), Tasks: []string{arn}})
	require.NoError(t, err)
	if len(out.Tasks) == 0 {
		return nil, out.Failures
	}
	return &out.Tasks[0], out.Failures
}

// describeService calls DescribeServices once (one scheduler step).
func (e env) describeService(t *testing.T, name string) types.Service {
	t.Helper()
	return e.describeServiceIn(t, "main", name)
}

func (e env) describeServiceIn(t *testing.T, cluster, name string) types.Service {
	t.Helper()
	out, err := e.ecs.DescribeServices(e.ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{name}})
	require.NoError(t, err)
	require.Len(t, out.Services, 1, "failures: %+v", out.Failures)
	return out.Services[0]
}

// pollService describes the service until done says so, at most max times.
func (e env) pollService(t *testing.T, name string, max int, done func(types.Service) bool) types.Service {
	t.Helper()
	for range max {
		if svc := e.describeService(t, name); done(svc) {
			return svc
		}
	}
	t.Fatalf("service %s did not reach the expected state in %d observations", name, max)
	return types.Service{}
}

func eventMessages(svc types.Service) []string {
	var out []string
	for _, ev := range svc.Events {
		out = append(out, aws.ToString(ev.Message))
	}
	return out
}
