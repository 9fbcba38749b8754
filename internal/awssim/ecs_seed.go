package awssim

import (
	"encoding/json"
	"fmt"
)

// Seed is the JSON a standalone simulator is seeded from (cmd/awssim -seed).
type Seed struct {
	// Clusters are created first, by name.
	Clusters []string `json:"clusters"`
	// TaskDefinitions are RegisterTaskDefinition request bodies, registered in order.
	TaskDefinitions []json.RawMessage `json:"taskDefinitions"`
	// Services are created steady, on a registered task definition.
	Services []SeedService `json:"services"`
	// DeploymentGroups are CodeDeploy deployment groups over CODE_DEPLOY
	// services, created last.
	DeploymentGroups []SeedDeploymentGroup `json:"deploymentGroups"`
}

// SeedService is a ServiceSpec with JSON names, plus its cluster.
type SeedService struct {
	Cluster                  string                 `json:"cluster"`
	Name                     string                 `json:"name"`
	TaskDefinition           string                 `json:"taskDefinition"`
	DesiredCount             int32                  `json:"desiredCount"`
	LaunchType               string                 `json:"launchType"`
	CapacityProviderStrategy []CapacityProviderItem `json:"capacityProviderStrategy"`
	Subnets                  []string               `json:"subnets"`
	SecurityGroups           []string               `json:"securityGroups"`
	AssignPublicIP           bool                   `json:"assignPublicIp"`
	CircuitBreaker           bool                   `json:"circuitBreaker"`
	CircuitBreakerRollback   bool                   `json:"circuitBreakerRollback"`
	// DeploymentController is ECS (the default) or CODE_DEPLOY.
	DeploymentController string `json:"deploymentController"`
	// Strategy and the fields after it are ServiceSpec's: a BLUE_GREEN,
	// LINEAR or CANARY service, its PAUSE hooks and alarms.
	Strategy          string   `json:"strategy"`
	BakeTimeInMinutes int32    `json:"bakeTimeInMinutes"`
	PauseAt           []string `json:"pauseAt"`
	LinearStepPercent float64  `json:"linearStepPercent"`
	CanaryPercent     float64  `json:"canaryPercent"`
	Alarms            []string `json:"alarms"`
}

// ApplySeed creates what a Seed describes. It checks every service's cluster
// and task definition before creating it, so a bad seed fails with the
// service it names.
func (x *ECS) ApplySeed(data []byte) error {
	var seed Seed
	if err := json.Unmarshal(data, &seed); err != nil {
		return fmt.Errorf("parse seed: %w", err)
	}
	for _, name := range seed.Clusters {
		x.CreateCluster(name)
	}
	for i, body := range seed.TaskDefinitions {
		if _, err := x.RegisterTaskDefinition(body); err != nil {
			return fmt.Errorf("register seed task definition %d: %w", i, err)
		}
	}
	for _, s := range seed.Services {
		if s.Cluster == "" || s.Name == "" {
			return fmt.Errorf("seed service %q: cluster and name are required", s.Name)
		}
		x.mu.Lock()
		td := x.lookupTaskDef(s.TaskDefinition)
		x.mu.Unlock()
		if td == nil {
			return fmt.Errorf("seed service %s: task definition %q is not in taskDefinitions", s.Name, s.TaskDefinition)
		}
		spec := ServiceSpec{
			Name: s.Name, TaskDefinition: s.TaskDefinition, DesiredCount: s.DesiredCount, LaunchType: s.LaunchType,
			CapacityProviderStrategy: s.CapacityProviderStrategy, Subnets: s.Subnets, SecurityGroups: s.SecurityGroups,
			AssignPublicIP: s.AssignPublicIP, CircuitBreaker: s.CircuitBreaker, CircuitBreakerRollback: s.CircuitBreakerRollback,
			Strategy: s.Strategy, BakeTimeInMinutes: s.BakeTimeInMinutes, PauseAt: s.PauseAt,
			LinearStepPercent: s.LinearStepPercent, CanaryPercent: s.CanaryPercent, Alarms: s.Alarms,
			DeploymentController: s.DeploymentController,
		}
		if err := applyStrategy(&deploymentConfiguration{}, spec); err != nil {
			return fmt.Errorf("seed service %s: %w", s.Name, err)
		}
		x.CreateService(s.Cluster, spec)
	}
	return x.s.CodeDeploy.applySeed(seed.DeploymentGroups)
}
