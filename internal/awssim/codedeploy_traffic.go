package awssim

import (
	"cmp"
	"fmt"
	"strings"
)

// The predefined deployment configurations of the ECS compute platform
// (CodeDeploy user guide, "Deployment configurations on an Amazon ECS
// compute platform"): all at once, or TimeBasedCanary (canaryPercentage
// of production traffic, then the rest after canaryInterval minutes) or
// TimeBasedLinear (linearPercentage more every linearInterval minutes).
// Each wait lasts BakeObservations observations, whatever its minutes, as
// an ECS native step bake does.
const cdAllAtOnce = "CodeDeployDefault.ECSAllAtOnce"

type trafficRouting struct {
	kind    string  // AllAtOnce, TimeBasedCanary, TimeBasedLinear (TrafficRoutingType)
	percent float64 // canaryPercentage or linearPercentage
	minutes int32   // canaryInterval or linearInterval
}

var ecsDeploymentConfigs = map[string]trafficRouting{
	cdAllAtOnce: {kind: "AllAtOnce"},
	"CodeDeployDefault.ECSCanary10Percent5Minutes":      {"TimeBasedCanary", 10, 5},
	"CodeDeployDefault.ECSCanary10Percent15Minutes":     {"TimeBasedCanary", 10, 15},
	"CodeDeployDefault.ECSLinear10PercentEvery1Minutes": {"TimeBasedLinear", 10, 1},
	"CodeDeployDefault.ECSLinear10PercentEvery3Minutes": {"TimeBasedLinear", 10, 3},
}

// checkDeploymentConfig refuses a config name that is not a predefined ECS one.
func checkDeploymentConfig(name string) error {
	if _, ok := ecsDeploymentConfigs[cmp.Or(name, cdAllAtOnce)]; !ok {
		return fmt.Errorf("deployment config %q is not a predefined ECS one (CodeDeployDefault.ECSAllAtOnce, ECSCanary10Percent5Minutes, ECSCanary10Percent15Minutes, ECSLinear10PercentEvery1Minutes, ECSLinear10PercentEvery3Minutes)", name)
	}
	return nil
}

func (g *cdGroup) configName() string { return cmp.Or(g.spec.DeploymentConfigName, cdAllAtOnce) }

func (g *cdGroup) routing() trafficRouting { return ecsDeploymentConfigs[g.configName()] }

// next is the replacement task set's share of production traffic after
// the step that left it at w.
func (r trafficRouting) next(w float64) float64 {
	switch r.kind {
	case "TimeBasedCanary":
		if w == 0 {
			return r.percent
		}
	case "TimeBasedLinear":
		return min(100, w+r.percent)
	}
	return 100
}

// shiftTraffic moves production traffic one step while AllowTraffic is in
// progress, and reports whether the last step (to 100%) is due: a canary
// or linear step holds BakeObservations observations first. All at once
// moves everything when AllowTraffic ends, as before.
func (cd *CodeDeploy) shiftTraffic(d *cdDeployment) bool {
	r := d.group.routing()
	if r.kind == "AllAtOnce" {
		return true
	}
	if d.greenProd == 0 {
		d.greenProd, d.held = r.next(0), 0
		return false
	}
	if d.held++; d.held < BakeObservations {
		return false
	}
	if r.next(d.greenProd) >= 100 {
		return true
	}
	d.greenProd, d.held = r.next(d.greenProd), 0
	return false
}

// alarmStopped checks the group's alarms once production traffic has
// begun to move (each look counts as a DescribeAlarms, Alarms.FireAfter):
// one in ALARM stops the deployment with ALARM_ACTIVE, in CodeDeploy's
// words, and rolls it back when autoRollbackConfiguration has
// DEPLOYMENT_STOP_ON_ALARM.
func (cd *CodeDeploy) alarmStopped(d *cdDeployment) bool {
	g := d.group
	if len(g.spec.Alarms) == 0 || d.greenProd == 0 {
		return false
	}
	var fired []string
	for _, name := range g.spec.Alarms {
		if cd.s.Alarms.observe(name) == "ALARM" {
			fired = append(fired, "<"+name+">")
		}
	}
	if len(fired) == 0 {
		return false
	}
	cd.end(d, cdStopped, "ALARM_ACTIVE", "One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, "+
		"and the affected deployments have been stopped. Activated alarms: "+strings.Join(fired, " "))
	if !g.spec.NoRollbackOnAlarm {
		cd.rollBack(d, "Deployment stopped on alarm "+strings.Join(fired, " ")+".")
	}
	return true
}

type cdAlarm struct {
	Name string `json:"name"`
}

// cdAlarmConfiguration is a deployment group's alarmConfiguration.
type cdAlarmConfiguration struct {
	Alarms                 []cdAlarm `json:"alarms"`
	Enabled                bool      `json:"enabled"`
	IgnorePollAlarmFailure bool      `json:"ignorePollAlarmFailure"`
}

func (g *cdGroup) alarmConfiguration() cdAlarmConfiguration {
	c := cdAlarmConfiguration{Alarms: []cdAlarm{}, Enabled: len(g.spec.Alarms) > 0}
	for _, name := range g.spec.Alarms {
		c.Alarms = append(c.Alarms, cdAlarm{Name: name})
	}
	return c
}

// rollbackEvents are autoRollbackConfiguration.events.
func (g *cdGroup) rollbackEvents() []string {
	events := []string{"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST"}
	if len(g.spec.Alarms) > 0 && !g.spec.NoRollbackOnAlarm {
		events = append(events, "DEPLOYMENT_STOP_ON_ALARM")
	}
	return events
}
