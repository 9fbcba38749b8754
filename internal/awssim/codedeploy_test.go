package awssim_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cdEnv is a simulator with a CODE_DEPLOY service "web" in cluster "main"
// running v1, a deployment group "web-dg" of application "app" over it,
// and a real codedeploy client.
type cdEnv struct {
	env
	cd     *codedeploy.Client
	v1, v2 string
}

const cdTarget = "main:web"

func newCodeDeployEnv(t *testing.T, waitForReady bool) cdEnv {
	t.Helper()
	e, v1, v2 := newService(t, awssim.ServiceSpec{DeploymentController: "CODE_DEPLOY"})
	e.sim.CodeDeploy.CreateDeploymentGroup("app", "web-dg", awssim.DeploymentGroupSpec{
		Cluster: "main", Service: "web",
		ProdListenerArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/1/80",
		TestListenerArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/1/8080",
		TargetGroups:    [2]string{"web-blue", "web-green"}, ContainerName: "app", ContainerPort: 8080,
		WaitForReady: waitForReady,
	})
	o := e.sim.Options()
	client := codedeploy.New(codedeploy.Options{Region: o.Region, BaseEndpoint: aws.String(e.sim.Start(t)),
		Credentials: credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")})
	return cdEnv{env: e, cd: client, v1: v1, v2: v2}
}

func appSpec(td, container string, port int) string {
	return fmt.Sprintf(`version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: "%s"
        LoadBalancerInfo:
          ContainerName: "%s"
          ContainerPort: %d
`, td, container, port)
}

func (e cdEnv) create(t *testing.T, content string) (string, error) {
	t.Helper()
	out, err := e.cd.CreateDeployment(e.ctx, &codedeploy.CreateDeploymentInput{
		ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("web-dg"),
		Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
			AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(content)}},
	})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.DeploymentId), nil
}

func (e cdEnv) deployV2(t *testing.T) string {
	t.Helper()
	id, err := e.create(t, appSpec(e.v2, "app", 8080))
	require.NoError(t, err)
	return id
}

func (e cdEnv) get(t *testing.T, id string) cdtypes.DeploymentInfo {
	t.Helper()
	out, err := e.cd.GetDeployment(e.ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id)})
	require.NoError(t, err)
	return *out.DeploymentInfo
}

func (e cdEnv) target(t *testing.T, id string) cdtypes.ECSTarget {
	t.Helper()
	out, err := e.cd.GetDeploymentTarget(e.ctx, &codedeploy.GetDeploymentTargetInput{DeploymentId: aws.String(id), TargetId: aws.String(cdTarget)})
	require.NoError(t, err)
	require.Equal(t, cdtypes.DeploymentTargetTypeEcsTarget, out.DeploymentTarget.DeploymentTargetType)
	return *out.DeploymentTarget.EcsTarget
}

// cdLog is what a poll saw: each status once, in order, and the
// production weight of the green task set when each event succeeded.
type cdLog struct {
	statuses []cdtypes.DeploymentStatus
	events   []string // in the order they were seen InProgress
	weights  map[string]float64
}

// poll gets the deployment (one step) and its target until done, at most max times.
func (e cdEnv) poll(t *testing.T, id string, max int, done func(cdtypes.DeploymentInfo) bool) (cdtypes.DeploymentInfo, cdLog) {
	t.Helper()
	log := cdLog{weights: map[string]float64{}}
	for range max {
		d := e.get(t, id)
		if n := len(log.statuses); n == 0 || log.statuses[n-1] != d.Status {
			log.statuses = append(log.statuses, d.Status)
		}
		tg := e.target(t, id)
		for _, ev := range tg.LifecycleEvents {
			name := aws.ToString(ev.LifecycleEventName)
			if ev.Status == cdtypes.LifecycleEventStatusInProgress && (len(log.events) == 0 || log.events[len(log.events)-1] != name) {
				log.events = append(log.events, name)
			}
			if _, seen := log.weights[name]; !seen && ev.Status == cdtypes.LifecycleEventStatusSucceeded {
				log.weights[name] = greenWeight(tg)
			}
		}
		if done(d) {
			return d, log
		}
	}
	t.Fatalf("deployment %s did not reach the expected state in %d observations", id, max)
	return cdtypes.DeploymentInfo{}, log
}

func cdStatus(s cdtypes.DeploymentStatus) func(cdtypes.DeploymentInfo) bool {
	return func(d cdtypes.DeploymentInfo) bool { return d.Status == s }
}

func greenWeight(tg cdtypes.ECSTarget) float64 {
	for _, ts := range tg.TaskSetsInfo {
		if ts.TaskSetLabel == cdtypes.TargetLabelGreen {
			return ts.TrafficWeight
		}
	}
	return 0
}

func eventStatuses(tg cdtypes.ECSTarget) map[string]cdtypes.LifecycleEventStatus {
	out := map[string]cdtypes.LifecycleEventStatus{}
	for _, ev := range tg.LifecycleEvents {
		out[aws.ToString(ev.LifecycleEventName)] = ev.Status
	}
	return out
}

var ecsEventOrder = []string{"BeforeInstall", "Install", "AfterInstall", "AllowTestTraffic",
	"AfterAllowTestTraffic", "BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic"}

func TestCodeDeploy_DeploymentGroupDescribesTheServiceAndItsTraffic(t *testing.T) {
	e := newCodeDeployEnv(t, true)
	out, err := e.cd.GetDeploymentGroup(e.ctx, &codedeploy.GetDeploymentGroupInput{ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("web-dg")})
	require.NoError(t, err)
	g := out.DeploymentGroupInfo
	assert.Equal(t, cdtypes.ComputePlatformEcs, g.ComputePlatform)
	assert.Equal(t, []cdtypes.ECSService{{ClusterName: aws.String("main"), ServiceName: aws.String("web")}}, g.EcsServices)
	assert.Equal(t, cdtypes.DeploymentReadyActionStopDeployment, g.BlueGreenDeploymentConfiguration.DeploymentReadyOption.ActionOnTimeout)
	assert.True(t, g.AutoRollbackConfiguration.Enabled)
	require.Len(t, g.LoadBalancerInfo.TargetGroupPairInfoList, 1)
	pair := g.LoadBalancerInfo.TargetGroupPairInfoList[0]
	assert.Equal(t, []string{"arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/1/8080"}, pair.TestTrafficRoute.ListenerArns)
	require.Len(t, pair.TargetGroups, 2)
	assert.Equal(t, "web-green", aws.ToString(pair.TargetGroups[1].Name))

	svc := e.describeService(t, "web")
	require.Len(t, svc.LoadBalancers, 1, "the container and port the engine puts in the AppSpec")
	assert.Equal(t, "app", aws.ToString(svc.LoadBalancers[0].ContainerName))
	assert.Equal(t, int32(8080), aws.ToInt32(svc.LoadBalancers[0].ContainerPort))

	_, err = e.cd.GetDeploymentGroup(e.ctx, &codedeploy.GetDeploymentGroupInput{ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("nope")})
	var noGroup *cdtypes.DeploymentGroupDoesNotExistException
	require.ErrorAs(t, err, &noGroup)
}

func TestCodeDeploy_DeploymentShiftsTestThenProductionTrafficAndSucceeds(t *testing.T) {
	e := newCodeDeployEnv(t, false)
	id := e.deployV2(t)
	assert.Regexp(t, `^d-[A-Z0-9]{9}$`, id)

	d, log := e.poll(t, id, 60, cdStatus(cdtypes.DeploymentStatusSucceeded))
	assert.Equal(t, []cdtypes.DeploymentStatus{cdtypes.DeploymentStatusInProgress, cdtypes.DeploymentStatusSucceeded}, log.statuses)
	assert.Equal(t, ecsEventOrder, log.events)
	assert.Equal(t, 0.0, log.weights["AfterAllowTestTraffic"], "production stays on blue until AllowTraffic")
	assert.Equal(t, 100.0, log.weights["AllowTraffic"])
	assert.Equal(t, cdtypes.DeploymentCreatorUser, d.Creator)
	assert.Nil(t, d.ErrorInformation)
	assert.Equal(t, int64(1), d.DeploymentOverview.Succeeded)
	assert.NotNil(t, d.CompleteTime)

	list, err := e.cd.ListDeploymentTargets(e.ctx, &codedeploy.ListDeploymentTargetsInput{DeploymentId: aws.String(id)})
	require.NoError(t, err)
	assert.Equal(t, []string{cdTarget}, list.TargetIds)
	tg := e.target(t, id)
	assert.Equal(t, cdtypes.TargetStatusSucceeded, tg.Status)
	require.Len(t, tg.TaskSetsInfo, 2)
	assert.Equal(t, cdtypes.TargetLabelBlue, tg.TaskSetsInfo[0].TaskSetLabel)
	assert.Equal(t, 0.0, tg.TaskSetsInfo[0].TrafficWeight)
	assert.Equal(t, "web-green", aws.ToString(tg.TaskSetsInfo[1].TargetGroup.Name))
	assert.Equal(t, int64(2), tg.TaskSetsInfo[1].RunningCount)

	svc := e.pollService(t, "web", 5, func(s ecstypes.Service) bool { return s.RunningCount == 2 })
	assert.Equal(t, e.v2, aws.ToString(svc.TaskDefinition), "the service runs the new revision")
	assert.Contains(t, aws.ToString(svc.LoadBalancers[0].TargetGroupArn), "targetgroup/web-green/", "green serves production now")
}

func TestCodeDeploy_WaitsInReadyUntilContinue(t *testing.T) {
	e := newCodeDeployEnv(t, true)
	id := e.deployV2(t)
	e.poll(t, id, 40, cdStatus(cdtypes.DeploymentStatusReady))
	for range 3 {
		d := e.get(t, id)
		require.Equal(t, cdtypes.DeploymentStatusReady, d.Status, "held until ContinueDeployment")
		assert.Equal(t, int64(1), d.DeploymentOverview.Ready)
	}
	tg := e.target(t, id)
	assert.Equal(t, cdtypes.TargetStatusReady, tg.Status)
	assert.Equal(t, 0.0, greenWeight(tg), "production still on blue")
	ev := eventStatuses(tg)
	assert.Equal(t, cdtypes.LifecycleEventStatusSucceeded, ev["AllowTestTraffic"], "test traffic on green")
	assert.Equal(t, cdtypes.LifecycleEventStatusPending, ev["BeforeAllowTraffic"])
	assert.Equal(t, e.v1, aws.ToString(e.describeService(t, "web").TaskDefinition))

	_, err := e.cd.ContinueDeployment(e.ctx, &codedeploy.ContinueDeploymentInput{DeploymentId: aws.String(id),
		DeploymentWaitType: cdtypes.DeploymentWaitTypeReadyWait})
	require.NoError(t, err)
	e.poll(t, id, 20, cdStatus(cdtypes.DeploymentStatusSucceeded))
	assert.Equal(t, e.v2, aws.ToString(e.describeService(t, "web").TaskDefinition))
}
