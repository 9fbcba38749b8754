package ecsdeploy_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/release"
)

// killedMidShift leaves the service as a release killed by the engine
// (Ctrl-C through the dagger CLI) leaves it: its deploy lock held, and the
// blue/green service deployment it started paused by the PAUSE hook after
// the test traffic shift, production still on v1. It returns the
// deployment's ARN.
func killedMidShift(t *testing.T, e *env, store *release.Store) string {
	t.Helper()
	_, err := store.Acquire(t.Context(), "backend/main/api", release.Holder{Who: "alice@laptop",
		What: "backend deploy of main/api; the service ran api:1 before it: if it died mid-rollout, check the service and roll it back to revision api:1"}, release.LockOptions{})
	require.NoError(t, err)
	v2 := e.register(t, appTaskDef())
	_, err = e.ecs.UpdateService(t.Context(), &ecs.UpdateServiceInput{Cluster: aws.String("main"), Service: aws.String("api"), TaskDefinition: aws.String(v2)})
	require.NoError(t, err)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		list, err := e.ecs.ListServiceDeployments(t.Context(), &ecs.ListServiceDeploymentsInput{Cluster: aws.String("main"), Service: aws.String("api")})
		require.NoError(t, err)
		require.Len(t, list.ServiceDeployments, 1)
		arn := aws.ToString(list.ServiceDeployments[0].ServiceDeploymentArn)
		out, err := e.ecs.DescribeServiceDeployments(t.Context(), &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{arn}})
		require.NoError(t, err)
		if sd := out.ServiceDeployments[0]; sd.LifecycleStage == types.ServiceDeploymentLifecycleStagePostTestTrafficShift &&
			len(sd.LifecycleHookDetails) > 0 && sd.LifecycleHookDetails[0].Status == types.DeploymentLifecycleHookStatusAwaitingAction {
			return arn
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("the service deployment never paused after the test traffic shift")
	return ""
}

func serviceDeploymentStatus(t *testing.T, e *env, arn string) types.ServiceDeploymentStatus {
	t.Helper()
	out, err := e.ecs.DescribeServiceDeployments(t.Context(), &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{arn}})
	require.NoError(t, err)
	return out.ServiceDeployments[0].Status
}

// backend rollback after an interrupted release stops the service
// deployment it left in progress with ROLLBACK: all traffic back on the
// exact revision before, and a record that says so. The dead release's lock
// is broken only when asked.
func TestRollback_StopsTheServiceDeploymentAnInterruptedReleaseLeft(t *testing.T) {
	e := newEnv(t, blueGreen())
	store := newStore(t)
	arn := killedMidShift(t, e, store)
	ro := ecsdeploy.RollbackOptions{Cluster: "main", Service: "api", Releases: store, Who: "alice@laptop",
		Timeout: 20 * time.Second, PollInterval: time.Millisecond, Out: e.out}

	_, err := ecsdeploy.Rollback(t.Context(), e.clients, ro)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "roll it back to revision api:1", "the lock says what the dead release left")
	assert.Equal(t, types.ServiceDeploymentStatusInProgress, serviceDeploymentStatus(t, e, arn), "nothing was changed without breaking the lock")

	ro.BreakLock = true
	rec, err := ecsdeploy.Rollback(t.Context(), e.clients, ro)
	require.NoError(t, err)
	assert.Equal(t, types.ServiceDeploymentStatusRollbackSuccessful, serviceDeploymentStatus(t, e, arn))
	assert.Equal(t, e.v1, aws.ToString(e.service(t).TaskDefinition))
	assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
	assert.Equal(t, e.v1, rec.Backend.AfterRevision)
	assert.Equal(t, arn, rec.Backend.ServiceDeployment)
	assert.Equal(t, "blue/green", rec.Backend.Strategy)
	recs, err := store.List(t.Context(), release.KindBackend, "main/api")
	require.NoError(t, err)
	require.Len(t, recs, 1)
	last := recs[0].Steps[len(recs[0].Steps)-1]
	assert.Equal(t, "rollback", last.Name)
	assert.Contains(t, last.Detail, "ROLLBACK_SUCCESSFUL: all production traffic is on api:1")
	assert.Contains(t, e.out.String(), "production 100% blue / 0% green")

	// Nothing is in progress any more: the lock is free, the service stable.
	_, err = ecsdeploy.Deploy(t.Context(), e.clients, func() ecsdeploy.DeployOptions {
		o := e.opts(imgV2)
		o.Releases, o.Who, o.DryRun = store, "alice@laptop", true
		return o
	}())
	require.NoError(t, err)
}

// A revision named for the rollback must be the one the deployment in
// progress replaced: stopping it can go back to nothing else.
func TestRollback_ToAnotherRevisionThanTheInterruptedDeploymentsSourceIsRefused(t *testing.T) {
	e := newEnv(t, blueGreen())
	store := newStore(t)
	arn := killedMidShift(t, e, store)
	ro := ecsdeploy.RollbackOptions{Cluster: "main", Service: "api", Releases: store, Who: "alice@laptop", BreakLock: true,
		ToRevision: "api:2", Timeout: 20 * time.Second, PollInterval: time.Millisecond, Out: e.out}
	_, err := ecsdeploy.Rollback(t.Context(), e.clients, ro)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "can only stop it and go back to that revision, not to api:2")
	assert.Equal(t, types.ServiceDeploymentStatusInProgress, serviceDeploymentStatus(t, e, arn))

	ro.ToRevision = "api:1"
	_, err = ecsdeploy.Rollback(t.Context(), e.clients, ro)
	require.NoError(t, err)
	assert.Equal(t, types.ServiceDeploymentStatusRollbackSuccessful, serviceDeploymentStatus(t, e, arn))
	assert.Equal(t, e.v1, aws.ToString(e.service(t).TaskDefinition))
}

// A release meeting the deployment an interrupted release left paused says
// that nothing will finish it, and how to end it.
func TestDeploy_SaysHowToEndTheDeploymentAnInterruptedReleaseLeft(t *testing.T) {
	e := newEnv(t, blueGreen())
	killedMidShift(t, e, newStore(t))
	o := e.opts(imgV2)
	_, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is not stable")
	assert.Contains(t, err.Error(), "if the release that started it was interrupted, nothing will finish it: run backend rollback with --break-lock")
}
