package ecsdeploy_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/release"
)

func TestDeploy_RollsBackWhenTheRolloutTimesOut(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	e.failRevisionsOtherThan(e.v1, awssim.TaskBehavior{Unhealthy: true})
	o := e.opts(imgV2)
	o.FailureThreshold, o.Timeout, o.PollInterval = 1000, 300*time.Millisecond, 5*time.Millisecond

	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	var rerr *ecsdeploy.RolloutError
	require.ErrorAs(t, err, &rerr)
	assert.Equal(t, ecsdeploy.RolloutTimeout, rerr.Kind)
	assert.Contains(t, err.Error(), "rolled back to api:1")
	assert.Equal(t, e.v1, aws.ToString(e.service(t).TaskDefinition))
	assert.Equal(t, release.OutcomeRolledBack, rec.Outcome)
}

func TestDeploy_StillRollsBackWhenCancelledMidRollout(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	e.sim.ECS.OnServiceTask(func(arn string) awssim.TaskBehavior {
		if arn != e.v1 {
			cancel() // the user presses ctrl-C once new tasks start
			return awssim.TaskBehavior{Unhealthy: true}
		}
		return awssim.TaskBehavior{}
	})
	_, err := ecsdeploy.Deploy(ctx, e.clients, e.opts(imgV2))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rolled back to api:1")
	svc := e.service(t)
	require.Len(t, svc.Deployments, 1)
	assert.Equal(t, e.v1, aws.ToString(svc.Deployments[0].TaskDefinition))
}

func TestDeploy_RefusesAServiceInTheMiddleOfADeployment(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	other := e.register(t, appTaskDef())
	_, err := e.ecs.UpdateService(t.Context(), &ecs.UpdateServiceInput{Cluster: aws.String("main"), Service: aws.String("api"), TaskDefinition: aws.String(other)})
	require.NoError(t, err)
	before := e.mutations()

	_, err = ecsdeploy.Deploy(t.Context(), e.clients, e.opts(imgV2))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "service api is not stable")
	assert.Contains(t, err.Error(), "of api:2 is IN_PROGRESS")
	assert.Equal(t, before, e.mutations())
}

func TestDeploy_MigrationUsesTheServiceCapacityProviderAndNetwork(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{CapacityProviderStrategy: []awssim.CapacityProviderItem{{CapacityProvider: "FARGATE_SPOT", Weight: 1}}})
	o := e.opts(imgV2)
	o.MigrateCommand = []string{"./app", "migrate"}
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)

	var runs []ecs.RunTaskInput
	for _, r := range e.sim.Requests() {
		if r.Service == "ecs" && r.Operation == "RunTask" {
			var in ecs.RunTaskInput
			require.NoError(t, json.Unmarshal(r.Body, &in))
			runs = append(runs, in)
		}
	}
	require.Len(t, runs, 1)
	in := runs[0]
	require.Len(t, in.CapacityProviderStrategy, 1)
	assert.Equal(t, "FARGATE_SPOT", aws.ToString(in.CapacityProviderStrategy[0].CapacityProvider))
	assert.Empty(t, in.LaunchType, "launchType and capacityProviderStrategy are exclusive")
	assert.Equal(t, []string{"subnet-1"}, in.NetworkConfiguration.AwsvpcConfiguration.Subnets)
	assert.Equal(t, "esteira-"+rec.ID+"-migrate", aws.ToString(in.ClientToken))
}
