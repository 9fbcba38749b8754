//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/sandbox"
	"github.com/futuraplataforma/esteira/internal/sandbox/control"
)

// reachFixtures is a test that needs a service: it asks the host fixtures
// for a greeting the service was given in its environment.
const reachFixtures = `import sys, urllib.request
url = "http://fixtures:8000/greeting"
print("esteira e2e: reaching", url, file=sys.stderr)
body = urllib.request.urlopen(url, timeout=10).read().decode().strip()
print("esteira e2e: fixtures said", body)
assert body == "esteira-e2e-hello-from-the-service", body
`

// servicesFile is the fixture's esteira.yaml; services is its
// backend.test.services, or "" for none.
func servicesFile(services string) string {
	return `environments:
  svc:
    repository: backend
    backend:
      source: node-backend
      cluster: sandbox
      services: [backend]
      migrate: [node, migrate.js]
      test:
        image: "python:3.11-slim-bookworm"
        command: python3 reach_fixtures.py
` + services
}

const fixturesService = `        services:
          - name: fixtures
            image: "python:3.11-slim-bookworm"
            ports: [8000]
            environment: {GREETING: esteira-e2e-hello-from-the-service}
            command: [sh, -c, 'mkdir -p /srv && echo "$GREETING" > /srv/greeting && cd /srv && exec python3 -m http.server 8000']
`

// A release's tests reach the services of esteira.yaml by their hostname;
// without the service the same test fails with its own output, and nothing
// is pushed.
func TestRelease_TheTestsReachTheirServicesByHostname(t *testing.T) {
	require.NoError(t, control.SetRules(t.Context(), endpoint, nil))
	before := liveRevision(t)
	project := t.TempDir()
	source := filepath.Join(project, "node-backend")
	require.NoError(t, os.Rename(copyDir(t, "examples/node-backend"), source))
	require.NoError(t, os.WriteFile(filepath.Join(source, "reach_fixtures.py"), []byte(reachFixtures), 0o644))
	release := func(file string) (result, string) {
		require.NoError(t, os.WriteFile(filepath.Join(project, "esteira.yaml"), []byte(file), 0o644))
		tag := unique("e2e-services")
		return inSandbox(t, "env", "--name", "svc", "--project", project, "--poll-interval", "1s", "release", "--tag", tag), tag
	}

	r, tag := release(servicesFile(""))
	fails(t, r, "tests failed, nothing was published or deployed", "esteira e2e: reaching http://fixtures:8000/greeting")
	assert.Regexp(t, `Name or service not known|Temporary failure in name resolution|nodename nor servname`, r.stderr, "the test's own error")
	_, err := ecrClient().DescribeImages(t.Context(), describeTag(sandbox.Repository, tag))
	assert.Error(t, err, "nothing was pushed")
	assert.Equal(t, before, liveRevision(t))

	r, _ = release(servicesFile(fixturesService))
	ok(t, r)
	assert.Contains(t, r.stderr, "==> test     ok", "the test reached fixtures and read its greeting")
	assert.NotEqual(t, before, liveRevision(t))

	// A Dockerfile stage cannot reach a service: refused with the file's line, before anything runs.
	r, _ = release(strings.Replace(servicesFile(fixturesService), `        image: "python:3.11-slim-bookworm"
        command: python3 reach_fixtures.py
`, "        target: test\n", 1))
	fails(t, r, "esteira.yaml:12: environments.svc.backend.test.services: cannot be reached from a Dockerfile stage")

	// Put the service back as the other tests expect it.
	ok(t, inSandbox(t, "backend", "--cluster", sandbox.Cluster, "--service", sandbox.Service, "--poll-interval", "1s", "rollback", "--to-revision", before))
}
