//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sandbox"
	"github.com/futuraplataforma/esteira/internal/sandbox/control"
)

// The sandbox's blue/green service, released through an environment with a
// gate and a test listener: a gate failing on test traffic rolls the
// deployment back with production traffic never moved; a passing one lets
// ECS shift production and bake, and only then is the release a success.
func TestRelease_ABlueGreenServiceIsGatedOnTestTraffic(t *testing.T) {
	require.NoError(t, control.SetRules(t.Context(), endpoint, nil))
	ref := strings.TrimSpace(ok(t, inSandbox(t, "publish", "--source", "./examples/backend", "--repository", sandbox.Repository, "--tag", unique("e2e-bluegreen"))))
	before := liveRevisionOf(t, sandbox.BlueGreen)
	project := t.TempDir()
	file := func(gate string, strategy ...string) {
		t.Helper()
		expect := "blue-green"
		if len(strategy) > 0 {
			expect = strategy[0]
		}
		require.NoError(t, os.WriteFile(filepath.Join(project, "esteira.yaml"), []byte(`environments:
  bluegreen:
    repository: backend
    url: http://www.sandbox.example/
    testUrl: http://test-listener.sandbox.example/
    gate:
      image: debian:bookworm
      command: [sh, -c, '`+gate+`']
    backend:
      cluster: sandbox
      services: [web]
      strategy: `+expect+`
`), 0o644))
	}
	run := func(args ...string) result {
		return inSandbox(t, append([]string{"env", "--name", "bluegreen", "--project", project, "--poll-interval", "1s", "release", "--image", ref}, args...)...)
	}

	// A release that expects another strategy is refused before anything.
	file(`echo ok`, "rolling")
	fails(t, run(), "service web is deployed blue/green by ECS", "the release expects rolling")
	assert.Equal(t, before, liveRevisionOf(t, sandbox.BlueGreen))

	file(`echo "gate at $ESTEIRA_URL"; case "$ESTEIRA_URL" in *test-listener*) echo "esteira e2e: /health answered 500"; exit 1;; esac`)
	r := run()
	fails(t, r, "the quality gate failed on test traffic", "rolled back before production traffic moved")
	assert.Contains(t, r.stderr, "POST_TEST_TRAFFIC_SHIFT: production 100% blue / 0% green, test 100% green; paused by a PAUSE hook")
	for _, seen := range regexp.MustCompile(`production \S+% blue / \S+% green`).FindAllString(r.stderr, -1) {
		assert.Contains(t, seen, "/ 0% green", "production traffic never moved to the release that failed its gate")
	}
	assert.Equal(t, before, liveRevisionOf(t, sandbox.BlueGreen), "the service is on the pre-deploy revision")
	recs, err := release.NewStore(s3Client(), sandbox.ReleaseBucket, "esteira").List(t.Context(), release.KindBackend, sandbox.Cluster+"/"+sandbox.BlueGreen)
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	failed := recs[0]
	assert.Equal(t, release.OutcomeRolledBack, failed.Outcome)
	assert.Equal(t, "blue/green", failed.Backend.Strategy)
	require.NotNil(t, failed.Backend.TestGate)
	assert.False(t, failed.Backend.TestGate.Passed)
	assert.Contains(t, failed.Backend.TestGate.Output, "esteira e2e: /health answered 500")

	file(`echo "gate at $ESTEIRA_URL: ok"`)
	r = run()
	var res struct {
		Outcome string            `json:"outcome"`
		Backend []*release.Record `json:"backend"`
	}
	require.NoError(t, json.Unmarshal([]byte(ok(t, r)), &res), r.stderr)
	assert.Equal(t, "succeeded", res.Outcome)
	require.Len(t, res.Backend, 1)
	assert.Contains(t, r.stderr, "quality gate passed on test traffic")
	assert.Less(t, strings.Index(r.stderr, "BAKE_TIME"), strings.Index(r.stderr, "SUCCESSFUL"), "a success only after the bake")
	require.NotNil(t, res.Backend[0].Backend.TestGate)
	assert.True(t, res.Backend[0].Backend.TestGate.Passed)
	live := liveRevisionOf(t, sandbox.BlueGreen)
	assert.NotEqual(t, before, live)

	// A pause nobody acts on (no test URL, so no gate to run there) is held
	// until the timeout; then esteira asks ECS to roll back and waits.
	file(`echo ok`)
	noTestURL, err := os.ReadFile(filepath.Join(project, "esteira.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(project, "esteira.yaml"), []byte(strings.Replace(string(noTestURL), "    testUrl: http://test-listener.sandbox.example/\n", "", 1)), 0o644))
	r = inSandbox(t, "env", "--name", "bluegreen", "--project", project, "--poll-interval", "1s", "--timeout", "12s", "release", "--image", ref, "--force")
	fails(t, r, "the wait timed out: esteira asked ECS to roll back", "all production traffic is on "+revName(live))
	assert.Equal(t, live, liveRevisionOf(t, sandbox.BlueGreen), "back on the revision before")

	// Green tasks that never get healthy: ECS's circuit breaker rolls the
	// deployment back before any traffic moves; reported as rolled back.
	require.NoError(t, control.SetRules(t.Context(), endpoint, []awssim.Rule{{Family: sandbox.BlueGreen, Service: &awssim.TaskBehavior{Unhealthy: true}}}))
	t.Cleanup(func() { _ = control.SetRules(context.WithoutCancel(t.Context()), endpoint, nil) })
	r = run("--force")
	fails(t, r, "ROLLBACK_SUCCESSFUL", "all production traffic is on "+revName(live))
	assert.NotContains(t, r.stderr, "quality gate passed on test traffic", "green never got test traffic")
	for _, seen := range regexp.MustCompile(`production \S+% blue / \S+% green`).FindAllString(r.stderr, -1) {
		assert.Contains(t, seen, "/ 0% green")
	}
	assert.Equal(t, live, liveRevisionOf(t, sandbox.BlueGreen), "back on the revision before")
}

// revName is family:revision of a task definition ARN.
func revName(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }
