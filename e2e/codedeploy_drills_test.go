//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sandbox"
	"github.com/futuraplataforma/esteira/internal/sandbox/control"
)

// The drills of a CodeDeploy service, through the CLI: each release fails
// and ends with production traffic on the exact task definition the
// service ran before, never shifted to the new one, and a record saying
// how it ended; a rollback that fails is reported as such.
func TestRelease_CodeDeployDrillsEndOnThePreDeployRevision(t *testing.T) {
	ctx := t.Context()
	reset := func() {
		c := context.WithoutCancel(ctx)
		require.NoError(t, control.SetRules(c, endpoint, nil))
		require.NoError(t, control.SetDeployments(c, endpoint, awssim.DeploymentRules{}))
	}
	reset()
	t.Cleanup(reset)
	ref := strings.TrimSpace(ok(t, inSandbox(t, "publish", "--source", "./examples/backend", "--repository", sandbox.Repository, "--tag", unique("e2e-cd-drills"))))
	project := t.TempDir()
	releaseWith := func(t *testing.T, gate string, args ...string) result {
		t.Helper()
		require.NoError(t, os.WriteFile(filepath.Join(project, "esteira.yaml"), []byte(`environments:
  classic:
    repository: backend
    url: http://www.sandbox.example/
    testUrl: http://test-listener.sandbox.example/
    gate:
      image: debian:bookworm
      command: [sh, -c, '`+gate+`']
    backend:
      cluster: sandbox
      services: [classic]
      codeDeploy:
        classic: {application: `+sandbox.CodeDeployApp+`, deploymentGroup: `+sandbox.CodeDeployGroup+`}
`), 0o644))
		return inSandbox(t, append([]string{"env", "--name", "classic", "--project", project, "--poll-interval", "1s"}, append(args, "release", "--image", ref, "--force")...)...)
	}
	const passes, failsOnTest = `echo "gate at $ESTEIRA_URL: ok"`,
		`case "$ESTEIRA_URL" in *test-listener*) echo "esteira e2e: /health answered 500"; exit 1;; esac`
	// ended checks what every drill ends with and returns the release's record.
	ended := func(t *testing.T, r result, before, outcome string) *release.Record {
		t.Helper()
		logOutcome(t, r)
		neverGreenInProduction(t, r.stderr)
		assert.Equal(t, before, steadyRevision(t, sandbox.CodeDeployed), "the exact pre-deploy revision is live")
		rec := newestRecord(t, sandbox.CodeDeployed)
		assert.Equal(t, outcome, rec.Outcome)
		assert.Equal(t, "codedeploy canary 10% 5m", rec.Backend.Strategy, "the group shifts production traffic as "+sandbox.CodeDeployConfig)
		assert.Equal(t, before, rec.Backend.BeforeRevision)
		require.NotEmpty(t, rec.Backend.ServiceDeployment)
		assert.Contains(t, r.stderr, "CodeDeploy deployment "+rec.Backend.ServiceDeployment, "the record names the deployment the run followed")
		assert.Equal(t, 0.0, greenProduction(t, rec.Backend.ServiceDeployment), "CodeDeploy reports no production traffic on the replacement task set")
		return rec
	}

	t.Run("a lifecycle event fails", func(t *testing.T) {
		before := steadyRevision(t, sandbox.CodeDeployed)
		require.NoError(t, control.SetDeployments(ctx, endpoint, awssim.DeploymentRules{CodeDeploy: []awssim.CodeDeployRule{
			{DeploymentGroup: sandbox.CodeDeployGroup, FailAt: "AfterAllowTestTraffic"}}}))
		r := releaseWith(t, passes)
		fails(t, r, "Lifecycle event AfterAllowTestTraffic failed", "Succeeded; CodeDeploy rolled it back", "all production traffic is on "+revName(before))
		assert.NotContains(t, r.stderr, "running the quality gate", "it failed before Ready, where the gate runs")
		rec := ended(t, r, before, release.OutcomeRolledBack)
		assert.Nil(t, rec.Backend.TestGate)
	})

	t.Run("the rollback fails", func(t *testing.T) {
		before := steadyRevision(t, sandbox.CodeDeployed)
		require.NoError(t, control.SetDeployments(ctx, endpoint, awssim.DeploymentRules{CodeDeploy: []awssim.CodeDeployRule{
			{DeploymentGroup: sandbox.CodeDeployGroup, FailRollback: true}}}))
		r := releaseWith(t, failsOnTest)
		fails(t, r, "the quality gate failed on test traffic", "Stopped", "Failed; the service state is UNCERTAIN",
			"deploy revision "+revName(before)+" again through CodeDeploy",
			"NOT every service could be rolled back", "classic UNCERTAIN (its rollback failed: roll it back to revision "+revName(before)+")")
		assert.NotContains(t, r.stderr, "CodeDeploy rolled it back")
		assert.NotContains(t, r.stderr, "rolled back before production traffic moved", "the rollback failed: nothing says it rolled back")
		rec := ended(t, r, before, release.OutcomeFailed)
		assert.Contains(t, rec.Error, "UNCERTAIN")
		require.NotNil(t, rec.Backend.TestGate)
		assert.False(t, rec.Backend.TestGate.Passed)
	})

	t.Run("the wait times out", func(t *testing.T) {
		// The gate holds the deployment in Ready (test traffic on the new
		// task set) longer than the release may wait.
		before := steadyRevision(t, sandbox.CodeDeployed)
		r := releaseWith(t, `echo "gate at $ESTEIRA_URL: slow"; sleep 60`, "--timeout", "12s")
		fails(t, r, "timed out", "CodeDeploy rolled it back", "all production traffic is on "+revName(before))
		assert.NotContains(t, r.stderr, "quality gate passed")
		ended(t, r, before, release.OutcomeRolledBack)
	})

	t.Run("green tasks never get healthy", func(t *testing.T) {
		before := steadyRevision(t, sandbox.CodeDeployed)
		require.NoError(t, control.SetRules(ctx, endpoint, []awssim.Rule{{Family: sandbox.CodeDeployed, Service: &awssim.TaskBehavior{Unhealthy: true}}}))
		r := releaseWith(t, passes)
		fails(t, r, "never became healthy", "CodeDeploy rolled it back", "all production traffic is on "+revName(before))
		assert.NotContains(t, r.stderr, "running the quality gate", "green never got test traffic")
		rec := ended(t, r, before, release.OutcomeRolledBack)
		assert.Nil(t, rec.Backend.TestGate)
	})
}

// greenProduction is the replacement task set's share of production
// traffic in a CodeDeploy deployment, as CodeDeploy reports it.
func greenProduction(t *testing.T, deployment string) float64 {
	t.Helper()
	cd := codedeploy.New(codedeploy.Options{Region: sandbox.Region, BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(sandbox.AccessKeyID, sandbox.SecretAccessKey, "")})
	out, err := cd.GetDeploymentTarget(t.Context(), &codedeploy.GetDeploymentTargetInput{DeploymentId: aws.String(deployment),
		TargetId: aws.String(sandbox.Cluster + ":" + sandbox.CodeDeployed)})
	require.NoError(t, err)
	require.NotNil(t, out.DeploymentTarget.EcsTarget)
	for _, ts := range out.DeploymentTarget.EcsTarget.TaskSetsInfo {
		if ts.TaskSetLabel == cdtypes.TargetLabelGreen {
			return ts.TrafficWeight
		}
	}
	t.Fatalf("CodeDeploy deployment %s reports no replacement task set", deployment)
	return 0
}
