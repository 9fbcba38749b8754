package ecsdeploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Kinds of RolloutError.
const (
	// RolloutFailed: the deployment's rolloutState became FAILED.
	RolloutFailed = "failed"
	// RolloutReplaced: ECS (the circuit breaker) or someone else started
	// another deployment.
	RolloutReplaced = "ecs-rolled-back"
	// RolloutTasksFailing: new tasks stopped for a known reason FailureThreshold times.
	RolloutTasksFailing = "tasks-failing"
	// RolloutTimeout: still in progress at the timeout, or the wait was interrupted.
	RolloutTimeout = "timeout"
)

// RolloutError says why waiting for a deployment stopped early.
type RolloutError struct {
	// Kind is one of the Rollout* constants; Revision is "family:revision".
	Kind, Revision, Reason string
}

func (e *RolloutError) Error() string {
	switch e.Kind {
	case RolloutReplaced:
		return fmt.Sprintf("deployment of %s was replaced by ECS: %s", e.Revision, e.Reason)
	case RolloutTimeout:
		return fmt.Sprintf("deployment of %s did not complete: %s", e.Revision, e.Reason)
	}
	return fmt.Sprintf("deployment of %s failed: %s", e.Revision, e.Reason)
}

// knownStopReasons are task stop reasons that will not fix themselves.
var knownStopReasons = []string{
	"CannotPullContainerError", "ResourceInitializationError", "CannotStartContainerError",
	"Essential container in task exited", "failed container health checks", "failed ELB health checks",
}

// watcher follows one service: it prints new service events once and
// remembers the stopped tasks it has already classified.
type watcher struct {
	api              ECSAPI
	cluster, service string
	out              io.Writer
	poll, timeout    time.Duration
	threshold        int
	seenEvents       map[string]bool
	seenTasks        map[string]bool
}

func newWatcher(api ECSAPI, l *liveService, out io.Writer, poll, timeout time.Duration, threshold int) *watcher {
	w := &watcher{api: api, cluster: l.Cluster, service: l.Service, out: out, poll: poll, timeout: timeout,
		threshold: threshold, seenEvents: map[string]bool{}, seenTasks: map[string]bool{}}
	w.markSeen(l.Svc) // events from before this release are history
	return w
}

func (w *watcher) markSeen(svc types.Service) {
	for _, e := range svc.Events {
		w.seenEvents[aws.ToString(e.Id)] = true
	}
}

// printEvents prints unseen events oldest first (ECS lists newest first).
func (w *watcher) printEvents(svc types.Service) {
	for _, e := range slices.Backward(svc.Events) {
		if id := aws.ToString(e.Id); !w.seenEvents[id] {
			w.seenEvents[id] = true
			fmt.Fprintf(w.out, "    %s\n", aws.ToString(e.Message))
		}
	}
}

// wait polls until the deployment of arn is PRIMARY and COMPLETED, failing
// fast on rolloutState FAILED, on the deployment being replaced, and on
// tasks of arn failing threshold times.
func (w *watcher) wait(ctx context.Context, arn string) error {
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	rev, progress, failures := revName(arn), "", map[string]int{}
	for {
		out, err := w.api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(w.cluster), Services: []string{w.service}})
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("describe service %s: %w", w.service, err)
		}
		if err == nil && len(out.Services) > 0 {
			svc := out.Services[0]
			w.printEvents(svc)
			done, err := w.judge(svc, arn)
			if done || err != nil {
				return err
			}
			if d := deploymentOf(svc, arn); d != nil {
				if p := fmt.Sprintf("running %d/%d, pending %d, failed %d", d.RunningCount, d.DesiredCount, d.PendingCount, d.FailedTasks); p != progress {
					fmt.Fprintf(w.out, "    %s %s: %s\n", aws.ToString(d.Id), rev, p)
					progress = p
				}
			}
			if err := w.checkStoppedTasks(ctx, arn, failures); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			why := fmt.Sprintf("still in progress after %s", w.timeout)
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				why = fmt.Sprintf("waiting was interrupted (%v)", ctx.Err())
			}
			return &RolloutError{Kind: RolloutTimeout, Revision: rev, Reason: why}
		case <-time.After(w.poll):
		}
	}
}

// judge reads one DescribeServices answer: done when arn's deployment is
// COMPLETED, an error when it failed or was replaced.
func (w *watcher) judge(svc types.Service, arn string) (bool, error) {
	rev, p, d := revName(arn), primary(svc), deploymentOf(svc, arn)
	if p != nil && aws.ToString(p.TaskDefinition) != arn {
		why := fmt.Sprintf("ECS started deployment %s of %s", aws.ToString(p.Id), revName(aws.ToString(p.TaskDefinition)))
		if d != nil && d.RolloutState == types.DeploymentRolloutStateFailed {
			why = strings.TrimSuffix(aws.ToString(d.RolloutStateReason), ".") + "; " + why
		}
		return false, &RolloutError{Kind: RolloutReplaced, Revision: rev, Reason: why + " (circuit-breaker rollback or a concurrent change)"}
	}
	if d == nil {
		return false, &RolloutError{Kind: RolloutReplaced, Revision: rev, Reason: "its deployment disappeared from the service"}
	}
	switch d.RolloutState {
	case types.DeploymentRolloutStateFailed:
		return false, &RolloutError{Kind: RolloutFailed, Revision: rev, Reason: fmt.Sprintf("rolloutState FAILED: %s", aws.ToString(d.RolloutStateReason))}
	case types.DeploymentRolloutStateCompleted:
		return true, nil
	case "":
		// Services without rollout state: done when alone and at full strength.
		return len(svc.Deployments) == 1 && d.RunningCount == d.DesiredCount, nil
	}
	return false, nil
}

func deploymentOf(svc types.Service, arn string) *types.Deployment {
	var found *types.Deployment
	for i := range svc.Deployments {
		d := &svc.Deployments[i]
		if aws.ToString(d.TaskDefinition) == arn && (found == nil || aws.ToString(d.Status) == "PRIMARY") {
			found = d
		}
	}
	return found
}

// checkStoppedTasks prints stop reasons of newly stopped tasks of arn and
// fails once known reasons were seen threshold times.
func (w *watcher) checkStoppedTasks(ctx context.Context, arn string, failures map[string]int) error {
	p := ecs.NewListTasksPaginator(w.api, &ecs.ListTasksInput{Cluster: aws.String(w.cluster), ServiceName: aws.String(w.service), DesiredStatus: types.DesiredStatusStopped})
	var fresh []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil // stop reasons only sharpen the diagnosis; the rollout state still decides
		}
		for _, t := range page.TaskArns {
			if !w.seenTasks[t] {
				fresh = append(fresh, t)
			}
		}
	}
	for chunk := range slices.Chunk(fresh, 100) {
		out, err := w.api.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(w.cluster), Tasks: chunk})
		if err != nil {
			return nil
		}
		for _, t := range out.Tasks {
			w.seenTasks[aws.ToString(t.TaskArn)] = true
			if aws.ToString(t.TaskDefinitionArn) != arn {
				continue
			}
			reason := aws.ToString(t.StoppedReason)
			fmt.Fprintf(w.out, "    task %s stopped (%s): %s\n", revName(aws.ToString(t.TaskArn)), t.StopCode, reason)
			if known := knownReason(reason); known != "" {
				failures[known]++
				if failures[known] >= w.threshold {
					return &RolloutError{Kind: RolloutTasksFailing, Revision: revName(arn),
						Reason: fmt.Sprintf("%d new tasks stopped with %q (last: %s)", failures[known], known, reason)}
				}
			}
		}
	}
	return nil
}

func knownReason(reason string) string {
	for _, k := range knownStopReasons {
		if strings.Contains(reason, k) {
			return k
		}
	}
	return ""
}

// prime marks the tasks already stopped before this release as seen, so old
// crashes are not blamed on the new revision.
func (w *watcher) prime(ctx context.Context) {
	p := ecs.NewListTasksPaginator(w.api, &ecs.ListTasksInput{Cluster: aws.String(w.cluster), ServiceName: aws.String(w.service), DesiredStatus: types.DesiredStatusStopped})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return
		}
		for _, t := range page.TaskArns {
			w.seenTasks[t] = true
		}
	}
}
