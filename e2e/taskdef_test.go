//go:build e2e

package e2e

import (
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

func TestBackend_TheTaskDefinitionChangesWithTheRelease(t *testing.T) {
	require.NoError(t, control.SetRules(t.Context(), endpoint, nil))
	// An image by digest: only then is "the same image" known (a tag may move).
	image := strings.TrimSpace(ok(t, inSandbox(t, "publish", "--source", "./examples/backend", "--repository", sandbox.Repository, "--tag", unique("e2e-taskdef"))))
	// deployWith runs with-definition def, then deploy the image with extra.
	deployWith := func(def []string, extra ...string) result {
		args := append([]string{"backend", "--cluster", sandbox.Cluster, "--service", sandbox.Service, "--poll-interval", "1s", "--timeout", "5m", "with-definition"}, def...)
		return inSandbox(t, append(append(args, "deploy", "--image", image), extra...)...)
	}
	deploy := func(def ...string) result { return deployWith(def) }

	t.Run("an unknown secret is refused before any change", func(t *testing.T) {
		before := latestRevision(t)
		fails(t, deploy("--secret", "TOKEN=sandbox-nope"), "secret TOKEN (sandbox-nope): Parameter Store has no such parameter")
		fails(t, deploy("--secret", "TOKEN=postgres://u:p@db/app"), "is neither a Secrets Manager secret ARN")
		assert.Equal(t, before, latestRevision(t), "no revision was registered")
	})

	t.Run("a release adds a variable and a secret, the diff printed first", func(t *testing.T) {
		r := deploy("--env", "FEATURE_X=on", "--secret", "DB_URL="+sandbox.SecretARN+",API_TOKEN="+sandbox.Parameter)
		rec := record(t, ok(t, r))
		assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
		diff, register := strings.Index(r.stderr, "==> diff"), strings.Index(r.stderr, "==> register")
		require.GreaterOrEqual(t, diff, 0, r.stderr)
		assert.Less(t, diff, register, "the diff comes before any change")
		assert.Contains(t, r.stderr, "container app: environment FEATURE_X: (none) -> on")
		assert.Contains(t, rec.Backend.Changes, "container app: secret API_TOKEN: (none) -> "+sandbox.Parameter)
		assert.NotContains(t, r.stdout+r.stderr, "awssim-value-of-", "a secret's value is never read")
		app := liveContainer(t, sandbox.Container)
		assert.Equal(t, "on", envOf(app)["FEATURE_X"])
		assert.Equal(t, map[string]string{"DB_URL": sandbox.SecretARN, "API_TOKEN": sandbox.Parameter}, secretsOf(app))
	})

	t.Run("the dry run prints the diff and changes nothing; the same definition again is a no-op", func(t *testing.T) {
		before := latestRevision(t)
		dry := ok(t, deployWith([]string{"--env", "FEATURE_X=off"}, "--dry-run"))
		assert.Contains(t, dry, "container app: environment FEATURE_X: on -> off")
		r := deploy("--env", "FEATURE_X=on")
		rec := record(t, ok(t, r))
		assert.Equal(t, release.OutcomeNoChange, rec.Outcome, "changes: %q\n%s", rec.Backend.Changes, tail(r.stderr, 40))
		assert.Equal(t, before, latestRevision(t))
	})

	t.Run("a failed rollout goes back to the old revision with the old environment", func(t *testing.T) {
		before := liveRevision(t)
		require.NoError(t, control.SetRules(t.Context(), endpoint, []awssim.Rule{{Family: sandbox.Service, Service: &awssim.TaskBehavior{Unhealthy: true}}}))
		t.Cleanup(func() { _ = control.SetRules(t.Context(), endpoint, nil) })
		fails(t, deploy("--env", "FEATURE_X=broken"), "rolled back to "+before)
		require.NoError(t, control.SetRules(t.Context(), endpoint, nil))
		assert.Equal(t, before, liveRevision(t))
		assert.Equal(t, "on", envOf(liveContainer(t, sandbox.Container))["FEATURE_X"])
	})

	t.Run("a sidecar takes the release's image", func(t *testing.T) {
		ok(t, deploy("--sidecar", sandbox.Sidecar))
		assert.Equal(t, image, aws.ToString(liveContainer(t, sandbox.Sidecar).Image))
		assert.Equal(t, "on", envOf(liveContainer(t, sandbox.Container))["FEATURE_X"], "what the release does not name is kept")
	})

	t.Run("a definition file is registered as it is", func(t *testing.T) {
		before := liveRevision(t)
		file := filepath.Join(t.TempDir(), "backend.json")
		require.NoError(t, os.WriteFile(file, []byte(`{
  "family": "backend", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "512", "memory": "1024",
  "executionRoleArn": "arn:aws:iam::000000000000:role/backend-execution",
  "containerDefinitions": [{"name": "app", "image": "{{image}}", "essential": true, "environment": [{"name": "FROM_FILE", "value": "yes"}]}]
}`), 0o644))
		rec := record(t, ok(t, deploy("--file", file)))
		assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
		td := liveTaskDef(t)
		require.Len(t, td.ContainerDefinitions, 1, "the file's containers, no more")
		assert.Equal(t, map[string]string{"FROM_FILE": "yes"}, envOf(td.ContainerDefinitions[0]))
		assert.Equal(t, "512", aws.ToString(td.Cpu))
		fails(t, deploy("--file", file, "--env", "A=b"), "is the whole task definition")
		// Put the service back as the other tests expect it.
		ok(t, inSandbox(t, "backend", "--cluster", sandbox.Cluster, "--service", sandbox.Service, "--poll-interval", "1s", "rollback", "--to-revision", before))
		assert.Equal(t, before, liveRevision(t))
	})
}

func liveTaskDef(t *testing.T) *types.TaskDefinition {
	t.Helper()
	out, err := ecsClient().DescribeTaskDefinition(t.Context(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(liveRevision(t))})
	require.NoError(t, err)
	return out.TaskDefinition
}

func liveContainer(t *testing.T, name string) types.ContainerDefinition {
	t.Helper()
	for _, c := range liveTaskDef(t).ContainerDefinitions {
		if aws.ToString(c.Name) == name {
			return c
		}
	}
	t.Fatalf("the live revision has no container %s", name)
	return types.ContainerDefinition{}
}

func envOf(c types.ContainerDefinition) map[string]string {
	m := map[string]string{}
	for _, kv := range c.Environment {
		m[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
	}
	return m
}

func secretsOf(c types.ContainerDefinition) map[string]string {
	m := map[string]string{}
	for _, s := range c.Secrets {
		m[aws.ToString(s.Name)] = aws.ToString(s.ValueFrom)
	}
	return m
}
