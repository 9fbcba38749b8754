package awssim_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rolledBack follows the rollback deployment of id, which must have ended
// with status, and returns it once finished with want.
func (e cdEnv) rolledBack(t *testing.T, id string, status cdtypes.DeploymentStatus, want cdtypes.DeploymentStatus) cdtypes.DeploymentInfo {
	t.Helper()
	d := e.get(t, id)
	require.Equal(t, status, d.Status)
	require.NotNil(t, d.RollbackInfo, "the original reports its rollback")
	rid := aws.ToString(d.RollbackInfo.RollbackDeploymentId)
	require.Regexp(t, `^d-[A-Z0-9]{9}$`, rid)
	r, _ := e.poll(t, rid, 20, cdStatus(want))
	assert.Equal(t, cdtypes.DeploymentCreatorCodeDeployRollback, r.Creator)
	assert.Equal(t, id, aws.ToString(r.RollbackInfo.RollbackTriggeringDeploymentId))
	return r
}

// servesV1 checks the service is back on v1 with its two tasks and the
// rollback's task sets put all production traffic on the original.
func (e cdEnv) servesV1(t *testing.T, rollbackID string) {
	t.Helper()
	tg := e.target(t, rollbackID)
	assert.Equal(t, 0.0, greenWeight(tg), "production back on the original task set")
	require.Len(t, tg.TaskSetsInfo, 2)
	assert.Equal(t, 100.0, tg.TaskSetsInfo[0].TrafficWeight)
	assert.Equal(t, int64(0), tg.TaskSetsInfo[1].RunningCount, "the replacement's tasks are stopped")
	svc := e.describeService(t, "web")
	assert.Equal(t, e.v1, aws.ToString(svc.TaskDefinition))
	assert.Equal(t, int32(2), svc.RunningCount)
	assert.Contains(t, aws.ToString(svc.LoadBalancers[0].TargetGroupArn), "targetgroup/web-blue/")
}

func TestCodeDeploy_StopWithAutoRollbackAfterProductionShiftPutsTheServiceBack(t *testing.T) {
	e := newCodeDeployEnv(t, false)
	id := e.deployV2(t)
	for i := 0; ; i++ {
		require.Less(t, i, 40, "production traffic never reached green")
		e.get(t, id)
		if greenWeight(e.target(t, id)) == 100 {
			break
		}
	}
	out, err := e.cd.StopDeployment(e.ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String(id), AutoRollbackEnabled: aws.Bool(true)})
	require.NoError(t, err)
	assert.Equal(t, cdtypes.StopStatusPending, out.Status)

	r := e.rolledBack(t, id, cdtypes.DeploymentStatusStopped, cdtypes.DeploymentStatusSucceeded)
	assert.Nil(t, r.ErrorInformation)
	d := e.get(t, id)
	assert.Equal(t, cdtypes.ErrorCodeManualStop, d.ErrorInformation.Code)
	assert.Equal(t, cdtypes.LifecycleEventStatusSkipped, eventStatuses(e.target(t, id))["AfterAllowTraffic"])
	e.servesV1(t, aws.ToString(r.DeploymentId))
}

func TestCodeDeploy_GreenTasksNeverHealthyFailInstallAndRollBack(t *testing.T) {
	e := newCodeDeployEnv(t, false)
	failingRevision(e.env, &e.v2, awssim.TaskBehavior{Unhealthy: true})
	id := e.deployV2(t)
	d, log := e.poll(t, id, 40, cdStatus(cdtypes.DeploymentStatusFailed))
	assert.Equal(t, cdtypes.ErrorCodeEcsUpdateError, d.ErrorInformation.Code)
	assert.Equal(t, int64(1), d.DeploymentOverview.Failed)
	assert.NotContains(t, log.weights, "AllowTraffic", "production never moved")
	ev := eventStatuses(e.target(t, id))
	assert.Equal(t, cdtypes.LifecycleEventStatusFailed, ev["Install"])
	assert.Equal(t, cdtypes.LifecycleEventStatusSkipped, ev["AllowTestTraffic"])

	r := e.rolledBack(t, id, cdtypes.DeploymentStatusFailed, cdtypes.DeploymentStatusSucceeded)
	e.servesV1(t, aws.ToString(r.DeploymentId))
}

func TestCodeDeploy_FailingLifecycleEventFailsTheDeploymentAndRollsBack(t *testing.T) {
	e := newCodeDeployEnv(t, false)
	e.sim.CodeDeploy.FailAt("web-dg", "AfterAllowTestTraffic")
	id := e.deployV2(t)
	d, log := e.poll(t, id, 40, cdStatus(cdtypes.DeploymentStatusFailed))
	assert.Equal(t, cdtypes.ErrorCodeHookExecutionFailure, d.ErrorInformation.Code)
	assert.Equal(t, ecsEventOrder[:5], log.events, "it stopped at the gate on test traffic")
	assert.Equal(t, cdtypes.LifecycleEventStatusFailed, eventStatuses(e.target(t, id))["AfterAllowTestTraffic"])
	assert.Equal(t, 0.0, log.weights["AllowTestTraffic"], "production never moved")

	r := e.rolledBack(t, id, cdtypes.DeploymentStatusFailed, cdtypes.DeploymentStatusSucceeded)
	e.servesV1(t, aws.ToString(r.DeploymentId))

	next := e.deployV2(t) // FailAt scripts one deployment
	e.poll(t, next, 60, cdStatus(cdtypes.DeploymentStatusSucceeded))
}

func TestCodeDeploy_FailRollbacksLeavesTrafficWhereItWas(t *testing.T) {
	e := newCodeDeployEnv(t, false)
	e.sim.CodeDeploy.FailAt("web-dg", "AfterAllowTraffic")
	e.sim.CodeDeploy.FailRollbacks("web-dg")
	id := e.deployV2(t)
	e.poll(t, id, 40, cdStatus(cdtypes.DeploymentStatusFailed))
	r := e.rolledBack(t, id, cdtypes.DeploymentStatusFailed, cdtypes.DeploymentStatusFailed)
	assert.NotNil(t, r.ErrorInformation)
	assert.Equal(t, 100.0, greenWeight(e.target(t, aws.ToString(r.DeploymentId))), "production still on green: reported, not hidden")
	assert.Contains(t, aws.ToString(e.get(t, id).RollbackInfo.RollbackMessage), "failed")
}

func TestCodeDeploy_ErrorsAreTheReferencesExceptions(t *testing.T) {
	e := newCodeDeployEnv(t, true)

	_, err := e.cd.GetDeployment(e.ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String("d-AAAAAAAAA")})
	var missing *cdtypes.DeploymentDoesNotExistException
	require.ErrorAs(t, err, &missing)

	for name, content := range map[string]string{
		"not YAML":             "Resources: [",
		"no TargetService":     "version: 0.0\nResources: []\n",
		"unknown revision":     appSpec("arn:aws:ecs:eu-west-1:123456789012:task-definition/api:99", "app", 8080),
		"container not in it":  appSpec(e.v2, "web", 8080),
		"no port":              appSpec(e.v2, "app", 0),
		"JSON, wrong resource": `{"version": 0.0, "Resources": [{"TargetService": {"Type": "AWS::Lambda::Function"}}]}`,
	} {
		_, err := e.create(t, content)
		var invalid *cdtypes.InvalidRevisionException
		assert.ErrorAs(t, err, &invalid, name)
	}

	id := e.deployV2(t)
	_, err = e.create(t, appSpec(e.v2, "app", 8080))
	var busy *cdtypes.DeploymentLimitExceededException
	require.ErrorAs(t, err, &busy, "one active deployment per group")

	e.get(t, id) // InProgress, not Ready
	_, err = e.cd.ContinueDeployment(e.ctx, &codedeploy.ContinueDeploymentInput{DeploymentId: aws.String(id)})
	var notReady *cdtypes.DeploymentIsNotInReadyStateException
	require.ErrorAs(t, err, &notReady)

	e.poll(t, id, 40, cdStatus(cdtypes.DeploymentStatusReady))
	_, err = e.cd.ContinueDeployment(e.ctx, &codedeploy.ContinueDeploymentInput{DeploymentId: aws.String(id)})
	require.NoError(t, err, "READY_WAIT is the default wait type")
	e.poll(t, id, 20, cdStatus(cdtypes.DeploymentStatusSucceeded))
	_, err = e.cd.ContinueDeployment(e.ctx, &codedeploy.ContinueDeploymentInput{DeploymentId: aws.String(id)})
	var completed *cdtypes.DeploymentAlreadyCompletedException
	require.ErrorAs(t, err, &completed)
	_, err = e.cd.StopDeployment(e.ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String(id)})
	require.ErrorAs(t, err, &completed)
	_, err = e.cd.GetDeploymentTarget(e.ctx, &codedeploy.GetDeploymentTargetInput{DeploymentId: aws.String(id), TargetId: aws.String("main:other")})
	var noTarget *cdtypes.DeploymentTargetDoesNotExistException
	require.ErrorAs(t, err, &noTarget)
}

// The engine's gate on test traffic: the deployment waits in Ready, the
// gate fails, StopDeployment with auto rollback; production never moved.
func TestCodeDeploy_StopWhileReadyRollsBackWithoutProductionEverMoving(t *testing.T) {
	e := newCodeDeployEnv(t, true)
	id := e.deployV2(t)
	_, log := e.poll(t, id, 40, cdStatus(cdtypes.DeploymentStatusReady))
	_, err := e.cd.StopDeployment(e.ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String(id), AutoRollbackEnabled: aws.Bool(true)})
	require.NoError(t, err)
	assert.NotContains(t, log.weights, "AllowTraffic")
	ev := eventStatuses(e.target(t, id))
	assert.Equal(t, cdtypes.LifecycleEventStatusSucceeded, ev["AfterAllowTestTraffic"])
	assert.Equal(t, cdtypes.LifecycleEventStatusSkipped, ev["AllowTraffic"])
	r := e.rolledBack(t, id, cdtypes.DeploymentStatusStopped, cdtypes.DeploymentStatusSucceeded)
	e.servesV1(t, aws.ToString(r.DeploymentId))
}

func TestCodeDeploy_SuccessiveDeploymentsAlternateTargetGroups(t *testing.T) {
	e := newCodeDeployEnv(t, false)
	first := e.deployV2(t)
	e.poll(t, first, 60, cdStatus(cdtypes.DeploymentStatusSucceeded))
	v3 := e.registerApp(t, "api")
	second, err := e.create(t, appSpec(v3, "app", 8080))
	require.NoError(t, err)
	e.poll(t, second, 60, cdStatus(cdtypes.DeploymentStatusSucceeded))
	tg := e.target(t, second)
	require.Len(t, tg.TaskSetsInfo, 2)
	assert.Equal(t, "web-green", aws.ToString(tg.TaskSetsInfo[0].TargetGroup.Name), "v2 served from green")
	assert.Equal(t, "web-blue", aws.ToString(tg.TaskSetsInfo[1].TargetGroup.Name), "v3 replaced it on blue")
	svc := e.describeService(t, "web")
	assert.Equal(t, v3, aws.ToString(svc.TaskDefinition))
	assert.Contains(t, aws.ToString(svc.LoadBalancers[0].TargetGroupArn), "targetgroup/web-blue/")
}
