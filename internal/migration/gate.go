// Package migration runs a one-off ECS task (typically a database migration)
// as a release gate: RunTask, follow its CloudWatch Logs while it runs, wait
// until it is STOPPED and judge it by the exit codes of its essential
// containers and its stop code.
package migration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// ECSAPI is the part of *ecs.Client the gate uses.
type ECSAPI interface {
	RunTask(ctx context.Context, params *ecs.RunTaskInput, optFns ...func(*ecs.Options)) (*ecs.RunTaskOutput, error)
	DescribeTasks(ctx context.Context, params *ecs.DescribeTasksInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
	StopTask(ctx context.Context, params *ecs.StopTaskInput, optFns ...func(*ecs.Options)) (*ecs.StopTaskOutput, error)
}

// Spec says which task to run and how.
type Spec struct {
	Cluster string
	// TaskDefinition is the full task definition to run (as returned by
	// DescribeTaskDefinition); Container the container whose command is
	// overridden with Command.
	TaskDefinition *types.TaskDefinition
	Container      string
	Command        []string
	// Network, LaunchType, CapacityProviderStrategy and PlatformVersion are
	// copied from the service so the task runs where the service runs.
	Network                  *types.NetworkConfiguration
	LaunchType               types.LaunchType
	CapacityProviderStrategy []types.CapacityProviderStrategyItem
	PlatformVersion          string
	// StartedBy marks the release (at most 36 characters); ClientToken makes
	// RunTask idempotent (at most 64 characters).
	StartedBy, ClientToken string
	// Timeout bounds the whole gate (default 30m); PollInterval the time
	// between DescribeTasks calls (default 5s).
	Timeout, PollInterval time.Duration
	Out                   io.Writer
}

// Result is what the gate observed.
type Result struct {
	TaskARN           string   `json:"taskArn"`
	TaskDefinitionARN string   `json:"taskDefinitionArn"`
	Command           []string `json:"command"`
	// ExitCode of the target container, nil when it stopped without one.
	ExitCode      *int   `json:"exitCode,omitempty"`
	StopCode      string `json:"stopCode,omitempty"`
	StoppedReason string `json:"stoppedReason,omitempty"`
	Succeeded     bool   `json:"succeeded"`
	// Failure says why the task is judged failed, empty on success.
	Failure string `json:"failure,omitempty"`
	// Log holds the last lines of the target container's awslogs stream;
	// LogStream names it ("" when the container has no awslogs).
	Log       []string      `json:"log,omitempty"`
	LogStream string        `json:"logStream,omitempty"`
	Duration  time.Duration `json:"-"`
}

// MarshalJSON writes the result with the names and the text duration
// ("1m30s") the release records use.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	return json.Marshal(struct {
		plain
		Duration string `json:"duration"`
	}{plain(r), r.Duration.String()})
}

// FailedError is returned when the task ran but did not succeed.
type FailedError struct{ Result *Result }

func (e *FailedError) Error() string {
	msg := fmt.Sprintf("migration task %s %s", shortTask(e.Result.TaskARN), e.Result.Failure)
	if tail := Tail(e.Result.Log, 10); len(tail) > 0 {
		msg += "; last log lines:\n  " + strings.Join(tail, "\n  ")
	}
	return msg
}

// missingLimit is how many consecutive DescribeTasks answers may report the
// task MISSING before the task is considered vanished. A task not seen yet
// is also given unseenGrace from its first MISSING answer: right after
// RunTask, DescribeTasks is only eventually consistent, and a short poll
// interval must not turn that delay into a failed migration.
const (
	missingLimit = 3
	unseenGrace  = 30 * time.Second
)

// Run starts the task and waits until it stops. It returns a *FailedError
// (with the Result) when the task ran and failed, another error when it could
// not be started or watched.
func Run(ctx context.Context, api ECSAPI, logs LogsAPI, s Spec) (*Result, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	s = s.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	start := time.Now()
	res := &Result{TaskDefinitionARN: aws.ToString(s.TaskDefinition.TaskDefinitionArn), Command: s.Command}
	arn, err := runTask(ctx, api, s)
	if err != nil {
		return nil, err
	}
	res.TaskARN = arn
	fmt.Fprintf(s.Out, "    started task %s\n", arn)
	follower := s.follower(logs, arn)
	var stopFollow func()
	if follower != nil {
		res.LogStream = follower.stream
		fctx, fcancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); follower.Follow(fctx, s.PollInterval) }()
		stopFollow = func() { fcancel(); <-done }
	}
	task, err := waitStopped(ctx, api, s, arn)
	if follower != nil {
		stopFollow()
		// Drain what was written after the last poll; logs are best effort.
		_ = follower.Poll(context.WithoutCancel(ctx))
		res.Log = follower.Lines()
	}
	res.Duration = time.Since(start)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w; %s", err, stopTask(ctx, api, s.Cluster, arn, errors.Is(ctx.Err(), context.Canceled)))
		}
		res.Failure = err.Error()
		return res, withTail(err, res.Log)
	}
	judge(res, task, s)
	if !res.Succeeded {
		return res, &FailedError{Result: res}
	}
	return res, nil
}

func (s Spec) validate() error {
	switch {
	case s.TaskDefinition == nil:
		return errors.New("migration: task definition is required")
	case len(s.Command) == 0:
		return errors.New("migration: command is empty: give the command to run, e.g. [\"./app\", \"migrate\"]")
	case s.Container == "" || containerDef(s.TaskDefinition, s.Container) == nil:
		return fmt.Errorf("migration: container %q is not in task definition %s", s.Container, aws.ToString(s.TaskDefinition.TaskDefinitionArn))
	case len(s.StartedBy) > 36:
		return fmt.Errorf("migration: startedBy %q is longer than 36 characters", s.StartedBy)
	}
	return nil
}

func (s Spec) withDefaults() Spec {
	if s.Timeout <= 0 {
		s.Timeout = 30 * time.Minute
	}
	if s.PollInterval <= 0 {
		s.PollInterval = 5 * time.Second
	}
	if s.Out == nil {
		s.Out = io.Discard
	}
	// The log follower writes from its own goroutine.
	s.Out = &lockedWriter{w: s.Out}
	return s
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func runTask(ctx context.Context, api ECSAPI, s Spec) (string, error) {
	in := &ecs.RunTaskInput{
		Cluster:              aws.String(s.Cluster),
		TaskDefinition:       s.TaskDefinition.TaskDefinitionArn,
		Count:                aws.Int32(1),
		NetworkConfiguration: s.Network,
		StartedBy:            nonEmpty(s.StartedBy),
		Group:                aws.String("esteira-migration"),
		ClientToken:          nonEmpty(s.ClientToken),
		Overrides: &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{
			{Name: aws.String(s.Container), Command: s.Command},
		}},
	}
	if len(s.CapacityProviderStrategy) > 0 {
		in.CapacityProviderStrategy = s.CapacityProviderStrategy
	} else {
		in.LaunchType = s.LaunchType
	}
	if s.PlatformVersion != "" {
		in.PlatformVersion = aws.String(s.PlatformVersion)
	}
	out, err := api.RunTask(ctx, in)
	if err != nil {
		return "", fmt.Errorf("run migration task of %s: %w", aws.ToString(in.TaskDefinition), err)
	}
	if len(out.Tasks) == 0 {
		reasons := make([]string, 0, len(out.Failures))
		for _, f := range out.Failures {
			reasons = append(reasons, aws.ToString(f.Reason)+" "+aws.ToString(f.Detail))
		}
		return "", fmt.Errorf("run migration task of %s: no task started: %s", aws.ToString(in.TaskDefinition), strings.Join(reasons, "; "))
	}
	return aws.ToString(out.Tasks[0].TaskArn), nil
}

// waitStopped polls DescribeTasks until the task is STOPPED, printing each
// status change. A task reported MISSING missingLimit times in a row (and,
// if it was never seen, for unseenGrace) is treated as vanished.
func waitStopped(ctx context.Context, api ECSAPI, s Spec, arn string) (*types.Task, error) {
	last, missing := "", 0
	var firstMissing time.Time
	started := time.Now()
	for {
		out, err := api.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(s.Cluster), Tasks: []string{arn}})
		if err != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("describe migration task %s: %w", shortTask(arn), err)
		}
		switch {
		case err != nil: // ctx ended: the select below says how
		case len(out.Tasks) == 0:
			if missing == 0 {
				firstMissing = time.Now()
			}
			missing++
			if missing >= missingLimit && (last != "" || time.Since(firstMissing) >= unseenGrace) {
				return nil, fmt.Errorf("migration task %s vanished from DescribeTasks (reason MISSING) after status %q; its outcome is unknown, so it counts as failed", shortTask(arn), orUnknown(last))
			}
		default:
			missing = 0
			t := out.Tasks[0]
			if st := aws.ToString(t.LastStatus); st != last {
				fmt.Fprintf(s.Out, "    task %s %s\n", shortTask(arn), st)
				last = st
			}
			if last == "STOPPED" {
				return &t, nil
			}
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.Canceled) {
				return nil, fmt.Errorf("interrupted while migration task %s was %s, %s after it started: %w",
					shortTask(arn), orUnknown(last), time.Since(started).Round(time.Second), ctx.Err())
			}
			return nil, fmt.Errorf("migration task %s still %s after %s: %w", shortTask(arn), orUnknown(last), s.Timeout, ctx.Err())
		case <-time.After(s.PollInterval):
		}
	}
}

// stopTask stops a task we gave up waiting for, so it does not migrate
// behind our back, even when ctx is already done. It says what it did: the
// migration may have been cut off half-way either way.
func stopTask(ctx context.Context, api ECSAPI, cluster, arn string, interrupted bool) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	reason := "esteira: migration gate timed out"
	if interrupted {
		reason = "esteira: the deploy was interrupted"
	}
	_, err := api.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: aws.String(arn), Reason: aws.String(reason)})
	if err != nil {
		return fmt.Sprintf("stopping it FAILED (%v): it may still be migrating; stop it with aws ecs stop-task --cluster %s --task %s and check the database", err, cluster, arn)
	}
	return "the task was stopped (StopTask), possibly part-way through: check the database before deploying again"
}

// withTail adds the last log lines to an error that is not a *FailedError
// (which carries them itself), so a timed-out or vanished migration still
// shows what it printed.
func withTail(err error, log []string) error {
	tail := Tail(log, 10)
	if len(tail) == 0 {
		return err
	}
	return fmt.Errorf("%w; last log lines:\n  %s", err, strings.Join(tail, "\n  "))
}
