package ecsdeploy_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/setting"
)

// blueGreen is a service ECS deploys blue/green, held by a PAUSE hook once
// test traffic is on the green tasks.
func blueGreen() awssim.ServiceSpec {
	return awssim.ServiceSpec{Strategy: "BLUE_GREEN", BakeTimeInMinutes: 5, PauseAt: []string{"POST_TEST_TRAFFIC_SHIFT"}}
}

// gate is a quality gate that fails with err, and counts its runs.
func gate(runs *int, err error) func(context.Context) (string, error) {
	return func(context.Context) (string, error) {
		*runs++
		if err != nil {
			return "GET /health: 500", err
		}
		return "GET /health: 200", nil
	}
}

// productionGreen finds, in the engine's output, every production weight
// the green revision was seen with.
func productionGreen(out string) []string {
	return regexp.MustCompile(`production \S+% blue / (\S+)% green`).FindAllString(out, -1)
}

func TestDeploy_BlueGreenSucceedsOnlyOnceTheServiceDeploymentIsSuccessful(t *testing.T) {
	e := newEnv(t, blueGreen())
	runs := 0
	o := e.opts(imgV2)
	o.Releases, o.Who, o.TestGate = newStore(t), "bob@ci", gate(&runs, nil)
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
	assert.Equal(t, 1, runs, "the gate ran once, on test traffic")
	assert.Equal(t, "blue/green", rec.Backend.Strategy)
	assert.NotEmpty(t, rec.Backend.ServiceDeployment)
	require.NotNil(t, rec.Backend.TestGate)
	assert.True(t, rec.Backend.TestGate.Passed)
	out := e.out.String()
	assert.Less(t, strings.Index(out, "quality gate passed"), strings.Index(out, "100% green, test"), "production moved after the gate")
	assert.Less(t, strings.Index(out, "BAKE_TIME"), strings.Index(out, "SUCCESSFUL"), "success only after the bake time")
	assert.True(t, strings.HasSuffix(aws.ToString(e.service(t).TaskDefinition), "api:2"))
}

// The gate fails on test traffic: ECS rolls back before any production
// request reaches the new revision.
func TestDeploy_BlueGreenGateFailingOnTestTrafficNeverMovesProduction(t *testing.T) {
	e := newEnv(t, blueGreen())
	runs := 0
	o := e.opts(imgV2)
	o.Releases, o.Who, o.TestGate = newStore(t), "bob@ci", gate(&runs, errors.New("health check returned 500"))
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	assert.Equal(t, release.OutcomeRolledBack, rec.Outcome)
	assert.Contains(t, err.Error(), "the quality gate failed on test traffic (health check returned 500)")
	assert.Contains(t, err.Error(), "all production traffic is on api:1")
	for _, seen := range productionGreen(e.out.String()) {
		assert.Contains(t, seen, "/ 0% green", "production traffic never moved")
	}
	require.NotNil(t, rec.Backend.TestGate)
	assert.False(t, rec.Backend.TestGate.Passed)
	assert.Equal(t, e.v1, aws.ToString(e.service(t).TaskDefinition))
}

// Green tasks that never get healthy: ECS rolls back by itself, reported
// as a rolled-back release, never as a success.
func TestDeploy_BlueGreenWhoseGreenTasksNeverGetHealthyIsRolledBack(t *testing.T) {
	spec := blueGreen()
	spec.CircuitBreaker, spec.CircuitBreakerRollback = true, true // what detects it in ECS
	e := newEnv(t, spec)
	e.sim.ECS.OnServiceTask(func(td string) awssim.TaskBehavior {
		return awssim.TaskBehavior{Unhealthy: strings.HasSuffix(td, "api:2")}
	})
	o := e.opts(imgV2)
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	assert.Equal(t, release.OutcomeRolledBack, rec.Outcome)
	assert.Contains(t, err.Error(), "ROLLBACK_SUCCESSFUL")
	assert.Zero(t, e.sim.Count("ecs", "StopServiceDeployment"), "ECS rolled back by itself")
	assert.Equal(t, e.v1, aws.ToString(e.service(t).TaskDefinition))
}

// A deployment still held at the timeout (a pause nobody acts on) is
// rolled back by esteira, and the release says so.
func TestDeploy_BlueGreenTimeoutAsksECSToRollBack(t *testing.T) {
	e := newEnv(t, blueGreen())
	o := e.opts(imgV2)
	o.Timeout = 300 * time.Millisecond
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	assert.Equal(t, release.OutcomeRolledBack, rec.Outcome)
	assert.Contains(t, err.Error(), "the wait timed out: esteira asked ECS to roll back")
	assert.Equal(t, 1, e.sim.Count("ecs", "StopServiceDeployment"))
	assert.Equal(t, e.v1, aws.ToString(e.service(t).TaskDefinition))
}

// Ctrl-C mid-deployment: the rollback still happens, and is waited for.
func TestDeploy_BlueGreenInterruptedIsRolledBack(t *testing.T) {
	e := newEnv(t, blueGreen())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	o := e.opts(imgV2)
	go func() {
		for !strings.Contains(e.out.String(), "paused by a PAUSE hook") {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	rec, err := ecsdeploy.Deploy(ctx, e.clients, o)
	require.Error(t, err)
	assert.Equal(t, release.OutcomeRolledBack, rec.Outcome)
	assert.Contains(t, err.Error(), "the wait was interrupted")
	assert.Equal(t, e.v1, aws.ToString(e.service(t).TaskDefinition))
}

// A rollback ECS cannot finish is reported, with where traffic is, never
// hidden behind a rolled-back outcome.
func TestDeploy_BlueGreenRollbackFailedIsReportedAsUncertain(t *testing.T) {
	e := newEnv(t, blueGreen())
	e.sim.ECS.FailRollbacks("api")
	runs := 0
	o := e.opts(imgV2)
	o.TestGate = gate(&runs, errors.New("smoke test failed"))
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	assert.Equal(t, release.OutcomeFailed, rec.Outcome)
	assert.Contains(t, err.Error(), "ROLLBACK_FAILED")
	assert.Contains(t, err.Error(), "UNCERTAIN")
	assert.Contains(t, err.Error(), "roll the backend back to revision api:1")
	assert.NotContains(t, err.Error(), "rolled back before production traffic moved", "the rollback failed: nothing says it rolled back")
	assert.Contains(t, err.Error(), "before production traffic moved; ECS's rollback did not succeed")
}

// An alarm firing while a canary bakes rolls the deployment back.
func TestDeploy_CanaryRolledBackByAnAlarmWhileItBakes(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{Strategy: "CANARY", CanaryPercent: 10, BakeTimeInMinutes: 5, Alarms: []string{"api-5xx"}})
	e.sim.Alarms.FireAfter("api-5xx", 3, "5xx rate above 1%")
	o := e.opts(imgV2)
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	assert.Equal(t, release.OutcomeRolledBack, rec.Outcome)
	assert.Equal(t, "canary", rec.Backend.Strategy)
	assert.Equal(t, e.v1, aws.ToString(e.service(t).TaskDefinition))
}

// A linear deployment moves production traffic in steps, each printed.
func TestDeploy_LinearShowsEachTrafficStep(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{Strategy: "LINEAR", LinearStepPercent: 25})
	o := e.opts(imgV2)
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	assert.Equal(t, "linear", rec.Backend.Strategy)
	out := e.out.String()
	for _, w := range []string{"/ 25% green", "/ 50% green", "/ 75% green", "/ 100% green"} {
		assert.Contains(t, out, w)
	}
}

// status shows a blue/green deployment in progress: its stage, its traffic
// and the hook that holds it.
func TestState_ShowsTheServiceDeploymentInProgress(t *testing.T) {
	e := newEnv(t, blueGreen())
	st, err := ecsdeploy.State(t.Context(), e.clients, "main", "api", "")
	require.NoError(t, err)
	assert.Equal(t, "blue/green", st.Strategy)
	assert.Nil(t, st.InProgress, "nothing in progress yet")

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = ecsdeploy.Deploy(ctx, e.clients, e.opts(imgV2))
	}()
	for !strings.Contains(e.out.String(), "paused by a PAUSE hook") {
		time.Sleep(time.Millisecond)
	}
	st, err = ecsdeploy.State(t.Context(), e.clients, "main", "api", "")
	require.NoError(t, err)
	require.NotNil(t, st.InProgress)
	assert.Equal(t, "POST_TEST_TRAFFIC_SHIFT", st.InProgress.Stage)
	assert.NotEmpty(t, st.InProgress.Paused)
	assert.Contains(t, st.InProgress.Traffic, "production 100% blue / 0% green, test 100% green")
	cancel()
	<-done
}

// A release that expects one strategy refuses a service ECS deploys
// another way, naming both, before anything changes.
func TestDeploy_RefusesAServiceDeployedOtherwiseThanExpected(t *testing.T) {
	e := newEnv(t, blueGreen())
	before := e.mutations()
	o := e.opts(imgV2)
	o.Strategy = ecsdeploy.Strategy{Name: "rolling"}
	_, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "service api is deployed blue/green by ECS (deploymentConfiguration.strategy BLUE_GREEN), and the release expects rolling")
	assert.Equal(t, []string{"Strategy"}, setting.Names(err), "the module names the file's key")
	assert.Equal(t, before, e.mutations(), "nothing changed")

	o.Strategy, o.Timeout = ecsdeploy.Strategy{Name: "blue-green"}, 200*time.Millisecond
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err, "no gate: the pause holds it until the timeout")
	assert.Equal(t, "blue/green", rec.Backend.Strategy, "the expected strategy lets it through")
}

// A gate on test traffic that the service gives no moment to run says so:
// without a PAUSE hook after the test traffic shift, production moves first.
func TestDeploy_WarnsWhenTheGateCannotRunOnTestTraffic(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{Strategy: "BLUE_GREEN"})
	runs := 0
	o := e.opts(imgV2)
	o.TestGate = gate(&runs, nil)
	_, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	assert.Contains(t, e.out.String(), "warning: service api has no PAUSE lifecycle hook at POST_TEST_TRAFFIC_SHIFT, so the gate cannot run on test traffic")
	assert.Zero(t, runs)
}
