package ecsdeploy

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// ServiceState is what a service runs now.
type ServiceState struct {
	Cluster     string `json:"cluster"`
	Service     string `json:"service"`
	Revision    string `json:"revision"` // family:revision of the PRIMARY deployment
	Image       string `json:"image"`    // of the target container
	Running     int32  `json:"running"`
	Desired     int32  `json:"desired"`
	Rollout     string `json:"rollout"` // the PRIMARY deployment's rolloutState
	Deployments int    `json:"deployments"`
	// Strategy is how ECS deploys the service: rolling, blue/green, linear
	// or canary.
	Strategy string `json:"strategy"`
	// InProgress is the service deployment of a native strategy that has
	// not ended, with its stage and traffic; nil when none.
	InProgress *ServiceDeploymentState `json:"inProgress,omitempty"`
}

// ServiceDeploymentState is a service deployment as status shows it.
type ServiceDeploymentState struct {
	ARN     string `json:"arn"`
	Status  string `json:"status"`
	Stage   string `json:"stage"`
	Traffic string `json:"traffic,omitempty"`
	// Paused names the PAUSE hook holding it, if one is.
	Paused string `json:"paused,omitempty"`
}

// State reads what the service runs now: its PRIMARY deployment and the
// image of container (default: the only essential container). It changes nothing.
func State(ctx context.Context, c Clients, cluster, service, container string) (*ServiceState, error) {
	l, err := describeService(ctx, c.ECS, cluster, service)
	if err != nil {
		return nil, err
	}
	st := &ServiceState{Cluster: cluster, Service: service, Running: l.Svc.RunningCount, Desired: l.Svc.DesiredCount,
		Deployments: len(l.Svc.Deployments), Strategy: strategyName(strategyOf(l.Svc))}
	if native(strategyOf(l.Svc)) {
		if st.InProgress, err = inProgress(ctx, c.ECS, cluster, service); err != nil {
			return st, err
		}
	}
	p := primary(l.Svc)
	if p == nil {
		return st, nil
	}
	st.Revision, st.Rollout = revName(aws.ToString(p.TaskDefinition)), string(p.RolloutState)
	out, err := c.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: p.TaskDefinition})
	if err != nil {
		return st, err
	}
	name, err := pickContainer(out.TaskDefinition, container)
	if err != nil {
		return st, err
	}
	st.Image = aws.ToString(containerDef(out.TaskDefinition, name).Image)
	return st, nil
}

// inProgress reads the service deployment of a native strategy that has
// not ended, nil when there is none.
func inProgress(ctx context.Context, api ServiceDeploymentsAPI, cluster, service string) (*ServiceDeploymentState, error) {
	arn, err := findServiceDeployment(ctx, api, cluster, service, nil)
	if errors.Is(err, errNoServiceDeployment) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	f := &follower{api: api, arn: arn}
	sd, err := f.describe(ctx)
	if err != nil {
		return nil, err
	}
	st := &ServiceDeploymentState{ARN: arn, Status: string(sd.Status), Stage: string(sd.LifecycleStage), Traffic: traffic(sd)}
	if h := awaiting(sd); h != nil {
		st.Paused = aws.ToString(h.HookId)
	}
	return st, nil
}
