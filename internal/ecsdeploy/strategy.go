package ecsdeploy

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/futuraplataforma/esteira/internal/setting"
)

// Strategy is how a release expects ECS to deploy a service, with the
// strategy's own settings. Where ECS allows it (between blue/green,
// linear and canary, which share the load balancer's alternate target
// group and test listener rule) the release sets it on the service with
// the UpdateService that deploys the new revision; a change ECS does not
// allow in place (rolling to or from the others) is refused before
// anything changes.
type Strategy struct {
	// Name is rolling, blue-green, linear or canary; "" expects nothing
	// and leaves the service's strategy as it is.
	Name string `json:"name,omitempty"`
	// BakeMinutes is how long blue and green both run once production
	// traffic has moved (bakeTimeInMinutes), 0 to 1440.
	BakeMinutes *int32 `json:"bakeMinutes,omitempty"`
	// Percent is the canary's share of production traffic (0.1 to 100) or
	// each linear step's (3 to 100).
	Percent *float64 `json:"percent,omitempty"`
	// StepBakeMinutes is how long the canary, or each linear step, bakes
	// before traffic moves on, 0 to 1440.
	StepBakeMinutes *int32 `json:"stepBakeMinutes,omitempty"`
	// Alarms are the CloudWatch alarms ECS watches during the deployment
	// (each canary or linear step's bake and the final bake included) and
	// rolls it back on, replacing the service's (deploymentConfiguration.alarms,
	// enabled with rollback). Each must exist: the release checks it
	// before any change.
	Alarms []string `json:"alarms,omitempty"`
}

// strategies are the strategies a release may expect, as people write them.
var strategies = map[string]types.DeploymentStrategy{
	"rolling": types.DeploymentStrategyRolling, "blue-green": types.DeploymentStrategyBlueGreen,
	"linear": types.DeploymentStrategyLinear, "canary": types.DeploymentStrategyCanary,
}

// check refuses settings ECS would refuse, or that mean nothing for the
// strategy, before anything is asked of AWS.
func (s Strategy) check() error {
	var errs []error
	want, ok := strategies[s.Name]
	switch {
	case s.Name == "":
		if s.BakeMinutes != nil || s.Percent != nil || s.StepBakeMinutes != nil {
			errs = append(errs, errors.New("strategy settings without a strategy: name it (blue-green, linear or canary)"))
		}
	case !ok:
		errs = append(errs, fmt.Errorf("strategy %q: expect rolling, blue-green, linear or canary", s.Name))
	}
	if b := s.BakeMinutes; b != nil && (*b < 0 || *b > 1440) {
		errs = append(errs, fmt.Errorf("bake time %d minutes: ECS takes 0 to 1440", *b))
	}
	if b := s.StepBakeMinutes; b != nil && (*b < 0 || *b > 1440) {
		errs = append(errs, fmt.Errorf("step bake time %d minutes: ECS takes 0 to 1440", *b))
	}
	if want == types.DeploymentStrategyRolling && s.BakeMinutes != nil {
		errs = append(errs, errors.New("a bake time is for blue-green, linear and canary: a rolling deployment has none"))
	}
	if want == types.DeploymentStrategyRolling && len(s.Alarms) > 0 {
		errs = append(errs, errors.New("alarms are set with blue-green, linear or canary: a rolling service's alarms are its own (set deploymentConfiguration.alarms on it)"))
	}
	if want != types.DeploymentStrategyLinear && want != types.DeploymentStrategyCanary && (s.Percent != nil || s.StepBakeMinutes != nil) && s.Name != "" {
		errs = append(errs, fmt.Errorf("percent and step bake time are for linear and canary, not %s", s.Name))
	}
	if p := s.Percent; p != nil {
		lo := 0.1
		if want == types.DeploymentStrategyLinear {
			lo = 3
		}
		if *p < lo || *p > 100 || math.Abs(*p*10-math.Round(*p*10)) > 1e-9 {
			errs = append(errs, fmt.Errorf("%s percent %v: ECS takes multiples of 0.1 from %v to 100", s.Name, *p, lo))
		}
	}
	for _, a := range s.Alarms {
		if strings.TrimSpace(a) == "" {
			errs = append(errs, errors.New("an alarm name is empty: name each CloudWatch alarm to watch"))
		}
	}
	if len(errs) > 0 {
		return setting.Of("Strategy", errors.Join(errs...))
	}
	return nil
}

// configure is the deployment configuration the service must have for
// the release, copied from the service's with only the strategy and its
// settings changed, and what changes in words; nil and "" when the
// service already deploys as expected. It refuses a change ECS does not
// make in place, and a CodeDeploy service expected to be anything but
// blue/green.
func (s Strategy) configure(svc types.Service, service string) (*types.DeploymentConfiguration, string, error) {
	if s.Name == "" {
		return nil, "", nil
	}
	want := strategies[s.Name]
	if codeDeployed(svc) {
		if want != types.DeploymentStrategyBlueGreen || s.BakeMinutes != nil || len(s.Alarms) > 0 {
			return nil, "", setting.Of("Strategy", fmt.Errorf("service %s is deployed blue/green by AWS CodeDeploy, and the release expects %s: "+
				"CodeDeploy's deployment group sets how traffic moves and which alarms stop it (its deployment configuration, wait times and alarm configuration); expect blue-green without settings, or change the group", service, describeStrategy(s)))
		}
		return nil, "", nil
	}
	got := strategyOf(svc)
	if native(got) != native(want) {
		return nil, "", setting.Of("Strategy", fmt.Errorf("service %s is deployed %s by ECS (deploymentConfiguration.strategy %s), and the release expects %s: "+
			"esteira does not switch between rolling and the others, since ECS then needs the load balancer's alternate target group and production listener rule; "+
			"set the service's strategy yourself, or expect %s", service, strategyName(got), got, strategyName(want), strategyName(got)))
	}
	c := types.DeploymentConfiguration{}
	if svc.DeploymentConfiguration != nil {
		c = *svc.DeploymentConfiguration
	}
	from := describeConfiguration(c)
	c.Strategy = want
	if s.BakeMinutes != nil {
		c.BakeTimeInMinutes = s.BakeMinutes
	}
	switch want {
	case types.DeploymentStrategyCanary:
		cc := types.CanaryConfiguration{}
		if c.CanaryConfiguration != nil {
			cc = *c.CanaryConfiguration
		}
		cc.CanaryPercent = or(s.Percent, cc.CanaryPercent)
		cc.CanaryBakeTimeInMinutes = or(s.StepBakeMinutes, cc.CanaryBakeTimeInMinutes)
		c.CanaryConfiguration = &cc
	case types.DeploymentStrategyLinear:
		lc := types.LinearConfiguration{}
		if c.LinearConfiguration != nil {
			lc = *c.LinearConfiguration
		}
		lc.StepPercent = or(s.Percent, lc.StepPercent)
		lc.StepBakeTimeInMinutes = or(s.StepBakeMinutes, lc.StepBakeTimeInMinutes)
		c.LinearConfiguration = &lc
	}
	if len(s.Alarms) > 0 {
		c.Alarms = &types.DeploymentAlarms{AlarmNames: s.Alarms, Enable: true, Rollback: true}
	}
	to := describeConfiguration(c)
	if to == from {
		return nil, "", nil
	}
	return &c, from + " -> " + to, nil
}

// or is p when set, else the value the service has.
func or[T any](p, have *T) *T {
	if p != nil {
		return p
	}
	return have
}

// describeStrategy says an expected strategy in words.
func describeStrategy(s Strategy) string {
	c := types.DeploymentConfiguration{Strategy: strategies[s.Name], BakeTimeInMinutes: s.BakeMinutes}
	if len(s.Alarms) > 0 {
		c.Alarms = &types.DeploymentAlarms{AlarmNames: s.Alarms, Enable: true, Rollback: true}
	}
	switch c.Strategy {
	case types.DeploymentStrategyCanary:
		c.CanaryConfiguration = &types.CanaryConfiguration{CanaryPercent: s.Percent, CanaryBakeTimeInMinutes: s.StepBakeMinutes}
	case types.DeploymentStrategyLinear:
		c.LinearConfiguration = &types.LinearConfiguration{StepPercent: s.Percent, StepBakeTimeInMinutes: s.StepBakeMinutes}
	}
	return describeConfiguration(c)
}

// describeConfiguration says a deployment configuration's strategy and
// its settings, e.g. "canary 10% baking 1m, then bake 5m, watching
// web-5xx"; settings left to ECS's defaults are not said.
func describeConfiguration(c types.DeploymentConfiguration) string {
	s := c.Strategy
	if s == "" {
		s = types.DeploymentStrategyRolling
	}
	var b strings.Builder
	b.WriteString(strategyName(s))
	step := func(p *float64, bake *int32) {
		if p != nil {
			fmt.Fprintf(&b, " %s%%", pct(*p))
		}
		if bake != nil {
			fmt.Fprintf(&b, " baking %s", minutes(*bake))
		}
	}
	switch {
	case s == types.DeploymentStrategyCanary && c.CanaryConfiguration != nil:
		step(c.CanaryConfiguration.CanaryPercent, c.CanaryConfiguration.CanaryBakeTimeInMinutes)
	case s == types.DeploymentStrategyLinear && c.LinearConfiguration != nil:
		step(c.LinearConfiguration.StepPercent, c.LinearConfiguration.StepBakeTimeInMinutes)
	}
	if native(s) && c.BakeTimeInMinutes != nil {
		fmt.Fprintf(&b, ", then bake %s", minutes(aws.ToInt32(c.BakeTimeInMinutes)))
	}
	if a := c.Alarms; a != nil && a.Enable && len(a.AlarmNames) > 0 {
		fmt.Fprintf(&b, ", watching %s", strings.Join(a.AlarmNames, ", "))
		if !a.Rollback {
			b.WriteString(" (no rollback)")
		}
	}
	return b.String()
}

func minutes(m int32) string { return fmt.Sprintf("%dm", m) }
