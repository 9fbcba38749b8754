package ecsdeploy_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/setting"
)

// A blue/green service whose release expects a canary is switched to the
// canary with the release's settings by the deploy's own UpdateService:
// the plan says so first, the deployment then runs as a canary (here
// rolled back by an alarm during the canary's bake), the rest of the
// service's configuration (its alarms and hooks) is kept, and a second
// release expecting the same changes nothing more.
func TestDeploy_AppliesTheStrategyTheReleaseExpects(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{Strategy: "BLUE_GREEN", BakeTimeInMinutes: 5, Alarms: []string{"api-5xx"}, PauseAt: []string{"POST_TEST_TRAFFIC_SHIFT"}})
	e.sim.Alarms.FireAfter("api-5xx", 3, "5xx rate above 1%")
	o := e.opts(imgV2)
	runs := 0
	o.Releases, o.Who, o.TestGate = newStore(t), "bob@ci", gate(&runs, nil)
	ten, one := 10.0, int32(1)
	o.Strategy = ecsdeploy.Strategy{Name: "canary", Percent: &ten, StepBakeMinutes: &one}

	p, err := ecsdeploy.Plan(t.Context(), e.clients, o)
	require.NoError(t, err)
	require.Len(t, p.Services, 1)
	assert.Equal(t, "blue/green, then bake 5m, watching api-5xx -> canary 10% baking 1m, then bake 5m, watching api-5xx", p.Services[0].StrategyChange)
	assert.Contains(t, p.String(), "set the deployment strategy of main/api: blue/green, then bake 5m, watching api-5xx -> canary 10% baking 1m, then bake 5m, watching api-5xx")

	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	assert.Equal(t, release.OutcomeRolledBack, rec.Outcome)
	assert.Equal(t, "canary", rec.Backend.Strategy)
	assert.Equal(t, 1, runs, "the gate passed on test traffic, then the canary took production traffic")
	assert.Contains(t, e.out.String(), "strategy: blue/green, then bake 5m, watching api-5xx -> canary 10% baking 1m, then bake 5m, watching api-5xx (as the release expects)")
	assert.Contains(t, e.out.String(), "/ 10% green", "the canary took its share of production traffic")
	assert.Equal(t, e.v1, aws.ToString(e.service(t).TaskDefinition), "back on the revision before")

	c := e.service(t).DeploymentConfiguration
	require.NotNil(t, c)
	assert.Equal(t, types.DeploymentStrategyCanary, c.Strategy)
	require.NotNil(t, c.CanaryConfiguration)
	assert.Equal(t, 10.0, aws.ToFloat64(c.CanaryConfiguration.CanaryPercent))
	assert.Equal(t, int32(1), aws.ToInt32(c.CanaryConfiguration.CanaryBakeTimeInMinutes))
	assert.Equal(t, int32(5), aws.ToInt32(c.BakeTimeInMinutes), "what the release does not set is kept")
	require.NotNil(t, c.Alarms)
	assert.Equal(t, []string{"api-5xx"}, c.Alarms.AlarmNames)
	assert.NotEmpty(t, c.LifecycleHooks, "the PAUSE hook is kept")

	e.sim.Alarms.Set("api-5xx", "OK", "")
	p, err = ecsdeploy.Plan(t.Context(), e.clients, o)
	require.NoError(t, err)
	assert.Empty(t, p.Services[0].StrategyChange, "the service already deploys as expected")
}

// A strategy ECS cannot take in place, or settings ECS would refuse, are
// refused before anything changes, naming the file's key.
func TestDeploy_RefusesAStrategyThatCannotApply(t *testing.T) {
	pct := func(f float64) *float64 { return &f }
	mins := func(m int32) *int32 { return &m }
	for name, c := range map[string]struct {
		spec     awssim.ServiceSpec
		strategy ecsdeploy.Strategy
		want     string
	}{
		"rolling to canary": {awssim.ServiceSpec{}, ecsdeploy.Strategy{Name: "canary"},
			"service api is deployed rolling by ECS (deploymentConfiguration.strategy ROLLING), and the release expects canary: esteira does not switch between rolling and the others"},
		"blue/green to rolling":  {blueGreen(), ecsdeploy.Strategy{Name: "rolling"}, "and the release expects rolling"},
		"a linear step below 3%": {blueGreen(), ecsdeploy.Strategy{Name: "linear", Percent: pct(2)}, "linear percent 2: ECS takes multiples of 0.1 from 3 to 100"},
		"a bake of two days":     {blueGreen(), ecsdeploy.Strategy{Name: "blue-green", BakeMinutes: mins(2880)}, "bake time 2880 minutes: ECS takes 0 to 1440"},
		"a percent for blue/green": {blueGreen(), ecsdeploy.Strategy{Name: "blue-green", Percent: pct(10)},
			"percent and step bake time are for linear and canary, not blue-green"},
		"settings without a name": {blueGreen(), ecsdeploy.Strategy{BakeMinutes: mins(1)}, "strategy settings without a strategy"},
		"an alarm that does not exist": {blueGreen(), ecsdeploy.Strategy{Name: "canary", Alarms: []string{"api-5xxx"}},
			"alarm api-5xxx does not exist in CloudWatch: ECS would watch a name that never fires; create it or fix the name; nothing was changed"},
		"alarms with rolling": {awssim.ServiceSpec{}, ecsdeploy.Strategy{Name: "rolling", Alarms: []string{"api-5xx"}},
			"alarms are set with blue-green, linear or canary"},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, c.spec)
			before := e.mutations()
			o := e.opts(imgV2)
			o.Strategy = c.strategy
			_, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Contains(t, setting.Names(err), "Strategy", "the module names the file's key")
			assert.Equal(t, before, e.mutations(), "nothing changed")
			assert.Zero(t, e.sim.Count("ecs", "UpdateService"))
		})
	}
}

// The alarms a release names replace the service's: ECS watches them
// through each linear step's bake and rolls the deployment back when one
// fires, production back on the exact revision before.
func TestDeploy_WatchesTheAlarmsTheStrategyNames(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{Strategy: "LINEAR", LinearStepPercent: 25, Alarms: []string{"api-old"}})
	e.sim.Alarms.Set("api-old", "OK", "")
	// Its first look is esteira's check; ECS looks once a step has moved traffic.
	e.sim.Alarms.FireAfter("api-latency", 3, "p99 above 2s")
	o := e.opts(imgV2)
	o.Releases, o.Who = newStore(t), "bob@ci"
	o.Strategy = ecsdeploy.Strategy{Name: "linear", Alarms: []string{"api-latency"}}
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "api-latency went into ALARM state")
	assert.Equal(t, release.OutcomeRolledBack, rec.Outcome)
	assert.Contains(t, e.out.String(), "1 alarms found in CloudWatch")
	assert.Contains(t, e.out.String(), "strategy: linear 25%, then bake 0m, watching api-old -> linear 25%, then bake 0m, watching api-latency (as the release expects)")
	assert.Contains(t, e.out.String(), "/ 25% green", "a step moved production traffic before the alarm fired")
	assert.Equal(t, e.v1, aws.ToString(e.service(t).TaskDefinition), "back on the revision before")
	c := e.service(t).DeploymentConfiguration
	require.NotNil(t, c.Alarms)
	assert.Equal(t, []string{"api-latency"}, c.Alarms.AlarmNames)
	assert.True(t, c.Alarms.Enable && c.Alarms.Rollback)
}
