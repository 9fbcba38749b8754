//go:build e2e

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/sandbox"
	"github.com/futuraplataforma/esteira/internal/sandbox/control"
)

const (
	sonarToken = "esteira-e2e-sonar-s3cret-4f9a"
	npmToken   = "esteira-e2e-npm-s3cret-7c21"
)

// secretsFile gives two checks a secret each: each asserts it has its own
// (by its SHA-256, so the value is nowhere in the file or the command) and
// not the other's, and the first prints its own, as a careless tool would.
var secretsFile = `environments:
  sec:
    repository: backend
    backend:
      source: node-backend
      cluster: sandbox
      services: [backend]
      migrate: [node, migrate.js]
      checks:
        - name: sonar
          image: "debian:bookworm"
          command: 'echo "esteira e2e: the token is $SONAR_TOKEN"; test "$(printf %s "$SONAR_TOKEN" | sha256sum)" = "` + sha256Hex(sonarToken) + `  -" && test -z "$NPM_TOKEN" && echo esteira-e2e-sonar-ok'
          secrets: [SONAR_TOKEN]
        - name: audit
          image: "debian:bookworm"
          command: 'test "$(printf %s "$NPM_TOKEN" | sha256sum)" = "` + sha256Hex(npmToken) + `  -" && test -z "$SONAR_TOKEN" && echo esteira-e2e-audit-ok'
          secrets: [NPM_TOKEN]
`

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// A check gets the secrets it names, given as Dagger secrets with
// with-secret, and only those; their values reach neither the output nor
// the record. A check whose secret was not given stops the release before
// anything runs.
func TestRelease_EachCheckGetsItsSecretsAndNoOutputHoldsThem(t *testing.T) {
	require.NoError(t, control.SetRules(t.Context(), endpoint, nil))
	before := liveRevision(t)
	project := t.TempDir()
	require.NoError(t, os.Rename(copyDir(t, "examples/node-backend"), filepath.Join(project, "node-backend")))
	require.NoError(t, os.WriteFile(filepath.Join(project, "esteira.yaml"), []byte(secretsFile), 0o644))
	t.Setenv("E2E_SONAR_TOKEN", sonarToken)
	t.Setenv("E2E_NPM_TOKEN", npmToken)
	env := []string{"env", "--name", "sec", "--project", project, "--poll-interval", "1s"}

	tag := unique("e2e-secrets")
	r := inSandbox(t, append(env, "with-secret", "--name", "NPM_TOKEN", "--value", "env:E2E_NPM_TOKEN", "release", "--tag", tag)...)
	fails(t, r, "check sonar needs the secret SONAR_TOKEN, and it was not given; nothing was run",
		"with-secret --name SONAR_TOKEN --value env:SONAR_TOKEN")
	assert.NotContains(t, r.stderr, "==> check", "no check ran")
	_, err := ecrClient().DescribeImages(t.Context(), describeTag(sandbox.Repository, tag))
	assert.Error(t, err, "nothing was pushed")
	assert.Equal(t, before, liveRevision(t))

	r = inSandbox(t, append(env, "with-secret", "--name", "SONAR_TOKEN", "--value", "env:E2E_SONAR_TOKEN",
		"with-secret", "--name", "NPM_TOKEN", "--value", "env:E2E_NPM_TOKEN", "release", "--tag", unique("e2e-secrets"))...)
	var res struct {
		Outcome string `json:"outcome"`
	}
	require.NoError(t, json.Unmarshal([]byte(ok(t, r)), &res), r.stdout)
	assert.Equal(t, "succeeded", res.Outcome)
	assert.Contains(t, r.stderr, "==> check    sonar ok")
	assert.Contains(t, r.stderr, "==> check    audit ok")
	for _, secret := range []string{sonarToken, npmToken} {
		assert.NotContains(t, r.stdout, secret)
		assert.NotContains(t, r.stderr, secret, "the CLI's progress shows what the checks print")
	}
	rec := environmentRecords(t, "sec")[0]
	require.Len(t, rec.Environment.Checks, 2)
	sonar := rec.Environment.Checks[0]
	assert.True(t, sonar.Passed)
	assert.Contains(t, sonar.Output, "esteira-e2e-sonar-ok")
	data, err := json.Marshal(rec)
	require.NoError(t, err)
	assert.NotContains(t, string(data), sonarToken, "the record keeps the check's output without its secret")
	assert.Contains(t, string(data), "esteira e2e: the token is ", "the line that printed it is kept")
	t.Logf("the sonar check's output in the record: %q", sonar.Output)

	// Put the service back as the other tests expect it.
	ok(t, inSandbox(t, "backend", "--cluster", sandbox.Cluster, "--service", sandbox.Service, "--poll-interval", "1s", "rollback", "--to-revision", before))
}
