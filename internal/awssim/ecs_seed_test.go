package awssim_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestApplySeed_CreatesTheDemoServiceSteady(t *testing.T) {
	e := newEnv(t)
	data, err := os.ReadFile("../../cmd/awssim/demo-seed.json")
	require.NoError(t, err)
	require.NoError(t, e.sim.ECS.ApplySeed(data))
	svc := e.describeServiceIn(t, "demo", "backend")
	assert.Equal(t, int32(2), svc.RunningCount)
	assert.Equal(t, "arn:aws:ecs:eu-west-1:123456789012:task-definition/backend:1", aws.ToString(svc.TaskDefinition))
	assert.True(t, svc.DeploymentConfiguration.DeploymentCircuitBreaker.Rollback)
}

func TestApplySeed_CreatesABlueGreenServiceWithAPause(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.sim.ECS.ApplySeed([]byte(`{"taskDefinitions":[{"family":"x","containerDefinitions":[{"name":"a","image":"i"}]}],
		"services":[{"cluster":"c","name":"web","taskDefinition":"x:1","desiredCount":1,"strategy":"BLUE_GREEN","bakeTimeInMinutes":3,
		"pauseAt":["POST_TEST_TRAFFIC_SHIFT"],"alarms":["web-5xx"]}]}`)))
	dc := e.describeServiceIn(t, "c", "web").DeploymentConfiguration
	assert.Equal(t, types.DeploymentStrategyBlueGreen, dc.Strategy)
	assert.Equal(t, int32(3), aws.ToInt32(dc.BakeTimeInMinutes))
	require.Len(t, dc.LifecycleHooks, 1)
	assert.Equal(t, []types.DeploymentLifecycleHookStage{"POST_TEST_TRAFFIC_SHIFT"}, dc.LifecycleHooks[0].LifecycleStages)
	assert.Equal(t, []string{"web-5xx"}, dc.Alarms.AlarmNames)
}

const codeDeploySeed = `{"taskDefinitions":[{"family":"x","containerDefinitions":[{"name":"a","image":"i"}]}],
	"services":[{"cluster":"c","name":"web","taskDefinition":"x:1","desiredCount":1,"deploymentController":"%s"}],
	"deploymentGroups":[{"application":"app","name":"web-dg","cluster":"c","service":"web","prodListenerArn":"l-80",
	"testListenerArn":"l-8080","targetGroups":["tg-a","tg-b"],"containerName":"a","containerPort":80,"waitForReady":true}]}`

func TestApplySeed_CreatesACodeDeployService(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.sim.ECS.ApplySeed(fmt.Appendf(nil, codeDeploySeed, "CODE_DEPLOY")))
	svc := e.describeServiceIn(t, "c", "web")
	assert.Equal(t, types.DeploymentControllerTypeCodeDeploy, svc.DeploymentController.Type)
	require.Len(t, svc.LoadBalancers, 1)
	assert.Equal(t, int32(80), aws.ToInt32(svc.LoadBalancers[0].ContainerPort))
	assert.NotPanics(t, func() { e.sim.CodeDeploy.FailAt("web-dg", "AllowTraffic") }, "the group exists")
}

func TestApplySeed_NamesWhatIsWrong(t *testing.T) {
	tests := map[string]struct{ seed, want string }{
		"not json":            {`{`, "parse seed"},
		"bad task definition": {`{"taskDefinitions":[{"family":"x","containerDefinitions":[{"name":"a"}]}]}`, "Container.image"},
		"unknown revision":    {`{"services":[{"cluster":"c","name":"web","taskDefinition":"x:3"}]}`, `seed service web: task definition "x:3"`},
		"no cluster":          {`{"services":[{"name":"web","taskDefinition":"x:1"}]}`, "cluster and name are required"},
		"pause at a shift": {`{"taskDefinitions":[{"family":"x","containerDefinitions":[{"name":"a","image":"i"}]}],
			"services":[{"cluster":"c","name":"web","taskDefinition":"x:1","strategy":"BLUE_GREEN","pauseAt":["PRODUCTION_TRAFFIC_SHIFT"]}]}`,
			"seed service web: InvalidParameterException: PAUSE lifecycle hooks cannot be configured at the PRODUCTION_TRAFFIC_SHIFT stage"},
		"group over an ECS service": {fmt.Sprintf(codeDeploySeed, "ECS"), `seed deployment group "web-dg": service web has deployment controller ECS, not CODE_DEPLOY`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := awssim.New(awssim.DefaultOptions()).ECS.ApplySeed([]byte(tt.seed))
			assert.ErrorContains(t, err, tt.want)
		})
	}
}
