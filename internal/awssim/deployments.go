package awssim

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// DeploymentRules script, from outside the process (the sandbox's control
// endpoint), how the next ECS service deployments and CodeDeploy
// deployments fail, and alarm states: the drills of a blue/green, linear,
// canary or CodeDeploy release that a standalone simulator cannot get
// from Go calls (FailRollbacks, FailAt, Alarms.Set).
type DeploymentRules struct {
	ECS        []ECSDeploymentRule `json:"ecs"`
	CodeDeploy []CodeDeployRule    `json:"codeDeploy"`
	Alarms     []AlarmRule         `json:"alarms"`
}

// ECSDeploymentRule scripts the next service deployment of a service ECS
// deploys BLUE_GREEN, LINEAR or CANARY (in every cluster that has one so
// named).
type ECSDeploymentRule struct {
	Service string `json:"service"`
	// FailRollback ends its next rollback ROLLBACK_FAILED, traffic left
	// where it was when the rollback began (ECS.FailRollbacks).
	FailRollback bool `json:"failRollback,omitempty"`
}

// CodeDeployRule scripts the next deployment of a CodeDeploy deployment
// group.
type CodeDeployRule struct {
	DeploymentGroup string `json:"deploymentGroup"`
	// FailAt is the lifecycle event the next deployment fails at
	// (CodeDeploy.FailAt), one of the ECS events: BeforeInstall, Install,
	// AfterInstall, AllowTestTraffic, AfterAllowTestTraffic,
	// BeforeAllowTraffic, AllowTraffic, AfterAllowTraffic.
	FailAt string `json:"failAt,omitempty"`
	// FailRollback makes the next rollback deployment end Failed
	// (CodeDeploy.FailRollbacks).
	FailRollback bool `json:"failRollback,omitempty"`
}

// ScriptDeployments checks every rule, then applies them all: it replaces
// the failures scripted before and not used yet (a service or group not
// named fails nothing), and sets the alarms named (the others keep their
// state). A rule naming a service or group the simulator lacks, a service
// ECS deploys ROLLING or CodeDeploy deploys, an event that is not an ECS
// lifecycle event, or an alarm not created is refused, and nothing changes.
func (s *Server) ScriptDeployments(rules DeploymentRules) error {
	if err := s.Alarms.check(rules.Alarms); err != nil {
		return err
	}
	x, cd := s.ECS, s.CodeDeploy
	x.mu.Lock()
	services, err := x.checkDeploymentRules(rules.ECS)
	if err != nil {
		x.mu.Unlock()
		return err
	}
	groups, err := cd.checkRules(rules.CodeDeploy)
	if err != nil {
		x.mu.Unlock()
		return err
	}
	for _, c := range x.clusters {
		for _, svc := range c.services {
			svc.failRollback = services[svc.ServiceName]
		}
	}
	for _, byName := range cd.apps {
		for name, g := range byName {
			r := groups[name]
			g.failAt, g.failRollback = r.FailAt, r.FailRollback
		}
	}
	x.mu.Unlock()
	for _, a := range rules.Alarms {
		s.Alarms.Set(a.Name, cmp.Or(a.State, "OK"), a.Reason)
		if a.FireAfter > 0 {
			s.Alarms.FireAfter(a.Name, a.FireAfter, a.Reason)
		}
	}
	return nil
}

// Deployments returns the failures in force, scripted and not used yet
// (in the order of the names), and every alarm's state.
func (s *Server) Deployments() DeploymentRules {
	x, cd := s.ECS, s.CodeDeploy
	out := DeploymentRules{ECS: []ECSDeploymentRule{}, CodeDeploy: []CodeDeployRule{}}
	x.mu.Lock()
	for _, c := range x.clusters {
		for _, svc := range c.services {
			if svc.failRollback && !slices.ContainsFunc(out.ECS, func(r ECSDeploymentRule) bool { return r.Service == svc.ServiceName }) {
				out.ECS = append(out.ECS, ECSDeploymentRule{Service: svc.ServiceName, FailRollback: true})
			}
		}
	}
	for _, byName := range cd.apps {
		for name, g := range byName {
			if g.failAt != "" || g.failRollback {
				out.CodeDeploy = append(out.CodeDeploy, CodeDeployRule{DeploymentGroup: name, FailAt: g.failAt, FailRollback: g.failRollback})
			}
		}
	}
	x.mu.Unlock()
	slices.SortFunc(out.ECS, func(a, b ECSDeploymentRule) int { return strings.Compare(a.Service, b.Service) })
	slices.SortFunc(out.CodeDeploy, func(a, b CodeDeployRule) int { return strings.Compare(a.DeploymentGroup, b.DeploymentGroup) })
	out.Alarms = s.Alarms.states()
	return out
}

// checkDeploymentRules returns failRollback by service name. Called with
// x.mu held.
func (x *ECS) checkDeploymentRules(rules []ECSDeploymentRule) (map[string]bool, error) {
	out := map[string]bool{}
	for i, r := range rules {
		if r.Service == "" {
			return nil, fmt.Errorf("ecs rule %d: service is required", i)
		}
		if _, dup := out[r.Service]; dup {
			return nil, fmt.Errorf("ecs rule %d: service %s is named twice: give it one rule", i, r.Service)
		}
		found := false
		for _, name := range slices.Sorted(maps.Keys(x.clusters)) {
			svc := x.clusters[name].services[r.Service]
			if svc == nil {
				continue
			}
			found = true
			if ctl := svc.DeploymentController["type"]; ctl != "" && ctl != "ECS" {
				return nil, fmt.Errorf("ecs rule %d: service %s in cluster %s has deployment controller %s, so ECS runs no service deployment of it: script its CodeDeploy deployment group under codeDeploy",
					i, r.Service, name, ctl)
			}
			if st := cmp.Or(svc.DeploymentConfiguration.Strategy, StrategyRolling); st == StrategyRolling {
				return nil, fmt.Errorf("ecs rule %d: service %s in cluster %s deploys ROLLING, which has no service deployment to roll back: failRollback applies to BLUE_GREEN, LINEAR or CANARY services",
					i, r.Service, name)
			}
		}
		if !found {
			return nil, fmt.Errorf("ecs rule %d: no service %s in any cluster of the simulator", i, r.Service)
		}
		out[r.Service] = r.FailRollback
	}
	return out, nil
}

// checkRules returns the rules by deployment group name. Called with the
// ECS simulator's lock held.
func (cd *CodeDeploy) checkRules(rules []CodeDeployRule) (map[string]CodeDeployRule, error) {
	out := map[string]CodeDeployRule{}
	for i, r := range rules {
		if r.DeploymentGroup == "" {
			return nil, fmt.Errorf("codeDeploy rule %d: deploymentGroup is required", i)
		}
		if _, dup := out[r.DeploymentGroup]; dup {
			return nil, fmt.Errorf("codeDeploy rule %d: deployment group %s is named twice: give it one rule", i, r.DeploymentGroup)
		}
		if !slices.ContainsFunc(slices.Collect(maps.Values(cd.apps)), func(g map[string]*cdGroup) bool { return g[r.DeploymentGroup] != nil }) {
			return nil, fmt.Errorf("codeDeploy rule %d: no deployment group %s in the simulator", i, r.DeploymentGroup)
		}
		if r.FailAt != "" && !slices.Contains(ecsEvents, r.FailAt) {
			return nil, fmt.Errorf("codeDeploy rule %d: failAt %q is not a lifecycle event of an ECS deployment: use one of %s",
				i, r.FailAt, strings.Join(ecsEvents, ", "))
		}
		out[r.DeploymentGroup] = r
	}
	return out, nil
}

// states lists every alarm as a rule that would set it as it is, by name;
// listing is no observation (FireAfter does not count it).
func (x *Alarms) states() []AlarmRule {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := []AlarmRule{}
	for _, name := range slices.Sorted(maps.Keys(x.alarms)) {
		a := x.alarms[name]
		out = append(out, AlarmRule{Name: name, State: a.state, FireAfter: a.fireAfter, Reason: cmp.Or(a.reason, a.fireReason)})
	}
	return out
}

// check refuses alarm rules with a bad state, no name or a name the
// simulator has no alarm for (a typo would script nothing).
func (x *Alarms) check(rules []AlarmRule) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	for i, a := range rules {
		switch a.State {
		case "", "OK", "ALARM", "INSUFFICIENT_DATA":
		default:
			return fmt.Errorf("alarm rule %d: state %q is not OK, ALARM or INSUFFICIENT_DATA", i, a.State)
		}
		if a.Name == "" {
			return fmt.Errorf("alarm rule %d: name is required", i)
		}
		if x.alarms[a.Name] == nil {
			return fmt.Errorf("alarm rule %d: no alarm %s in the simulator (known: %s)", i, a.Name, strings.Join(slices.Sorted(maps.Keys(x.alarms)), ", "))
		}
		if a.FireAfter < 0 {
			return fmt.Errorf("alarm rule %d: fireAfter %d is negative", i, a.FireAfter)
		}
	}
	return nil
}
