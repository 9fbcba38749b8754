//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sandbox"
	"github.com/futuraplataforma/esteira/internal/sandbox/control"
)

// A Node backend goes through release --env like the Go one: its own
// tests (npm test), its image, its migration script, the rollout.
func TestRelease_ANodeBackend(t *testing.T) {
	require.NoError(t, control.SetRules(t.Context(), endpoint, nil))
	before := liveRevision(t)
	project := t.TempDir()
	require.NoError(t, os.Rename(copyDir(t, "examples/node-backend"), filepath.Join(project, "node-backend")))
	require.NoError(t, os.WriteFile(filepath.Join(project, "esteira.yaml"), []byte(`environments:
  node:
    repository: backend
    backend:
      source: node-backend
      cluster: sandbox
      services: [backend]
      migrate: [node, migrate.js]
      checks:
        - {name: lint, image: "node:22-bookworm-slim", command: "node --check server.js && echo esteira-e2e-lint-ok"}
`), 0o644))
	releaseNode := func(args ...string) result {
		return inSandbox(t, append([]string{"env", "--name", "node", "--project", project, "--poll-interval", "1s", "release", "--tag", unique("e2e-node")}, args...)...)
	}
	r := releaseNode()
	var res struct {
		Outcome string            `json:"outcome"`
		Backend []*release.Record `json:"backend"`
	}
	require.NoError(t, json.Unmarshal([]byte(ok(t, r)), &res), r.stdout)
	assert.Equal(t, "succeeded", res.Outcome)
	require.Len(t, res.Backend, 1)
	assert.Contains(t, r.stderr, "==> test     ok", "npm test ran before the push")
	require.NotNil(t, res.Backend[0].Backend.Migration)
	assert.Equal(t, []string{"node", "migrate.js"}, res.Backend[0].Backend.Migration.Command, "the migration script ran as the migration task")
	assert.True(t, res.Backend[0].Backend.Migration.Succeeded)
	assert.NotEqual(t, before, liveRevision(t))
	assert.Equal(t, res.Backend[0].Backend.Image, liveImage(t))
	assert.Contains(t, r.stderr, "==> check    lint ok")
	envRecs := environmentRecords(t, "node")
	require.NotEmpty(t, envRecs)
	require.Len(t, envRecs[0].Environment.Checks, 1)
	assert.True(t, envRecs[0].Environment.Checks[0].Passed)
	assert.Contains(t, envRecs[0].Environment.Checks[0].Output, "esteira-e2e-lint-ok", "the check's output is in the record")

	// A failing check stops the release before anything is pushed, every
	// check runs, and the record names the one that failed.
	file, err := os.ReadFile(filepath.Join(project, "esteira.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(project, "esteira.yaml"), append(file,
		[]byte("        - {name: audit, image: \"debian:bookworm\", command: \"echo esteira e2e: audit found 1 problem; exit 1\"}\n")...), 0o644))
	tag := unique("e2e-checks")
	now := liveRevision(t)
	r = inSandbox(t, "env", "--name", "node", "--project", project, "--poll-interval", "1s", "release", "--tag", tag)
	fails(t, r, "checks failed, nothing was published or deployed", "check audit failed", "esteira e2e: audit found 1 problem")
	assert.Contains(t, r.stderr, "==> check    lint ok", "every check runs")
	_, err = ecrClient().DescribeImages(t.Context(), describeTag(sandbox.Repository, tag))
	assert.Error(t, err, "nothing was pushed")
	assert.Equal(t, now, liveRevision(t))
	stopped := environmentRecords(t, "node")[0]
	assert.Equal(t, release.OutcomeFailed, stopped.Outcome)
	require.Len(t, stopped.Environment.Checks, 2)
	assert.Equal(t, "audit", stopped.Environment.Checks[1].Name)
	assert.False(t, stopped.Environment.Checks[1].Passed)
	require.NoError(t, os.WriteFile(filepath.Join(project, "esteira.yaml"), file, 0o644))

	// A failing node test stops the release before anything is pushed.
	now = liveRevision(t)
	require.NoError(t, os.WriteFile(filepath.Join(project, "node-backend", "test", "broken.test.js"), []byte(
		"import { test } from 'node:test';\nimport assert from 'node:assert/strict';\ntest('broken', () => assert.equal(1, 2, 'esteira e2e: the release test fails'));\n"), 0o644))
	fails(t, releaseNode(), "tests failed, nothing was published or deployed", "esteira e2e: the release test fails")
	assert.Equal(t, now, liveRevision(t))

	// Put the service back as the other tests expect it.
	ok(t, inSandbox(t, "backend", "--cluster", sandbox.Cluster, "--service", sandbox.Service, "--poll-interval", "1s", "rollback", "--to-revision", before))
}

func environmentRecords(t *testing.T, env string) []*release.Record {
	t.Helper()
	recs, err := release.NewStore(s3Client(), sandbox.ReleaseBucket, "esteira").List(t.Context(), release.KindEnvironment, env)
	require.NoError(t, err)
	return recs
}
