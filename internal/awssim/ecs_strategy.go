package awssim

import "slices"

// The deployment strategies of deploymentConfiguration.strategy.
const (
	StrategyRolling   = "ROLLING"
	StrategyBlueGreen = "BLUE_GREEN"
	StrategyLinear    = "LINEAR"
	StrategyCanary    = "CANARY"
)

// BakeObservations is how many observations BAKE_TIME lasts, and how long
// a linear or canary step below 100% holds in PRODUCTION_TRAFFIC_SHIFT
// (its step bake), whatever the configured minutes.
const BakeObservations = 2

type lifecycleHook struct {
	TargetType      string   `json:"targetType,omitempty"`
	HookTargetArn   string   `json:"hookTargetArn,omitempty"`
	RoleArn         string   `json:"roleArn,omitempty"`
	LifecycleStages []string `json:"lifecycleStages"`
}

type linearConfiguration struct {
	StepPercent           float64 `json:"stepPercent,omitempty"`
	StepBakeTimeInMinutes *int32  `json:"stepBakeTimeInMinutes,omitempty"`
}

type canaryConfiguration struct {
	CanaryPercent           float64 `json:"canaryPercent,omitempty"`
	CanaryBakeTimeInMinutes *int32  `json:"canaryBakeTimeInMinutes,omitempty"`
}

type deploymentAlarms struct {
	AlarmNames []string `json:"alarmNames"`
	Enable     bool     `json:"enable"`
	Rollback   bool     `json:"rollback"`
}

// pauseStages are the stages a PAUSE hook may hold. The reference for
// DeploymentLifecycleHook: "PAUSE hooks cannot be configured at
// TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT stages."
var pauseStages = []string{"RECONCILE_SERVICE", "PRE_SCALE_UP", "POST_SCALE_UP", "POST_TEST_TRAFFIC_SHIFT",
	"PRE_PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"}

// applyStrategy sets the strategy fields of a ServiceSpec on a service's
// deployment configuration.
func applyStrategy(dc *deploymentConfiguration, in ServiceSpec) error {
	dc.Strategy = in.Strategy
	if dc.Strategy == "" {
		dc.Strategy = StrategyRolling
	}
	if dc.Strategy != StrategyRolling || in.BakeTimeInMinutes > 0 {
		dc.BakeTimeInMinutes = &in.BakeTimeInMinutes
	}
	if len(in.PauseAt) > 0 {
		dc.LifecycleHooks = []lifecycleHook{{TargetType: "PAUSE", LifecycleStages: in.PauseAt}}
	}
	switch dc.Strategy {
	case StrategyLinear:
		dc.LinearConfiguration = &linearConfiguration{StepPercent: in.LinearStepPercent}
	case StrategyCanary:
		dc.CanaryConfiguration = &canaryConfiguration{CanaryPercent: in.CanaryPercent}
	}
	if len(in.Alarms) > 0 {
		dc.Alarms = &deploymentAlarms{AlarmNames: in.Alarms, Enable: true, Rollback: true}
	}
	return validateStrategy(dc)
}

// validateStrategy refuses what ECS refuses with an InvalidParameterException
// and fills the documented defaults (linear stepPercent 10, canary 5).
func validateStrategy(dc *deploymentConfiguration) error {
	switch dc.Strategy {
	case StrategyRolling, StrategyBlueGreen, StrategyLinear, StrategyCanary:
	default:
		return clientError("InvalidParameterException", "Invalid deployment strategy %q: must be ROLLING, BLUE_GREEN, LINEAR or CANARY.", dc.Strategy)
	}
	for _, h := range dc.LifecycleHooks {
		if h.TargetType != "PAUSE" {
			continue // AWS_LAMBDA hooks are reported but not run
		}
		for _, st := range h.LifecycleStages {
			if !slices.Contains(pauseStages, st) {
				return clientError("InvalidParameterException", "PAUSE lifecycle hooks cannot be configured at the %s stage.", st)
			}
		}
	}
	if lc := dc.LinearConfiguration; lc != nil {
		if lc.StepPercent == 0 {
			lc.StepPercent = 10
		}
		if lc.StepPercent < 3 || lc.StepPercent > 100 {
			return clientError("InvalidParameterException", "linearConfiguration.stepPercent %v must be from 3.0 to 100.0.", lc.StepPercent)
		}
	}
	if cc := dc.CanaryConfiguration; cc != nil {
		if cc.CanaryPercent == 0 {
			cc.CanaryPercent = 5
		}
		if cc.CanaryPercent < 0.1 || cc.CanaryPercent > 100 {
			return clientError("InvalidParameterException", "canaryConfiguration.canaryPercent %v must be from 0.1 to 100.0.", cc.CanaryPercent)
		}
	}
	return nil
}

// mergeDeploymentConfiguration applies an UpdateService deploymentConfiguration:
// the fields it sets replace the service's, the others are kept (so a
// request that only changes the strategy keeps the circuit breaker).
func mergeDeploymentConfiguration(old deploymentConfiguration, in deploymentConfiguration) (deploymentConfiguration, error) {
	out := old
	if in.DeploymentCircuitBreaker != nil {
		out.DeploymentCircuitBreaker = in.DeploymentCircuitBreaker
	}
	if in.MaximumPercent != 0 {
		out.MaximumPercent = in.MaximumPercent
	}
	if in.MinimumHealthyPercent != 0 {
		out.MinimumHealthyPercent = in.MinimumHealthyPercent
	}
	if in.Strategy != "" {
		out.Strategy = in.Strategy
	}
	if in.BakeTimeInMinutes != nil {
		out.BakeTimeInMinutes = in.BakeTimeInMinutes
	}
	if in.LifecycleHooks != nil {
		out.LifecycleHooks = in.LifecycleHooks
	}
	if in.LinearConfiguration != nil {
		out.LinearConfiguration = in.LinearConfiguration
	}
	if in.CanaryConfiguration != nil {
		out.CanaryConfiguration = in.CanaryConfiguration
	}
	if in.Alarms != nil {
		out.Alarms = in.Alarms
	}
	if out.Strategy == StrategyLinear && out.LinearConfiguration == nil {
		out.LinearConfiguration = &linearConfiguration{}
	}
	if out.Strategy == StrategyCanary && out.CanaryConfiguration == nil {
		out.CanaryConfiguration = &canaryConfiguration{}
	}
	if err := validateStrategy(&out); err != nil {
		return old, err
	}
	return out, nil
}

// pauses reports whether the configuration has a PAUSE hook at stage.
func (dc *deploymentConfiguration) pauses(stage string) bool {
	for _, h := range dc.LifecycleHooks {
		if h.TargetType == "PAUSE" && slices.Contains(h.LifecycleStages, stage) {
			return true
		}
	}
	return false
}

// nextProductionWeight is the target revision's production weight after
// the next PRODUCTION_TRAFFIC_SHIFT: all of it for blue/green, one step for
// linear, the canary share then the rest for canary.
func (dc *deploymentConfiguration) nextProductionWeight(current float64) float64 {
	step := 100.0
	switch {
	case dc.Strategy == StrategyLinear && dc.LinearConfiguration != nil:
		step = dc.LinearConfiguration.StepPercent
	case dc.Strategy == StrategyCanary && dc.CanaryConfiguration != nil && current == 0:
		step = dc.CanaryConfiguration.CanaryPercent
	}
	// Weights are multiples of 0.1: round so ten steps of 10.0 make 100.
	w := float64(int64((current+step)*10+0.5)) / 10
	return min(w, 100)
}
