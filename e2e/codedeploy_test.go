//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sandbox"
	"github.com/futuraplataforma/esteira/internal/sandbox/control"
)

// The sandbox's CodeDeploy service, released through an environment with
// a gate and a test listener: CodeDeploy waits in Ready with test traffic
// on the new task set; a gate failing there stops the deployment with
// rollback, production never moved; a passing gate lets it go on.
func TestRelease_ACodeDeployServiceIsGatedOnTestTraffic(t *testing.T) {
	require.NoError(t, control.SetRules(t.Context(), endpoint, nil))
	ref := strings.TrimSpace(ok(t, inSandbox(t, "publish", "--source", "./examples/backend", "--repository", sandbox.Repository, "--tag", unique("e2e-codedeploy"))))
	live := func() string {
		out, err := ecsClient().DescribeServices(t.Context(), &ecs.DescribeServicesInput{Cluster: aws.String(sandbox.Cluster), Services: []string{sandbox.CodeDeployed}})
		require.NoError(t, err)
		require.Len(t, out.Services, 1)
		return aws.ToString(out.Services[0].TaskDefinition)
	}
	before := live()
	project := t.TempDir()
	file := func(gate string) {
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
	}
	run := func() result {
		return inSandbox(t, "env", "--name", "classic", "--project", project, "--poll-interval", "1s", "release", "--image", ref)
	}

	file(`echo "gate at $ESTEIRA_URL"; case "$ESTEIRA_URL" in *test-listener*) echo "esteira e2e: /health answered 500"; exit 1;; esac`)
	r := run()
	fails(t, r, "the quality gate failed on test traffic", "CodeDeploy rolled it back")
	assert.Contains(t, r.stderr, "CodeDeploy Ready: production 100% blue / 0% green")
	for _, seen := range regexp.MustCompile(`production \S+% blue / \S+% green`).FindAllString(r.stderr, -1) {
		assert.Contains(t, seen, "/ 0% green", "production traffic never moved to the release that failed its gate")
	}
	assert.Equal(t, before, live(), "the service is on the pre-deploy revision")
	recs, err := release.NewStore(s3Client(), sandbox.ReleaseBucket, "esteira").List(t.Context(), release.KindBackend, sandbox.Cluster+"/"+sandbox.CodeDeployed)
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	assert.Equal(t, release.OutcomeRolledBack, recs[0].Outcome)
	assert.Equal(t, "codedeploy canary 10% 5m", recs[0].Backend.Strategy, "the record says which controller ran it, and how")
	require.NotNil(t, recs[0].Backend.TestGate)
	assert.False(t, recs[0].Backend.TestGate.Passed)

	file(`echo "gate at $ESTEIRA_URL: ok"`)
	r = run()
	var res struct {
		Outcome string            `json:"outcome"`
		Backend []*release.Record `json:"backend"`
	}
	require.NoError(t, json.Unmarshal([]byte(ok(t, r)), &res), r.stderr)
	assert.Equal(t, "succeeded", res.Outcome)
	assert.Contains(t, r.stderr, "quality gate passed on test traffic")
	assert.Contains(t, r.stderr, "CodeDeploy Succeeded: production 0% blue / 100% green")
	assert.NotEqual(t, before, live())
}
