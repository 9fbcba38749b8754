package ecsdeploy

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// updateService points the service at arn, which starts a new deployment.
func updateService(ctx context.Context, api ECSAPI, cluster, service, arn string) error {
	_, err := api.UpdateService(ctx, &ecs.UpdateServiceInput{
		Cluster:        aws.String(cluster),
		Service:        aws.String(service),
		TaskDefinition: aws.String(arn),
	})
	if err != nil {
		return fmt.Errorf("update service %s in cluster %s to %s: %w", service, cluster, revName(arn), err)
	}
	return nil
}

// rollbackTo brings the service back to arn and waits until that deployment
// is COMPLETED. When ECS is already deploying arn (a circuit-breaker
// rollback) it only waits.
func rollbackTo(ctx context.Context, api ECSAPI, w *watcher, arn string) error {
	out, err := api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(w.cluster), Services: []string{w.service}})
	if err != nil {
		return fmt.Errorf("describe service %s before rolling back: %w", w.service, err)
	}
	already := false
	if len(out.Services) > 0 {
		w.printEvents(out.Services[0])
		if p := primary(out.Services[0]); p != nil && aws.ToString(p.TaskDefinition) == arn {
			already = true
			fmt.Fprintf(w.out, "    the service's PRIMARY deployment is already %s (ECS rolled back, or the update never took); waiting for it to complete\n", revName(arn))
		}
	}
	if !already {
		if err := updateService(ctx, api, w.cluster, w.service, arn); err != nil {
			return err
		}
	}
	return w.wait(ctx, arn)
}
