//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sandbox"
	"github.com/futuraplataforma/esteira/internal/sandbox/control"
)

// Ctrl-C on `dagger call ... env ... release` while the CodeDeploy
// deployment of the sandbox's classic service waits in Ready (test traffic
// on the replacement task set, the gate running): the deployment is left
// in progress, production unmoved, and `backend rollback --break-lock`
// stops it with auto rollback: Stopped, CodeDeploy's rollback Succeeded,
// the service on the exact pre-deploy revision, a record that says so.
func TestRelease_CtrlCInReadyOnACodeDeployService(t *testing.T) {
	require.NoError(t, control.SetRules(t.Context(), endpoint, nil))
	ref := strings.TrimSpace(ok(t, inSandbox(t, "publish", "--source", "./examples/backend", "--repository", sandbox.Repository, "--tag", unique("e2e-cd-interrupt"))))
	before := steadyRevision(t, sandbox.CodeDeployed)
	require.Empty(t, unfinishedCodeDeployments(t), "no CodeDeploy deployment of classic is in progress before the release")
	project := t.TempDir()
	// A gate slower than the test: the deployment waits in Ready while it
	// runs, long after the Ctrl-C.
	require.NoError(t, os.WriteFile(filepath.Join(project, "esteira.yaml"), []byte(`environments:
  classic:
    repository: backend
    url: http://www.sandbox.example/
    testUrl: http://test-listener.sandbox.example/
    gate:
      image: debian:bookworm
      command: [sh, -c, 'echo "gate at $ESTEIRA_URL: slow"; sleep 900']
    backend:
      cluster: sandbox
      services: [classic]
      codeDeploy:
        classic: {application: `+sandbox.CodeDeployApp+`, deploymentGroup: `+sandbox.CodeDeployGroup+`}
`), 0o644))

	c := startCLI(t, "call", "--sandbox", "tcp://localhost:4566", "env", "--name", "classic", "--project", project,
		"--poll-interval", "1s", "--timeout", "10m", "release", "--image", ref, "--force")
	id := waitForReady(t, c)
	t.Logf("waiting in Ready: %s", id)
	t.Cleanup(func() {
		ctx := context.WithoutCancel(t.Context())
		out, err := cdClient().GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id)})
		if err == nil && isUnfinished(out.DeploymentInfo.Status) {
			_, err := cdClient().StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String(id), AutoRollbackEnabled: aws.Bool(true)})
			t.Logf("cleanup: stopped with auto rollback by hand: %v", err)
		}
	})
	interruptedAt := time.Now()
	c.interrupt(t)
	r := c.wait(t, 3*time.Minute)
	t.Logf("the CLI exited %s after SIGINT:\n%s", time.Since(interruptedAt).Round(time.Second), r)

	// Dagger kills the module on a cancelled call: esteira cannot stop the
	// deployment, which stays in Ready with production traffic unmoved.
	// If this ever fails because the deployment was stopped, Dagger now
	// lets the module end: drop the recovery below and the README's
	// Ctrl-C paragraph.
	d := cdDeploymentInfo(t, id)
	t.Logf("right after: CodeDeploy deployment %s %s", id, d.Status)
	require.Equal(t, cdtypes.DeploymentStatusReady, d.Status, "the interrupted release left its deployment waiting in Ready")
	assert.Equal(t, 0.0, greenProduction(t, id), "production traffic never moved")
	assert.Equal(t, before, steadyRevision(t, sandbox.CodeDeployed))
	assert.NotEmpty(t, locksIn(t), "the dead release's lock is still held")

	rollback := func(args ...string) result {
		return inSandbox(t, append([]string{"env", "--name", "classic", "--project", project, "--poll-interval", "1s"}, append(args, "backend", "rollback")...)...)
	}
	// Without --break-lock, the dead release's lock refuses it.
	fails(t, rollback(), "roll it back to revision "+revName(before))
	assert.Equal(t, cdtypes.DeploymentStatusReady, cdDeploymentInfo(t, id).Status, "nothing was changed without breaking the lock")

	// The recovery the README and the next release's error give.
	rb := rollback("--break-lock")
	t.Logf("backend rollback:\n%s", rb)
	require.Equal(t, 0, rb.code, "backend rollback ends the interrupted deployment:\n%s", rb)
	d = cdDeploymentInfo(t, id)
	assert.Equal(t, cdtypes.DeploymentStatusStopped, d.Status)
	require.NotNil(t, d.RollbackInfo)
	rollbackID := aws.ToString(d.RollbackInfo.RollbackDeploymentId)
	require.NotEmpty(t, rollbackID, "stopped with auto rollback")
	assert.Equal(t, cdtypes.DeploymentStatusSucceeded, cdDeploymentInfo(t, rollbackID).Status)
	assert.Contains(t, rb.stderr, "rollback deployment "+rollbackID+" Succeeded")
	assert.Equal(t, 0.0, greenProduction(t, id))
	assert.Equal(t, before, steadyRevision(t, sandbox.CodeDeployed), "the exact pre-deploy revision")
	assert.Empty(t, unfinishedCodeDeployments(t))

	rec := newestRecord(t, sandbox.CodeDeployed)
	t.Logf("newest record: %s, outcome %q, after %s, steps %+v", rec.ID, rec.Outcome, rec.Backend.AfterRevision, rec.Steps)
	assert.Equal(t, release.OutcomeSucceeded, rec.Outcome, "the rollback's record")
	assert.Equal(t, "codedeploy blue/green", rec.Backend.Strategy, "the record names the controller")
	assert.Equal(t, id, rec.Backend.ServiceDeployment, "and the deployment it stopped")
	assert.Equal(t, before, rec.Backend.AfterRevision, "the record says the service is back on the pre-deploy revision")
}

func cdClient() *codedeploy.Client {
	return codedeploy.New(codedeploy.Options{Region: sandbox.Region, BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(sandbox.AccessKeyID, sandbox.SecretAccessKey, "")})
}

func isUnfinished(s cdtypes.DeploymentStatus) bool {
	switch s {
	case cdtypes.DeploymentStatusCreated, cdtypes.DeploymentStatusQueued, cdtypes.DeploymentStatusInProgress, cdtypes.DeploymentStatusReady:
		return true
	}
	return false
}

// unfinishedCodeDeployments lists the deployments of classic's group that
// have not ended.
func unfinishedCodeDeployments(t *testing.T) []string {
	t.Helper()
	out, err := cdClient().ListDeployments(context.WithoutCancel(t.Context()), &codedeploy.ListDeploymentsInput{
		ApplicationName: aws.String(sandbox.CodeDeployApp), DeploymentGroupName: aws.String(sandbox.CodeDeployGroup),
		IncludeOnlyStatuses: []cdtypes.DeploymentStatus{cdtypes.DeploymentStatusCreated, cdtypes.DeploymentStatusQueued,
			cdtypes.DeploymentStatusInProgress, cdtypes.DeploymentStatusReady}})
	require.NoError(t, err)
	return out.Deployments
}

func cdDeploymentInfo(t *testing.T, id string) cdtypes.DeploymentInfo {
	t.Helper()
	out, err := cdClient().GetDeployment(context.WithoutCancel(t.Context()), &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id)})
	require.NoError(t, err)
	return *out.DeploymentInfo
}

// waitForReady returns the CodeDeploy deployment of classic once it waits
// in Ready; it fails if the CLI exits first.
func waitForReady(t *testing.T, c *cliRun) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-c.done:
			t.Fatalf("the release ended before its CodeDeploy deployment waited in Ready:\n%s", tail(c.stderr.String(), 60))
		case <-time.After(time.Second):
		}
		for _, id := range unfinishedCodeDeployments(t) {
			if cdDeploymentInfo(t, id).Status == cdtypes.DeploymentStatusReady {
				return id
			}
		}
	}
	t.Fatalf("no CodeDeploy deployment of classic waited in Ready; the CLI printed:\n%s", tail(c.stderr.String(), 60))
	return ""
}
