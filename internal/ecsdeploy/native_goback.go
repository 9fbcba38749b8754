package ecsdeploy

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Going back on a blue/green, linear or canary service is a service
// deployment like any other: it shifts test then production traffic, bakes,
// and stops at the service's PAUSE hooks. Those hooks are there for the
// release's gate (or a person's approval) before a new revision takes
// traffic; the revision esteira goes back to already served production, and
// no gate waits at the hook, so esteira continues it. Left alone it would
// hold the service half-shifted until the wait timed out.

// goBack points the service at target, a revision known to be good, and
// follows the service deployment that starts until it is SUCCESSFUL. It
// returns the deployment's ARN, also when it failed.
func goBack(ctx context.Context, api ECSAPI, cluster, service, target string, s types.DeploymentStrategy, out io.Writer, poll, timeout time.Duration) (string, error) {
	up, err := api.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String(service), TaskDefinition: aws.String(target)})
	if err != nil {
		return "", fmt.Errorf("update service %s in cluster %s to %s: %w", service, cluster, revName(target), err)
	}
	f := &follower{api: api, strategy: s, out: out, poll: poll, resume: true}
	if f.arn, err = findServiceDeployment(ctx, api, cluster, service, up); err != nil {
		return "", err
	}
	fmt.Fprintf(out, "    %s service deployment %s back to %s\n", strategyName(s), f.arn, revName(target))
	fctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return f.arn, f.follow(fctx)
}

// resumePause continues a PAUSE hook that holds a deployment going back.
func (f *follower) resumePause(ctx context.Context, sd *types.ServiceDeployment, hook *types.DeploymentLifecycleHookDetail) error {
	id := aws.ToString(hook.HookId)
	if f.continued[id] {
		return nil
	}
	fmt.Fprintf(f.out, "    going back to a revision that already served production: continuing the PAUSE hook %s at %s\n", id, sd.LifecycleStage)
	if _, err := f.api.ContinueServiceDeployment(ctx, &ecs.ContinueServiceDeploymentInput{
		ServiceDeploymentArn: aws.String(f.arn), HookId: hook.HookId, Action: types.DeploymentLifecycleHookActionContinue}); err != nil {
		return fmt.Errorf("continue the PAUSE hook %s of service deployment %s: %w", id, f.arn, err)
	}
	if f.continued == nil {
		f.continued = map[string]bool{}
	}
	f.continued[id] = true
	return nil
}
