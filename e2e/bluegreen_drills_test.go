//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sandbox"
	"github.com/futuraplataforma/esteira/internal/sandbox/control"
)

// ECS fails to roll back web after its gate failed on test traffic
// (ROLLBACK_FAILED): the release says so, where production traffic is
// (all of it still on blue, the pre-deploy revision) and what to do, and
// records the state as failed, not as rolled back.
func TestRelease_ABlueGreenRollbackThatFailsIsReportedNotHidden(t *testing.T) {
	ctx := t.Context()
	require.NoError(t, control.SetRules(ctx, endpoint, nil))
	before := steadyRevision(t, sandbox.BlueGreen)
	require.NoError(t, control.SetDeployments(ctx, endpoint, awssim.DeploymentRules{ECS: []awssim.ECSDeploymentRule{{Service: sandbox.BlueGreen, FailRollback: true}}}))
	t.Cleanup(func() { _ = control.SetDeployments(context.WithoutCancel(ctx), endpoint, awssim.DeploymentRules{}) })
	t.Cleanup(func() { restoreBlueGreen(t, before) })
	ref := strings.TrimSpace(ok(t, inSandbox(t, "publish", "--source", "./examples/backend", "--repository", sandbox.Repository, "--tag", unique("e2e-bg-rbfail"))))
	project := blueGreenProject(t, `case "$ESTEIRA_URL" in *test-listener*) echo "esteira e2e: /health answered 500"; exit 1;; esac`, true)

	r := inSandbox(t, "env", "--name", "bluegreen", "--project", project, "--poll-interval", "1s", "release", "--image", ref)
	fails(t, r, "the quality gate failed on test traffic", "blue/green deployment ROLLBACK_FAILED", "Service deployment rollback failed",
		"(production 100% blue / 0% green, test 100% green)", "the service state is UNCERTAIN",
		"then roll the backend back to revision "+revName(before),
		"NOT every service could be rolled back", "web UNCERTAIN (its rollback failed: roll it back to revision "+revName(before)+")")
	logOutcome(t, r)
	neverGreenInProduction(t, r.stderr)

	rec := newestRecord(t, sandbox.BlueGreen)
	assert.Equal(t, release.OutcomeFailed, rec.Outcome, "an uncertain state is recorded as failed, never as rolled back")
	assert.Contains(t, rec.Error, "ROLLBACK_FAILED")
	assert.Contains(t, rec.Error, "UNCERTAIN")
	assert.Equal(t, before, rec.Backend.BeforeRevision)
	assert.Contains(t, r.stderr, rec.Backend.ServiceDeployment, "the record names the service deployment the run followed")
	require.NotNil(t, rec.Backend.TestGate)
	assert.False(t, rec.Backend.TestGate.Passed)

	// Where traffic is, as ECS says: the rollback to the source revision
	// failed with every bit of production traffic still on it, and the
	// source's tasks, of the exact pre-deploy task definition, still run.
	sd := describeServiceDeployment(t, rec.Backend.ServiceDeployment)
	assert.Equal(t, types.ServiceDeploymentStatusRollbackFailed, sd.Status)
	require.Len(t, sd.SourceServiceRevisions, 1)
	assert.Equal(t, 100.0, aws.ToFloat64(sd.SourceServiceRevisions[0].RequestedProductionTrafficWeight))
	assert.Equal(t, 0.0, aws.ToFloat64(sd.TargetServiceRevision.RequestedProductionTrafficWeight))
	require.NotNil(t, sd.Rollback)
	assert.Equal(t, aws.ToString(sd.SourceServiceRevisions[0].Arn), aws.ToString(sd.Rollback.ServiceRevisionArn))
	blue := deploymentOf(t, sandbox.BlueGreen, before)
	require.NotNil(t, blue, "the pre-deploy revision's deployment is still there")
	assert.Equal(t, blue.DesiredCount, blue.RunningCount, "and its tasks serve production")

	// What the error says to do brings the service back to a steady state
	// on the exact pre-deploy revision: the rollback's service deployment
	// goes through web's PAUSE hook, which esteira continues.
	rb := inSandbox(t, "env", "--name", "bluegreen", "--project", project, "--poll-interval", "1s", "backend", "rollback", "--to-revision", revName(before))
	require.Equal(t, 0, rb.code, "backend rollback, as the error says:\n%s", rb)
	assert.Contains(t, rb.stderr, "continuing the PAUSE hook")
	assert.Equal(t, before, steadyRevision(t, sandbox.BlueGreen))
	back := newestRecord(t, sandbox.BlueGreen)
	assert.Equal(t, release.OutcomeSucceeded, back.Outcome, "the rollback's record")
	assert.Equal(t, before, back.Backend.AfterRevision)
	assert.Equal(t, types.ServiceDeploymentStatusSuccessful, describeServiceDeployment(t, back.Backend.ServiceDeployment).Status)
}

// web-5xx fires once production traffic is on green: ECS rolls the
// deployment back by itself and the release says so; the alarm is put
// back to OK for the drills after this one.
func TestRelease_ABlueGreenDeploymentWhoseAlarmFiresIsRolledBack(t *testing.T) {
	ctx := t.Context()
	require.NoError(t, control.SetRules(ctx, endpoint, nil))
	before := steadyRevision(t, sandbox.BlueGreen)
	t.Cleanup(func() {
		_ = control.SetDeployments(context.WithoutCancel(ctx), endpoint, awssim.DeploymentRules{Alarms: []awssim.AlarmRule{{Name: sandbox.BlueGreenAlarm, State: "OK"}}})
	})
	// Two looks by ECS once production traffic moved: it fires in the bake.
	require.NoError(t, control.SetDeployments(ctx, endpoint, awssim.DeploymentRules{Alarms: []awssim.AlarmRule{{Name: sandbox.BlueGreenAlarm, FireAfter: 2, Reason: "esteira e2e: 5xx above 1%"}}}))
	ref := strings.TrimSpace(ok(t, inSandbox(t, "publish", "--source", "./examples/backend", "--repository", sandbox.Repository, "--tag", unique("e2e-bg-alarm"))))
	project := blueGreenProject(t, `echo "gate at $ESTEIRA_URL: ok"`, true)

	r := inSandbox(t, "env", "--name", "bluegreen", "--project", project, "--poll-interval", "1s", "release", "--image", ref)
	fails(t, r, "quality gate passed on test traffic", "ROLLBACK_SUCCESSFUL", sandbox.BlueGreenAlarm, "ECS rolled it back", "all production traffic is on "+revName(before))
	logOutcome(t, r)
	assert.NotContains(t, r.stderr, "blue/green SUCCESSFUL", "never a success (the status line of one reads so)")
	assert.Equal(t, before, steadyRevision(t, sandbox.BlueGreen), "the exact pre-deploy revision is live")
	rec := newestRecord(t, sandbox.BlueGreen)
	assert.Equal(t, release.OutcomeRolledBack, rec.Outcome)
	assert.Contains(t, rec.Error, sandbox.BlueGreenAlarm)
	sd := describeServiceDeployment(t, rec.Backend.ServiceDeployment)
	assert.Equal(t, []string{sandbox.BlueGreenAlarm}, sd.Alarms.TriggeredAlarmNames)
	assert.Equal(t, 100.0, aws.ToFloat64(sd.SourceServiceRevisions[0].RequestedProductionTrafficWeight), "production back on blue")
}

// logOutcome logs the lines of a drill's output that say how the
// release ended, so a -v run shows each drill's report.
func logOutcome(t *testing.T, r result) {
	t.Helper()
	for _, line := range strings.Split(r.stderr, "\n") {
		if strings.Contains(line, "deploy FAILED") || strings.Contains(line, "timed out") {
			t.Log(strings.TrimSpace(line))
		}
	}
}

// blueGreenProject writes an esteira.yaml releasing web with the gate
// command, and a test URL when testURL.
func blueGreenProject(t *testing.T, gate string, testURL bool) string {
	t.Helper()
	project := t.TempDir()
	test := ""
	if testURL {
		test = "    testUrl: http://test-listener.sandbox.example/\n"
	}
	require.NoError(t, os.WriteFile(filepath.Join(project, "esteira.yaml"), []byte(`environments:
  bluegreen:
    repository: backend
    url: http://www.sandbox.example/
`+test+`    gate:
      image: debian:bookworm
      command: [sh, -c, '`+gate+`']
    backend:
      cluster: sandbox
      services: [web]
      strategy: blue-green
`), 0o644))
	return project
}

// neverGreenInProduction checks every traffic line printed put no
// production traffic on the new revision.
func neverGreenInProduction(t *testing.T, stderr string) {
	t.Helper()
	seen := regexp.MustCompile(`production \S+% blue / \S+% green`).FindAllString(stderr, -1)
	require.NotEmpty(t, seen, "the traffic was printed")
	for _, s := range seen {
		assert.Contains(t, s, "/ 0% green", "production traffic never moved to the release")
	}
}

// steadyRevision is the task definition ARN a service runs, and requires
// it steady: one deployment, COMPLETED (or, for a CodeDeploy service, the
// service's task definition).
func steadyRevision(t *testing.T, service string) string {
	t.Helper()
	svc := describeSvc(t, service)
	if svc.DeploymentController != nil && svc.DeploymentController.Type == types.DeploymentControllerTypeCodeDeploy {
		return aws.ToString(svc.TaskDefinition)
	}
	require.Len(t, svc.Deployments, 1, "service %s is steady", service)
	require.Equal(t, types.DeploymentRolloutStateCompleted, svc.Deployments[0].RolloutState, "service %s is steady", service)
	return aws.ToString(svc.Deployments[0].TaskDefinition)
}

func describeSvc(t *testing.T, service string) types.Service {
	t.Helper()
	out, err := ecsClient().DescribeServices(t.Context(), &ecs.DescribeServicesInput{Cluster: aws.String(sandbox.Cluster), Services: []string{service}})
	require.NoError(t, err)
	require.Len(t, out.Services, 1)
	return out.Services[0]
}

// deploymentOf is the service's deployment of a task definition, or nil.
func deploymentOf(t *testing.T, service, taskDefinition string) *types.Deployment {
	t.Helper()
	for _, d := range describeSvc(t, service).Deployments {
		if aws.ToString(d.TaskDefinition) == taskDefinition {
			return &d
		}
	}
	return nil
}

func describeServiceDeployment(t *testing.T, arn string) types.ServiceDeployment {
	t.Helper()
	require.NotEmpty(t, arn)
	out, err := ecsClient().DescribeServiceDeployments(t.Context(), &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{arn}})
	require.NoError(t, err)
	require.Len(t, out.ServiceDeployments, 1)
	return out.ServiceDeployments[0]
}

// newestRecord is the newest release record of a service in the sandbox.
func newestRecord(t *testing.T, service string) *release.Record {
	t.Helper()
	recs, err := release.NewStore(s3Client(), sandbox.ReleaseBucket, "esteira").List(t.Context(), release.KindBackend, sandbox.Cluster+"/"+service)
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	return recs[0]
}

// restoreBlueGreen brings web back to a steady state on revision, as the
// error of a failed rollback tells an operator to: a new service
// deployment to it, let through its PAUSE hooks, followed to SUCCESSFUL.
// It does nothing when web already runs revision, steady.
func restoreBlueGreen(t *testing.T, revision string) {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	api := ecsClient()
	out, err := api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(sandbox.Cluster), Services: []string{sandbox.BlueGreen}})
	require.NoError(t, err)
	if d := out.Services[0].Deployments; len(d) == 1 && aws.ToString(d[0].TaskDefinition) == revision && d[0].RolloutState == types.DeploymentRolloutStateCompleted {
		return
	}
	up, err := api.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(sandbox.Cluster), Service: aws.String(sandbox.BlueGreen), TaskDefinition: aws.String(revision)})
	require.NoError(t, err)
	arn := aws.ToString(up.Service.CurrentServiceDeployment)
	if arn == "" {
		list, err := api.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String(sandbox.Cluster), Service: aws.String(sandbox.BlueGreen),
			Status: []types.ServiceDeploymentStatus{types.ServiceDeploymentStatusPending, types.ServiceDeploymentStatusInProgress}})
		require.NoError(t, err)
		require.NotEmpty(t, list.ServiceDeployments, "the update started a service deployment")
		arn = aws.ToString(list.ServiceDeployments[0].ServiceDeploymentArn)
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(time.Second) {
		require.True(t, time.Now().Before(deadline), "web did not get back to %s", revName(revision))
		sd := describeServiceDeployment(t, arn)
		if sd.Status == types.ServiceDeploymentStatusSuccessful {
			return
		}
		require.Contains(t, []types.ServiceDeploymentStatus{types.ServiceDeploymentStatusPending, types.ServiceDeploymentStatusInProgress}, sd.Status,
			"restoring web to %s: %s", revName(revision), aws.ToString(sd.StatusReason))
		for _, h := range sd.LifecycleHookDetails {
			if h.TargetType == types.DeploymentLifecycleHookTargetTypePause && h.Status == types.DeploymentLifecycleHookStatusAwaitingAction {
				_, err := api.ContinueServiceDeployment(ctx, &ecs.ContinueServiceDeploymentInput{ServiceDeploymentArn: aws.String(arn), HookId: h.HookId,
					Action: types.DeploymentLifecycleHookActionContinue})
				require.NoError(t, err)
			}
		}
	}
}
