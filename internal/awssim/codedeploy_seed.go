package awssim

import "fmt"

// SeedDeploymentGroup is a DeploymentGroupSpec with JSON names, plus its
// application and name.
type SeedDeploymentGroup struct {
	Application     string    `json:"application"`
	Name            string    `json:"name"`
	Cluster         string    `json:"cluster"`
	Service         string    `json:"service"`
	ProdListenerArn string    `json:"prodListenerArn"`
	TestListenerArn string    `json:"testListenerArn"`
	TargetGroups    [2]string `json:"targetGroups"`
	ContainerName   string    `json:"containerName"`
	ContainerPort   int32     `json:"containerPort"`
	WaitForReady    bool      `json:"waitForReady"`
	// DeploymentConfigName, Alarms and NoRollbackOnAlarm are
	// DeploymentGroupSpec's: a predefined ECS config, and alarms that stop
	// (and roll back) a deployment once production traffic moves.
	DeploymentConfigName string   `json:"deploymentConfigName,omitempty"`
	Alarms               []string `json:"alarms,omitempty"`
	NoRollbackOnAlarm    bool     `json:"noRollbackOnAlarm,omitempty"`
}

// applySeed creates a seed's deployment groups, naming the one that is wrong.
func (cd *CodeDeploy) applySeed(groups []SeedDeploymentGroup) error {
	cd.ecs.mu.Lock()
	defer cd.ecs.mu.Unlock()
	for _, g := range groups {
		spec := DeploymentGroupSpec{Cluster: g.Cluster, Service: g.Service, ProdListenerArn: g.ProdListenerArn,
			TestListenerArn: g.TestListenerArn, TargetGroups: g.TargetGroups, ContainerName: g.ContainerName,
			ContainerPort: g.ContainerPort, WaitForReady: g.WaitForReady,
			DeploymentConfigName: g.DeploymentConfigName, Alarms: g.Alarms, NoRollbackOnAlarm: g.NoRollbackOnAlarm}
		if err := cd.createGroup(g.Application, g.Name, spec); err != nil {
			return fmt.Errorf("seed %w", err)
		}
	}
	return nil
}
