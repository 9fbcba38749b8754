package ecsdeploy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/futuraplataforma/esteira/internal/setting"
)

// liveService is what step 1 learns before anything changes: the service and
// the task definition its completed PRIMARY deployment runs.
type liveService struct {
	Cluster, Service string
	Svc              types.Service
	TaskDef          *types.TaskDefinition // nil until liveTaskDef
	Tags             []types.Tag
}

// describeService checks the cluster and the service exist and are ACTIVE.
func describeService(ctx context.Context, api ECSAPI, cluster, service string) (*liveService, error) {
	if cluster == "" {
		return nil, setting.Of("Cluster", errors.New("cluster is empty: name the ECS cluster"))
	}
	if service == "" {
		return nil, setting.Of("Service", errors.New("service is empty: name the ECS service"))
	}
	cl, err := api.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{cluster}})
	if err != nil {
		return nil, fmt.Errorf("describe cluster %s: %w", cluster, err)
	}
	if len(cl.Clusters) == 0 || aws.ToString(cl.Clusters[0].Status) != "ACTIVE" {
		return nil, setting.Of("Cluster", fmt.Errorf("cluster %q not found (or not ACTIVE) in this account and region: check the cluster name, the account and the region", cluster))
	}
	out, err := api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service}})
	if err != nil {
		return nil, fmt.Errorf("describe service %s in cluster %s: %w", service, cluster, err)
	}
	if len(out.Services) == 0 || aws.ToString(out.Services[0].Status) != "ACTIVE" {
		return nil, setting.Of("Service", fmt.Errorf("service %q not found (or not ACTIVE) in cluster %q: check the service name", service, cluster))
	}
	return &liveService{Cluster: cluster, Service: service, Svc: out.Services[0]}, nil
}

// checkController refuses services whose task definition ECS does not let
// UpdateService change: the EXTERNAL controller deploys through task sets.
// Checked before anything changes, so a migration never runs for a release
// that cannot roll out. A CODE_DEPLOY service never gets here: deploy and
// rollback release it through CodeDeploy (codedeploy.go,
// codedeploy_rollback.go).
func checkController(l *liveService) error {
	dc := l.Svc.DeploymentController
	if dc == nil || dc.Type == "" || dc.Type == types.DeploymentControllerTypeEcs {
		return nil
	}
	return fmt.Errorf("service %s uses the %s deployment controller, whose task definition UpdateService cannot change: esteira deploys services with the ECS deployment controller (rolling, blue/green, linear, canary) or CodeDeploy; nothing was changed: deploy this service with its external controller (task sets)", l.Service, dc.Type)
}

// primary returns the PRIMARY deployment, nil if there is none.
func primary(svc types.Service) *types.Deployment {
	for i := range svc.Deployments {
		if aws.ToString(svc.Deployments[i].Status) == "PRIMARY" {
			return &svc.Deployments[i]
		}
	}
	return nil
}

// liveRevisionARN is the task definition of the PRIMARY deployment that is
// COMPLETED: what really runs, not the latest registered revision. A service
// in the middle of a deployment has no such revision and is refused.
func liveRevisionARN(l *liveService) (string, error) {
	if codeDeployed(l.Svc) { // task sets, not deployments: the PRIMARY one is the service's task definition
		for _, ts := range l.Svc.TaskSets {
			if aws.ToString(ts.Status) == "ACTIVE" {
				return "", &unstableError{fmt.Sprintf("service %s is in the middle of a CodeDeploy deployment (task set %s of %s is ACTIVE beside the PRIMARY one); wait until it finishes; "+
					"if the release that started it was interrupted, nothing will finish it: run backend rollback with --break-lock, which stops its CodeDeploy deployment with auto rollback",
					l.Service, aws.ToString(ts.Id), revName(aws.ToString(ts.TaskDefinition)))}
			}
		}
		if arn := aws.ToString(l.Svc.TaskDefinition); arn != "" {
			return arn, nil
		}
	}
	p := primary(l.Svc)
	if p == nil {
		return "", fmt.Errorf("service %s has no PRIMARY deployment; inspect it in the ECS console", l.Service)
	}
	steady := p.RolloutState == types.DeploymentRolloutStateCompleted ||
		(p.RolloutState == "" && len(l.Svc.Deployments) == 1)
	if !steady {
		msg := fmt.Sprintf("service %s is not stable: deployment %s of %s is %s (%s); wait until it finishes, or roll the service back to a revision",
			l.Service, aws.ToString(p.Id), revName(aws.ToString(p.TaskDefinition)), orUnknown(string(p.RolloutState)), aws.ToString(p.RolloutStateReason))
		if native(strategyOf(l.Svc)) {
			// A PAUSE hook holds it forever when the release that started it
			// was killed (Ctrl-C through the dagger CLI kills the module).
			msg += "; if the release that started it was interrupted, nothing will finish it: run backend rollback with --break-lock, which stops its service deployment with ROLLBACK"
		}
		return "", &unstableError{msg}
	}
	return aws.ToString(p.TaskDefinition), nil
}

// unstableError: the service is in the middle of a deployment.
type unstableError struct{ msg string }

func (e *unstableError) Error() string { return e.msg }

// describeTaskDef fetches a task definition (ARN or family:revision) with its tags.
func describeTaskDef(ctx context.Context, api ECSAPI, ref string) (*types.TaskDefinition, []types.Tag, error) {
	out, err := api.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(ref),
		Include:        []types.TaskDefinitionField{types.TaskDefinitionFieldTags},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("describe task definition %s: %w", ref, err)
	}
	return out.TaskDefinition, out.Tags, nil
}

// pickContainer returns the container to change: the named one, or the
// single essential container when name is empty.
func pickContainer(td *types.TaskDefinition, name string) (string, error) {
	var all, essential []string
	for _, c := range td.ContainerDefinitions {
		n := aws.ToString(c.Name)
		all = append(all, n)
		if c.Essential == nil || *c.Essential {
			essential = append(essential, n)
		}
	}
	rev := revName(aws.ToString(td.TaskDefinitionArn))
	if name != "" {
		for _, n := range all {
			if n == name {
				return name, nil
			}
		}
		return "", setting.Of("Container", fmt.Errorf("container %q is not in task definition %s (containers: %s): name one of them", name, rev, strings.Join(all, ", ")))
	}
	if len(essential) != 1 {
		return "", setting.Of("Container", fmt.Errorf("task definition %s has %d essential containers (%s): name the one whose image changes", rev, len(essential), strings.Join(essential, ", ")))
	}
	return essential[0], nil
}

func containerDef(td *types.TaskDefinition, name string) *types.ContainerDefinition {
	for i := range td.ContainerDefinitions {
		if aws.ToString(td.ContainerDefinitions[i].Name) == name {
			return &td.ContainerDefinitions[i]
		}
	}
	return nil
}

// revName turns a task definition ARN into "family:revision".
func revName(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
