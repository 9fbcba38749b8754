//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sandbox"
	"github.com/futuraplataforma/esteira/internal/sandbox/control"
)

// A release that expects a canary switches the blue/green service to it,
// with the file's settings, in its own UpdateService (the plan says so
// first); the gate passes on test traffic, the canary takes 10% of
// production, and the service's alarm fires while the canary bakes: ECS
// rolls it back and every bit of production traffic is on the exact
// revision that ran before, as the record says.
func TestRelease_AnAlarmDuringTheCanaryBakeRollsItBack(t *testing.T) {
	require.NoError(t, control.SetRules(t.Context(), endpoint, nil))
	ref := strings.TrimSpace(ok(t, inSandbox(t, "publish", "--source", "./examples/backend", "--repository", sandbox.Repository, "--tag", unique("e2e-canary"))))
	before := liveRevisionOf(t, sandbox.BlueGreen)
	t.Cleanup(func() {
		ctx := context.WithoutCancel(t.Context())
		_ = control.SetDeployments(ctx, endpoint, awssim.DeploymentRules{Alarms: []awssim.AlarmRule{{Name: sandbox.BlueGreenAlarm}}})
		// Put the service back as the sandbox made it, for the tests after.
		_, _ = ecsClient().UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(sandbox.Cluster), Service: aws.String(sandbox.BlueGreen),
			DeploymentConfiguration: &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyBlueGreen}})
	})
	project := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(project, "esteira.yaml"), []byte(`environments:
  canary:
    repository: backend
    url: http://www.sandbox.example/
    testUrl: http://test-listener.sandbox.example/
    gate:
      image: debian:bookworm
      command: [sh, -c, 'echo "gate at $ESTEIRA_URL: ok"']
    backend:
      cluster: sandbox
      services: [web]
      strategy: {type: canary, percent: 10, stepBakeMinutes: 1, alarms: [`+sandbox.BlueGreenAlarm+`]}
`), 0o644))
	env := func(args ...string) result {
		return inSandbox(t, append([]string{"env", "--name", "canary", "--project", project, "--poll-interval", "1s"}, args...)...)
	}

	plan := ok(t, env("backend", "plan", "--image", ref))
	assert.Contains(t, plan, "set the deployment strategy of sandbox/web: blue/green")
	assert.Contains(t, plan, "-> canary 10% baking 1m, then bake")
	assert.Contains(t, plan, "watching "+sandbox.BlueGreenAlarm)

	require.NoError(t, control.SetDeployments(t.Context(), endpoint, awssim.DeploymentRules{
		Alarms: []awssim.AlarmRule{{Name: sandbox.BlueGreenAlarm, FireAfter: 2, Reason: "esteira e2e: 5xx above 1%"}}}))
	// --force: the example backend builds the same image (digest) as the
	// tests before, and the strategy is applied with the deploy it comes with.
	r := env("release", "--image", ref, "--force")
	fails(t, r, "canary deployment ROLLBACK_SUCCESSFUL", sandbox.BlueGreenAlarm+" went into ALARM state", "all production traffic is on "+revName(before))
	assert.Contains(t, r.stderr, "-> canary 10% baking 1m")
	assert.Contains(t, r.stderr, "quality gate passed on test traffic")
	assert.Contains(t, r.stderr, "production 90% blue / 10% green", "the canary took its share of production traffic")
	assert.Equal(t, before, liveRevisionOf(t, sandbox.BlueGreen), "every bit of production traffic is back on the pre-deploy revision")

	recs, err := release.NewStore(s3Client(), sandbox.ReleaseBucket, "esteira").List(t.Context(), release.KindBackend, sandbox.Cluster+"/"+sandbox.BlueGreen)
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	assert.Equal(t, release.OutcomeRolledBack, recs[0].Outcome)
	assert.Equal(t, "canary", recs[0].Backend.Strategy)
}
