package ecsdeploy

import (
	"context"

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
}

// State reads what the service runs now: its PRIMARY deployment and the
// image of container (default: the only essential container). It changes nothing.
func State(ctx context.Context, c Clients, cluster, service, container string) (*ServiceState, error) {
	l, err := describeService(ctx, c.ECS, cluster, service)
	if err != nil {
		return nil, err
	}
	st := &ServiceState{Cluster: cluster, Service: service, Running: l.Svc.RunningCount, Desired: l.Svc.DesiredCount,
		Deployments: len(l.Svc.Deployments)}
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
