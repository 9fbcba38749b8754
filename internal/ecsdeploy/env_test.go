package ecsdeploy_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/teststack"
)

func TestMain(m *testing.M) { teststack.Main(m) }

const repo = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api"

var (
	imgV1 = repo + ":v1@sha256:" + strings.Repeat("1", 64)
	imgV2 = repo + "@sha256:" + strings.Repeat("2", 64)
)

// syncBuffer is the Out of a test: written by the engine, read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is the simulator with a cluster "main" and a service "api" (2 tasks)
// running revision v1 of family "api", a DB instance "orders", plus real
// SDK clients.
type env struct {
	sim     *awssim.Server
	ecs     *ecs.Client
	clients ecsdeploy.Clients
	out     *syncBuffer
	v1      string
	url     string // the simulator's endpoint
}

func newEnv(t *testing.T, spec awssim.ServiceSpec, mutate ...func(*ecs.RegisterTaskDefinitionInput)) *env {
	t.Helper()
	return newEnvWith(t, spec, func(_ *env, in *ecs.RegisterTaskDefinitionInput) {
		for _, m := range mutate {
			m(in)
		}
	})
}

// newEnvWith lets mutate use the simulator (e.g. to create secrets) before
// the live revision is registered.
func newEnvWith(t *testing.T, spec awssim.ServiceSpec, mutate func(*env, *ecs.RegisterTaskDefinitionInput)) *env {
	t.Helper()
	sim := awssim.New(awssim.DefaultOptions())
	url := sim.Start(t)
	o := sim.Options()
	creds := credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")
	e := &env{
		sim: sim,
		ecs: ecs.New(ecs.Options{Region: o.Region, BaseEndpoint: aws.String(url), Credentials: creds}),
		out: &syncBuffer{}, url: url,
	}
	logs := cloudwatchlogs.New(cloudwatchlogs.Options{Region: o.Region, BaseEndpoint: aws.String(url), Credentials: creds})
	sm := secretsmanager.New(secretsmanager.Options{Region: o.Region, BaseEndpoint: aws.String(url), Credentials: creds})
	db := rds.New(rds.Options{Region: o.Region, BaseEndpoint: aws.String(url), Credentials: creds})
	alarms := cloudwatch.New(cloudwatch.Options{Region: o.Region, BaseEndpoint: aws.String(url), Credentials: creds})
	e.clients = ecsdeploy.Clients{ECS: e.ecs, Logs: logs, Secrets: sm, RDS: db, Alarms: alarms}
	sim.RDS.AddDBInstance("orders", "postgres")
	in := appTaskDef()
	// The live revision's secret exists unless a test says otherwise.
	in.ContainerDefinitions[0].Secrets[0].ValueFrom = aws.String(sim.Secrets.Put("prod/db", "postgres://u:p@db/app"))
	mutate(e, in)
	e.v1 = e.register(t, in)
	sim.ECS.CreateCluster("main")
	spec.Name, spec.TaskDefinition, spec.DesiredCount = "api", e.v1, 2
	spec.Subnets, spec.SecurityGroups = []string{"subnet-1"}, []string{"sg-1"}
	sim.ECS.CreateService("main", spec)
	t.Cleanup(func() {
		if t.Failed() || testing.Verbose() {
			t.Logf("engine output:\n%s", e.out.String())
		}
	})
	return e
}

// appTaskDef is a realistic Fargate task definition: an essential "app"
// container with env, secrets, awslogs and a health check, and a
// non-essential sidecar.
func appTaskDef() *ecs.RegisterTaskDefinitionInput {
	return &ecs.RegisterTaskDefinitionInput{
		Family:                  aws.String("api"),
		NetworkMode:             types.NetworkModeAwsvpc,
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		Cpu:                     aws.String("512"),
		Memory:                  aws.String("1024"),
		ExecutionRoleArn:        aws.String("arn:aws:iam::123456789012:role/api-exec"),
		TaskRoleArn:             aws.String("arn:aws:iam::123456789012:role/api-task"),
		RuntimePlatform:         &types.RuntimePlatform{CpuArchitecture: types.CPUArchitectureArm64, OperatingSystemFamily: types.OSFamilyLinux},
		Volumes:                 []types.Volume{{Name: aws.String("tmp")}},
		ContainerDefinitions: []types.ContainerDefinition{
			{
				Name: aws.String("app"), Image: aws.String(imgV1), Essential: aws.Bool(true),
				Environment: []types.KeyValuePair{{Name: aws.String("PORT"), Value: aws.String("8080")}},
				Secrets:     []types.Secret{{Name: aws.String("DB_URL"), ValueFrom: aws.String("arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf")}},
				LogConfiguration: &types.LogConfiguration{LogDriver: types.LogDriverAwslogs, Options: map[string]string{
					"awslogs-group": "/ecs/api", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "ecs",
				}},
				HealthCheck: &types.HealthCheck{Command: []string{"CMD-SHELL", "curl -f localhost:8080/health"}, Interval: aws.Int32(10)},
				MountPoints: []types.MountPoint{{SourceVolume: aws.String("tmp"), ContainerPath: aws.String("/tmp")}},
			},
			{Name: aws.String("sidecar"), Image: aws.String("public.ecr.aws/datadog/agent:7"), Essential: aws.Bool(false)},
		},
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("payments")}},
	}
}

func (e *env) register(t *testing.T, in *ecs.RegisterTaskDefinitionInput) string {
	t.Helper()
	out, err := e.ecs.RegisterTaskDefinition(t.Context(), in)
	require.NoError(t, err)
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

func (e *env) opts(image string) ecsdeploy.DeployOptions {
	return ecsdeploy.DeployOptions{
		Cluster: "main", Service: "api", Image: image,
		Timeout: 20 * time.Second, PollInterval: time.Millisecond, Out: e.out,
	}
}

func (e *env) service(t *testing.T) types.Service {
	t.Helper()
	out, err := e.ecs.DescribeServices(t.Context(), &ecs.DescribeServicesInput{Cluster: aws.String("main"), Services: []string{"api"}})
	require.NoError(t, err)
	require.Len(t, out.Services, 1)
	return out.Services[0]
}

func (e *env) taskDef(t *testing.T, ref string) (*types.TaskDefinition, []types.Tag) {
	t.Helper()
	out, err := e.ecs.DescribeTaskDefinition(t.Context(), &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(ref), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}})
	require.NoError(t, err)
	return out.TaskDefinition, out.Tags
}

// mutations counts the calls that change AWS.
func (e *env) mutations() int {
	n := 0
	for _, op := range []string{"RegisterTaskDefinition", "DeregisterTaskDefinition", "UpdateService", "RunTask", "StopTask"} {
		n += e.sim.Count("ecs", op)
	}
	return n
}

// failRevisionsOtherThan makes service tasks of every revision but keep behave as b.
func (e *env) failRevisionsOtherThan(keep string, b awssim.TaskBehavior) {
	e.sim.ECS.OnServiceTask(func(arn string) awssim.TaskBehavior {
		if arn == keep {
			return awssim.TaskBehavior{}
		}
		return b
	})
}
