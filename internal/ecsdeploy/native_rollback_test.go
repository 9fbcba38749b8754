package ecsdeploy_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/release"
)

// serviceDeployments lists the service deployments of api, newest first.
func serviceDeployments(t *testing.T, e *env) []types.ServiceDeploymentBrief {
	t.Helper()
	out, err := e.ecs.ListServiceDeployments(t.Context(), &ecs.ListServiceDeploymentsInput{Cluster: aws.String("main"), Service: aws.String("api")})
	require.NoError(t, err)
	return out.ServiceDeployments
}

// After ECS's own rollback failed, the release's error says to roll the
// backend back to the revision before; doing so goes through the service's
// PAUSE hook, which esteira continues: the target is the known-good
// revision, and no one else would.
func TestRollback_AfterABlueGreenRollbackFailedGoesBackThroughThePause(t *testing.T) {
	e := newEnv(t, blueGreen())
	e.sim.ECS.FailRollbacks("api")
	runs := 0
	o := e.opts(imgV2)
	o.TestGate = gate(&runs, errors.New("smoke test failed"))
	_, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	require.Contains(t, err.Error(), "roll the backend back to revision api:1")
	failed := len(serviceDeployments(t, e))

	rec, err := ecsdeploy.Rollback(t.Context(), e.clients, ecsdeploy.RollbackOptions{Cluster: "main", Service: "api", ToRevision: "api:1",
		Timeout: 10 * time.Second, PollInterval: time.Millisecond, Out: e.out})
	require.NoError(t, err, e.out.String())
	assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
	assert.Equal(t, e.v1, aws.ToString(e.service(t).TaskDefinition))
	assert.Equal(t, e.v1, e.live(t, "api"))
	sds := serviceDeployments(t, e)
	require.Len(t, sds, failed+1, "one new service deployment, to api:1")
	arn := rec.Backend.ServiceDeployment
	require.NotEmpty(t, arn, "the record names the service deployment that went back")
	assert.Equal(t, types.ServiceDeploymentStatusSuccessful, serviceDeploymentStatus(t, e, arn))
	assert.Equal(t, "blue/green", rec.Backend.Strategy)
	assert.Contains(t, e.out.String(), "continuing the PAUSE hook")
	assert.Equal(t, 1, runs, "going back is not gated")
}

// In a group, a blue/green service that went live is taken back when
// another service fails: through its PAUSE hook, to the exact revision
// before, and its record says it was rolled back.
func TestDeployGroup_ABlueGreenServiceThatWentLiveIsTakenBackThroughItsPause(t *testing.T) {
	e := newEnv(t, blueGreen())
	workerV1 := withWorker(t, e)
	e.sim.ECS.OnServiceTask(func(arn string) awssim.TaskBehavior {
		return awssim.TaskBehavior{Unhealthy: strings.HasSuffix(arn, "worker:2")}
	})
	runs := 0
	o := e.opts(imgV2)
	o.Releases, o.Who, o.FailureThreshold, o.TestGate = newStore(t), "ci", 2, gate(&runs, nil)
	o.Timeout = 10 * time.Second
	recs, err := ecsdeploy.DeployGroup(t.Context(), e.clients, o, []string{"api", "worker"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "every service is back on its recorded revision", e.out.String())
	assert.Equal(t, e.v1, e.live(t, "api"))
	assert.Equal(t, e.v1, aws.ToString(e.service(t).TaskDefinition))
	assert.Equal(t, workerV1, e.live(t, "worker"))
	require.Len(t, recs, 2)
	assert.Equal(t, release.OutcomeRolledBack, recs[0].Outcome)
	assert.Contains(t, recs[0].Error, "service deployment SUCCESSFUL, the service runs the pre-deploy version")
	require.NotNil(t, recs[0].Backend.TestGate, "the release's own gate run is kept in the record")
	assert.True(t, recs[0].Backend.TestGate.Passed)
	assert.Equal(t, 1, runs, "going back is not gated")
	for _, sd := range serviceDeployments(t, e) {
		assert.Equal(t, types.ServiceDeploymentStatusSuccessful, sd.Status, aws.ToString(sd.ServiceDeploymentArn))
	}
}
