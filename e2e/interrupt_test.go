//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sandbox"
	"github.com/futuraplataforma/esteira/internal/sandbox/control"
)

// Ctrl-C on `dagger call ... env ... release` while a blue/green
// deployment is held mid-shift (the CLI gets SIGINT as a terminal's
// foreground job does): the deployment is left in progress, production
// unmoved, and `backend rollback --break-lock` ends it ROLLBACK_SUCCESSFUL
// on the exact pre-deploy revision, with a record that says so.
func TestRelease_CtrlCMidShiftOnABlueGreenService(t *testing.T) {
	require.NoError(t, control.SetRules(t.Context(), endpoint, nil))
	ref := strings.TrimSpace(ok(t, inSandbox(t, "publish", "--source", "./examples/backend", "--repository", sandbox.Repository, "--tag", unique("e2e-interrupt"))))
	before := liveRevisionOf(t, sandbox.BlueGreen)
	project := t.TempDir()
	// A gate but no test URL: the PAUSE hook after the test traffic shift
	// holds the deployment until the timeout, long after the Ctrl-C.
	require.NoError(t, os.WriteFile(filepath.Join(project, "esteira.yaml"), []byte(`environments:
  bluegreen:
    repository: backend
    url: http://www.sandbox.example/
    gate:
      image: debian:bookworm
      command: [sh, -c, 'echo ok']
    backend:
      cluster: sandbox
      services: [web]
      strategy: blue-green
`), 0o644))
	known := serviceDeploymentARNs(t, sandbox.BlueGreen)

	c := startCLI(t, "call", "--sandbox", "tcp://localhost:4566", "env", "--name", "bluegreen", "--project", project,
		"--poll-interval", "1s", "--timeout", "10m", "release", "--image", ref, "--force")
	arn := waitForPause(t, c, sandbox.BlueGreen, known)
	t.Logf("paused: %s", arn)
	t.Logf("CLI process %d runs %s", c.cmd.Process.Pid, exeOf(c.cmd.Process.Pid))
	interruptedAt := time.Now()
	c.interrupt(t)
	r := c.wait(t, 3*time.Minute)
	t.Logf("the CLI exited %s after SIGINT:\n%s", time.Since(interruptedAt).Round(time.Second), r)

	// Dagger kills the module on a cancelled call (SIGKILL, no grace
	// period): esteira cannot roll back, so the deployment stays held at
	// its PAUSE hook with production traffic unmoved. If this ever fails
	// because the deployment was rolled back, Dagger now lets the module
	// end: drop the recovery below and the README's Ctrl-C paragraph.
	sd := describeSD(t, arn)
	t.Logf("right after: service deployment %s, stage %s", sd.Status, sd.LifecycleStage)
	require.Equal(t, ecstypes.ServiceDeploymentStatusInProgress, sd.Status, "the interrupted release left its deployment in progress")
	assert.Equal(t, ecstypes.ServiceDeploymentLifecycleStagePostTestTrafficShift, sd.LifecycleStage, "held before production traffic moved")
	assert.NotEmpty(t, locksIn(t), "the dead release's lock is still held")
	t.Cleanup(func() {
		if describeSD(t, arn).Status == ecstypes.ServiceDeploymentStatusInProgress {
			_, err := ecsClient().StopServiceDeployment(context.WithoutCancel(t.Context()), &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: aws.String(arn), StopType: ecstypes.StopServiceDeploymentStopTypeRollback})
			t.Logf("cleanup: rolled back by hand: %v", err)
		}
	})

	// The recovery the README and the next release's error give.
	rb := inSandbox(t, "env", "--name", "bluegreen", "--project", project, "--poll-interval", "1s", "--break-lock", "backend", "rollback")
	t.Logf("backend rollback:\n%s", rb)
	require.Equal(t, 0, rb.code, "backend rollback ends the interrupted deployment:\n%s", rb)
	assert.Contains(t, rb.stderr, "ROLLBACK_SUCCESSFUL")
	sd = describeSD(t, arn)
	assert.Equal(t, ecstypes.ServiceDeploymentStatusRollbackSuccessful, sd.Status)
	assert.Equal(t, before, liveRevisionOf(t, sandbox.BlueGreen), "all production traffic on the exact pre-deploy revision")
	recs, err := release.NewStore(s3Client(), sandbox.ReleaseBucket, "esteira").List(t.Context(), release.KindBackend, sandbox.Cluster+"/"+sandbox.BlueGreen)
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	t.Logf("newest record: %s, outcome %q, after %s, steps %+v", recs[0].ID, recs[0].Outcome, recs[0].Backend.AfterRevision, recs[0].Steps)
	assert.Equal(t, release.OutcomeSucceeded, recs[0].Outcome, "the rollback's record")
	assert.Equal(t, arn, recs[0].Backend.ServiceDeployment, "the record names the deployment it stopped")
	require.NotEmpty(t, recs[0].Backend.AfterRevision)
	assert.Equal(t, before, revName(recs[0].Backend.AfterRevision), "the record says the service is back on the pre-deploy revision")
}

// cliRun is a dagger CLI run in the background, in a process group of its
// own as a terminal's foreground job is.
type cliRun struct {
	cmd            *exec.Cmd
	stdout, stderr lockedBuffer
	done           chan struct{}
	err            error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startCLI starts the dagger CLI from the project root. $DAGGER may be a
// wrapper that execs the CLI: by the time the test signals it, the process
// is the CLI itself.
func startCLI(t *testing.T, args ...string) *cliRun {
	t.Helper()
	c := &cliRun{done: make(chan struct{})}
	c.cmd = exec.Command(daggerCLI, append([]string{"--progress", "plain"}, args...)...)
	c.cmd.Dir = root
	c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, c.cmd.Start())
	go func() { c.err = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
			<-c.done
		}
	})
	return c
}

// interrupt sends SIGINT to the CLI's process group, as Ctrl-C in a
// terminal does to the foreground job.
func (c *cliRun) interrupt(t *testing.T) {
	t.Helper()
	require.NoError(t, syscall.Kill(-c.cmd.Process.Pid, syscall.SIGINT))
}

// wait returns the run's result once it exited; after limit it kills the
// process group and fails.
func (c *cliRun) wait(t *testing.T, limit time.Duration) result {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(limit):
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.done
		t.Fatalf("the dagger CLI did not exit within %s of Ctrl-C; its output:\n%s", limit, tail(c.stderr.String(), 60))
	}
	r := result{stdout: c.stdout.String(), stderr: c.stderr.String()}
	if exit, ok := c.err.(*exec.ExitError); ok {
		r.code = exit.ExitCode()
	} else if c.err != nil {
		t.Fatalf("run %s: %v", daggerCLI, c.err)
	}
	return r
}

func exeOf(pid int) string {
	exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil {
		return err.Error()
	}
	return exe
}

// serviceDeploymentARNs lists every service deployment ECS knows for the
// service.
func serviceDeploymentARNs(t *testing.T, service string) map[string]bool {
	t.Helper()
	out, err := ecsClient().ListServiceDeployments(t.Context(), &ecs.ListServiceDeploymentsInput{Cluster: aws.String(sandbox.Cluster), Service: aws.String(service)})
	require.NoError(t, err)
	arns := map[string]bool{}
	for _, b := range out.ServiceDeployments {
		arns[aws.ToString(b.ServiceDeploymentArn)] = true
	}
	return arns
}

func describeSD(t *testing.T, arn string) ecstypes.ServiceDeployment {
	t.Helper()
	out, err := ecsClient().DescribeServiceDeployments(context.WithoutCancel(t.Context()), &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{arn}})
	require.NoError(t, err)
	require.Len(t, out.ServiceDeployments, 1)
	return out.ServiceDeployments[0]
}

// waitForPause returns the new service deployment of service once a PAUSE
// hook holds it after the test traffic shift; it fails if the CLI exits
// first.
func waitForPause(t *testing.T, c *cliRun, service string, known map[string]bool) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-c.done:
			t.Fatalf("the release ended before its deployment paused:\n%s", tail(c.stderr.String(), 60))
		case <-time.After(time.Second):
		}
		for arn := range serviceDeploymentARNs(t, service) {
			if known[arn] {
				continue
			}
			sd := describeSD(t, arn)
			if sd.Status == ecstypes.ServiceDeploymentStatusInProgress && sd.LifecycleStage == ecstypes.ServiceDeploymentLifecycleStagePostTestTrafficShift {
				for _, h := range sd.LifecycleHookDetails {
					if h.TargetType == ecstypes.DeploymentLifecycleHookTargetTypePause && h.Status == ecstypes.DeploymentLifecycleHookStatusAwaitingAction {
						return arn
					}
				}
			}
		}
	}
	t.Fatalf("no deployment of %s paused after the test traffic shift; the CLI printed:\n%s", service, tail(c.stderr.String(), 60))
	return ""
}

// locksIn lists the deploy locks in the sandbox's release bucket.
func locksIn(t *testing.T) []string {
	t.Helper()
	out, err := s3Client().ListObjectsV2(context.WithoutCancel(t.Context()), &s3.ListObjectsV2Input{Bucket: aws.String(sandbox.ReleaseBucket), Prefix: aws.String("esteira/locks/")})
	require.NoError(t, err)
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}
