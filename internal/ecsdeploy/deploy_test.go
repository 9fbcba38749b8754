package ecsdeploy_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/migration"
	"github.com/futuraplataforma/esteira/internal/release"
)

func TestDeploy_MigratesThenRollsOutACopyWithOnlyTheImageChanged(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{CircuitBreaker: true, CircuitBreakerRollback: true})
	var calls []awssim.RunTaskCall
	e.sim.ECS.OnRunTask(func(c awssim.RunTaskCall) awssim.TaskBehavior {
		calls = append(calls, c)
		return awssim.TaskBehavior{LogLines: map[string][]string{"app": {"applying 0042_add_orders", "migrations done"}}}
	})
	o := e.opts(imgV2)
	o.MigrateCommand = []string{"./app", "migrate"}
	o.PriorSteps = []release.Step{{Name: "build", Outcome: release.StepOK}}

	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err, e.out.String())

	svc := e.service(t)
	require.Len(t, svc.Deployments, 1)
	v2 := aws.ToString(svc.Deployments[0].TaskDefinition)
	assert.Equal(t, types.DeploymentRolloutStateCompleted, svc.Deployments[0].RolloutState)
	assert.True(t, strings.HasSuffix(v2, "task-definition/api:2"), v2)

	old, oldTags := e.taskDef(t, e.v1)
	next, nextTags := e.taskDef(t, v2)
	assert.Equal(t, imgV2, aws.ToString(next.ContainerDefinitions[0].Image))
	want := old.ContainerDefinitions[0]
	want.Image = aws.String(imgV2)
	assert.Equal(t, want, next.ContainerDefinitions[0], "everything but the image is carried over")
	assert.Equal(t, old.ContainerDefinitions[1], next.ContainerDefinitions[1])
	for _, f := range []func(*types.TaskDefinition) any{
		func(d *types.TaskDefinition) any { return d.ExecutionRoleArn }, func(d *types.TaskDefinition) any { return d.TaskRoleArn },
		func(d *types.TaskDefinition) any { return d.Cpu }, func(d *types.TaskDefinition) any { return d.Memory },
		func(d *types.TaskDefinition) any { return d.Volumes }, func(d *types.TaskDefinition) any { return d.RuntimePlatform },
		func(d *types.TaskDefinition) any { return d.NetworkMode }, func(d *types.TaskDefinition) any { return d.RequiresCompatibilities },
	} {
		assert.Equal(t, f(old), f(next))
	}
	assert.Equal(t, oldTags, nextTags)

	require.Len(t, calls, 1)
	assert.Equal(t, v2, calls[0].TaskDefinitionArn, "the migration runs the NEW revision")
	assert.Equal(t, []string{"./app", "migrate"}, calls[0].Command["app"])
	assert.Equal(t, "esteira/"+rec.ID, calls[0].StartedBy)

	assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
	assert.Equal(t, e.v1, rec.Backend.BeforeRevision)
	assert.Equal(t, v2, rec.Backend.AfterRevision)
	assert.Equal(t, "app", rec.Backend.Container)
	require.NotNil(t, rec.Backend.Migration)
	assert.True(t, rec.Backend.Migration.Succeeded)
	assert.Equal(t, []string{"applying 0042_add_orders", "migrations done"}, rec.Backend.Migration.Log)
	assert.Equal(t, []string{"build", "resolve", "check", "register", "migrate", "deploy"}, stepNames(rec))

	out := e.out.String()
	assert.Contains(t, out, "    | applying 0042_add_orders", "migration logs are streamed")
	assert.Contains(t, out, "deployment completed.", "service events are printed")
	assert.NotContains(t, out, "has no digest")
	assert.Regexp(t, `==> deploy +ok +\(`, out)
}

func stepNames(r *release.Record) []string {
	var names []string
	for _, s := range r.Steps {
		names = append(names, s.Name)
	}
	return names
}

func TestDeploy_MigrationFailureLeavesTheServiceUntouched(t *testing.T) {
	tests := []struct {
		name     string
		behavior awssim.TaskBehavior
		want     []string
	}{
		{"ExitsOne", awssim.TaskBehavior{ExitCodes: map[string]int{"app": 1}, LogLines: map[string][]string{"app": {"relation \"orders\" already exists"}}},
			[]string{"exited 1 (container app)", `last log lines:`, `relation "orders" already exists`}},
		{"NeverRuns", awssim.TaskBehavior{NeverRunning: true, StoppedReason: "ResourceInitializationError: unable to pull secrets or registry auth"},
			[]string{"stopped with TaskFailedToStart", "ResourceInitializationError"}},
		{"StopsWithoutExitCode", awssim.TaskBehavior{NoExitCode: true}, []string{"container app stopped without an exit code"}},
		{"Vanishes", awssim.TaskBehavior{Vanish: true}, []string{"vanished from DescribeTasks"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, awssim.ServiceSpec{})
			e.sim.ECS.OnRunTask(func(awssim.RunTaskCall) awssim.TaskBehavior { return tt.behavior })
			o := e.opts(imgV2)
			o.MigrateCommand = []string{"./app", "migrate"}

			rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
			require.Error(t, err)
			t.Log(err)
			for _, w := range append(tt.want, "the service was not changed (still on api:1)", "revision api:2 was deregistered") {
				assert.Contains(t, err.Error(), w)
			}
			if tt.name != "Vanishes" {
				var failed *migration.FailedError
				assert.ErrorAs(t, err, &failed, "callers can inspect the migration result")
			}
			assert.Zero(t, e.sim.Count("ecs", "UpdateService"), "the service must not be touched")
			svc := e.service(t)
			assert.Equal(t, e.v1, aws.ToString(svc.TaskDefinition))
			require.Len(t, svc.Deployments, 1)
			next, _ := e.taskDef(t, "api:2")
			assert.Equal(t, types.TaskDefinitionStatusInactive, next.Status)
			assert.Equal(t, release.OutcomeFailed, rec.Outcome)
			require.NotNil(t, rec.Backend.Migration)
			assert.False(t, rec.Backend.Migration.Succeeded)
		})
	}
}

func TestDeploy_RollsBackToThePreDeployRevisionWhenNewTasksFail(t *testing.T) {
	tests := []struct {
		name     string
		behavior awssim.TaskBehavior
		want     string
	}{
		{"NeverHealthy", awssim.TaskBehavior{Unhealthy: true}, "failed container health checks"},
		{"CannotPull", awssim.TaskBehavior{NeverRunning: true, StoppedReason: "CannotPullContainerError: pull image manifest has been retried 5 time(s)"}, "CannotPullContainerError"},
		{"CrashesAtStart", awssim.TaskBehavior{ExitCodes: map[string]int{"app": 1}}, "Essential container in task exited"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, awssim.ServiceSpec{}) // no circuit breaker: ECS would retry forever
			// A newer revision registered but never deployed: rollback must not pick it (not N-1).
			unrelated := e.register(t, appTaskDef())
			e.failRevisionsOtherThan(e.v1, tt.behavior)

			rec, err := ecsdeploy.Deploy(t.Context(), e.clients, e.opts(imgV2))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "rolled back to api:1")
			var rerr *ecsdeploy.RolloutError
			require.ErrorAs(t, err, &rerr)
			assert.Equal(t, ecsdeploy.RolloutTasksFailing, rerr.Kind, "fails fast, before any timeout")
			svc := e.service(t)
			require.Len(t, svc.Deployments, 1)
			assert.Equal(t, e.v1, aws.ToString(svc.Deployments[0].TaskDefinition))
			assert.NotEqual(t, unrelated, aws.ToString(svc.TaskDefinition))
			assert.Equal(t, types.DeploymentRolloutStateCompleted, svc.Deployments[0].RolloutState, "the rollback is waited for")
			assert.Equal(t, release.OutcomeRolledBack, rec.Outcome)
			assert.Equal(t, "rollback", rec.Steps[len(rec.Steps)-1].Name)
			assert.Contains(t, e.out.String(), "has started 2 tasks", "events are printed as they arrive")
		})
	}
}

func TestDeploy_ReportsACircuitBreakerRollbackAsAFailure(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{CircuitBreaker: true, CircuitBreakerRollback: true})
	e.failRevisionsOtherThan(e.v1, awssim.TaskBehavior{Unhealthy: true})
	o := e.opts(imgV2)
	o.FailureThreshold = 1000 // let ECS's circuit breaker act first

	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	t.Log(err)
	assert.Contains(t, err.Error(), "circuit breaker")
	assert.Contains(t, err.Error(), "rolled back to api:1")
	var rerr *ecsdeploy.RolloutError
	require.ErrorAs(t, err, &rerr)
	assert.Equal(t, ecsdeploy.RolloutReplaced, rerr.Kind)
	assert.Equal(t, 1, e.sim.Count("ecs", "UpdateService"), "ECS rolled back itself; we only waited")
	svc := e.service(t)
	require.Len(t, svc.Deployments, 1)
	assert.Equal(t, e.v1, aws.ToString(svc.Deployments[0].TaskDefinition))
	assert.Equal(t, types.DeploymentRolloutStateCompleted, svc.Deployments[0].RolloutState)
	assert.Equal(t, release.OutcomeRolledBack, rec.Outcome)
}

func TestDeploy_RollsBackWhenTheCircuitBreakerFailsWithoutRollback(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{CircuitBreaker: true})
	e.failRevisionsOtherThan(e.v1, awssim.TaskBehavior{Unhealthy: true})
	o := e.opts(imgV2)
	o.FailureThreshold = 1000

	_, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rolloutState FAILED: ECS deployment circuit breaker: tasks failed to start.")
	assert.Contains(t, err.Error(), "rolled back to api:1")
	assert.Equal(t, e.v1, aws.ToString(e.service(t).TaskDefinition))
}

func TestDeploy_SameImageIsANoChangeUnlessForced(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	before := e.mutations()
	o := e.opts(imgV2)
	o.MigrateCommand, o.DryRun = []string{}, true // what a caller passes when the flag is unset
	_, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	assert.NotContains(t, e.out.String(), "run migration", "an empty command means no migration")
	// Same repository and digest, written without the tag.
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, e.opts(repo+"@sha256:"+strings.Repeat("1", 64)))
	require.NoError(t, err)
	assert.Equal(t, release.OutcomeNoChange, rec.Outcome)
	assert.Equal(t, before, e.mutations(), "nothing may change")
	assert.Contains(t, e.out.String(), "nothing to do")

	o = e.opts(imgV1)
	o.Force = true
	rec, err = ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
	assert.True(t, strings.HasSuffix(aws.ToString(e.service(t).TaskDefinition), ":2"))
}

func TestDeploy_WarnsThatATagWithoutDigestIsNotExact(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	_, err := ecsdeploy.Deploy(t.Context(), e.clients, e.opts(repo+":v2"))
	require.NoError(t, err)
	assert.Contains(t, e.out.String(), "warning: image "+repo+":v2 has no digest")
}

func TestDeploy_DryRunChangesNothing(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	o := e.opts(imgV2)
	o.DryRun = true
	o.MigrateCommand = []string{"./app", "migrate"}
	before := e.mutations()
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	assert.Equal(t, release.OutcomeDryRun, rec.Outcome)
	assert.Equal(t, before, e.mutations())
	assert.Contains(t, e.out.String(), "run migration \"./app migrate\"")
}
