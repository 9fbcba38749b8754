package ecsdeploy_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/release"
)

// withWorker adds a service "worker" (family "worker", the same image) to e
// and returns its live revision ARN.
func withWorker(t *testing.T, e *env) string {
	t.Helper()
	in := appTaskDef()
	in.Family = aws.String("worker")
	in.ContainerDefinitions[0].Command = []string{"worker"}
	in.ContainerDefinitions[0].Secrets[0].ValueFrom = aws.String(e.sim.Secrets.ARN("prod/db"))
	v1 := e.register(t, in)
	e.sim.ECS.CreateService("main", awssim.ServiceSpec{Name: "worker", TaskDefinition: v1, DesiredCount: 2,
		Subnets: []string{"subnet-1"}, SecurityGroups: []string{"sg-1"}})
	return v1
}

func (e *env) live(t *testing.T, service string) string {
	t.Helper()
	out, err := e.ecs.DescribeServices(t.Context(), &ecs.DescribeServicesInput{Cluster: aws.String("main"), Services: []string{service}})
	require.NoError(t, err)
	require.Len(t, out.Services, 1)
	for _, d := range out.Services[0].Deployments {
		if aws.ToString(d.Status) == "PRIMARY" {
			return aws.ToString(d.TaskDefinition)
		}
	}
	t.Fatalf("service %s has no PRIMARY deployment", service)
	return ""
}

func TestDeployGroup_MigratesOnceThenRollsOutEveryService(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	withWorker(t, e)
	var migrations []awssim.RunTaskCall
	e.sim.ECS.OnRunTask(func(c awssim.RunTaskCall) awssim.TaskBehavior {
		migrations = append(migrations, c)
		return awssim.TaskBehavior{}
	})
	o := e.opts(imgV2)
	o.MigrateCommand, o.Releases, o.Who = []string{"./app", "migrate"}, newStore(t), "ci"
	recs, err := ecsdeploy.DeployGroup(t.Context(), e.clients, o, []string{"api", "worker"})
	require.NoError(t, err, e.out.String())
	require.Len(t, recs, 2)
	for _, r := range recs {
		assert.Equal(t, release.OutcomeSucceeded, r.Outcome, r.Target)
	}
	assert.True(t, strings.HasSuffix(e.live(t, "api"), "api:2"))
	assert.True(t, strings.HasSuffix(e.live(t, "worker"), "worker:2"))
	require.Len(t, migrations, 1, "the migration runs once")
	assert.True(t, strings.HasSuffix(migrations[0].TaskDefinitionArn, "api:2"), "in the first service's new revision")
	require.NotNil(t, recs[0].Backend.Migration)
	assert.Nil(t, recs[1].Backend.Migration)
	assert.Contains(t, e.out.String(), "[worker] ==> deploy", "each service's lines are prefixed")
}

// A worker whose new tasks never get healthy: the API, which rolled out
// fine, is rolled back with it; both end on their recorded revisions.
func TestDeployGroup_AFailingServiceRollsEveryServiceBack(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	workerV1 := withWorker(t, e)
	e.sim.ECS.OnServiceTask(func(arn string) awssim.TaskBehavior {
		return awssim.TaskBehavior{Unhealthy: strings.HasSuffix(arn, "worker:2")}
	})
	o := e.opts(imgV2)
	o.Releases, o.Who, o.FailureThreshold = newStore(t), "ci", 2
	recs, err := ecsdeploy.DeployGroup(t.Context(), e.clients, o, []string{"api", "worker"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "release of api, worker FAILED: worker:")
	assert.Contains(t, err.Error(), "every service is back on its recorded revision")
	assert.Equal(t, e.v1, e.live(t, "api"))
	assert.Equal(t, workerV1, e.live(t, "worker"))
	require.Len(t, recs, 2)
	for _, r := range recs {
		assert.Equal(t, release.OutcomeRolledBack, r.Outcome, r.Target)
	}
	assert.Contains(t, recs[0].Error, "worker failed to roll out", "the API's record says why it was rolled back")
}

// A failed migration: no service is updated and every new revision is
// deregistered.
func TestDeployGroup_AFailedMigrationChangesNoService(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	workerV1 := withWorker(t, e)
	e.sim.ECS.OnRunTask(func(awssim.RunTaskCall) awssim.TaskBehavior {
		return awssim.TaskBehavior{ExitCodes: map[string]int{"app": 1}}
	})
	o := e.opts(imgV2)
	o.MigrateCommand = []string{"./app", "migrate"}
	recs, err := ecsdeploy.DeployGroup(t.Context(), e.clients, o, []string{"api", "worker"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no service was changed")
	assert.Zero(t, e.sim.Count("ecs", "UpdateService"))
	assert.Equal(t, e.v1, e.live(t, "api"))
	assert.Equal(t, workerV1, e.live(t, "worker"))
	assert.Equal(t, 2, e.sim.Count("ecs", "DeregisterTaskDefinition"), "both new revisions")
	require.Len(t, recs, 2)
	assert.Equal(t, release.OutcomeFailed, recs[1].Outcome)
}

func TestDeployGroup_RefusesBadServicesBeforeAnyChange(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	_, err := ecsdeploy.DeployGroup(t.Context(), e.clients, e.opts(imgV2), []string{"api", "nope"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nope")
	assert.Equal(t, 1, e.sim.Count("ecs", "RegisterTaskDefinition"), "only the seeded revision")
	_, err = ecsdeploy.DeployGroup(t.Context(), e.clients, e.opts(imgV2), []string{"api", "api"})
	assert.ErrorContains(t, err, "listed twice")
	_, err = ecsdeploy.DeployGroup(t.Context(), e.clients, e.opts(imgV2), nil)
	assert.ErrorContains(t, err, "no service given")
}

// Several services, one migration: one snapshot, before it, in the first
// service's record.
func TestDeployGroup_SnapshotsOnceBeforeTheOneMigration(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	withWorker(t, e)
	o := e.opts(imgV2)
	o.MigrateCommand, o.SnapshotDB = []string{"./app", "migrate"}, "orders"
	recs, err := ecsdeploy.DeployGroup(t.Context(), e.clients, o, []string{"api", "worker"})
	require.NoError(t, err, e.out.String())
	require.Len(t, recs, 2)
	require.NotNil(t, recs[0].Backend.Snapshot)
	assert.Nil(t, recs[1].Backend.Snapshot)
	assert.Equal(t, []string{recs[0].Backend.Snapshot.ID}, e.sim.RDS.Snapshots("orders"))
	assert.Equal(t, 1, e.sim.Count("rds", "CreateDBSnapshot"))
}
