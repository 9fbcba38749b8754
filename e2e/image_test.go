//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The surface is nouns with verbs: the top level lists the objects and the
// few verbs of their own, no flat deploy-* verbs and no settings.
func TestFunctions_ListsTheObjectsWithShortClausesAndNoSettings(t *testing.T) {
	fn := ok(t, cli(t, "functions"))
	for _, want := range []string{"backend ", "site ", "lambda ", "env ", "publish ", "build ", "build-frontend ", "test ", "sandbox ", "demo "} {
		assert.Contains(t, fn, "\n"+want, "the top level lists %s", want)
	}
	assert.Contains(t, fn, "One or several ECS services of a cluster: deploy, plan, migrate, rollback, status.")
	for _, gone := range []string{"deploy-backend", "deploy-frontend", "deploy-lambda", "rollback-", "prune-frontend", "plan-frontend", "\nmigrate ", "\nrelease ", "\npromote ", "\nstatus "} {
		assert.NotContains(t, fn, gone, "a flat verb is listed beside the objects")
	}
	for _, setting := range []string{"\nregion ", "\nendpoint ", "\nreleases ", "\nrelease-bucket "} {
		assert.NotContains(t, fn, setting, "a constructor setting is listed as a function")
	}
	help := ok(t, cli(t, "call", "backend", "--cluster", "c", "--service", "s", "--help"))
	for _, verb := range []string{"deploy", "plan", "migrate", "rollback", "status", "with-migration"} {
		assert.Contains(t, help, "\n  "+verb+" ", "backend --help lists %s", verb)
	}
	assert.NotContains(t, help, "\n  cluster ", "the object's settings are not functions")
}

func TestBuild_ReturnsTheImageWithTheApp(t *testing.T) {
	out := ok(t, dagger(t, "build", "--source", "./examples/backend", "file", "--path", "/app", "size"))
	size, err := strconv.ParseFloat(strings.TrimSpace(out), 64) // the CLI prints 5.8e+06
	require.NoError(t, err, out)
	assert.Greater(t, size, float64(1<<20), "the image holds the built /app binary")
}

func TestTest_PassesAndFailsWithTheTests(t *testing.T) {
	out := ok(t, dagger(t, "test", "--source", "./examples/backend"))
	assert.Contains(t, out, "ok")

	broken := copyDir(t, "examples/backend")
	require.NoError(t, os.WriteFile(filepath.Join(broken, "broken_test.go"),
		[]byte("package main\n\nimport \"testing\"\n\nfunc TestBroken(t *testing.T) { t.Fatal(\"esteira e2e: this test fails\") }\n"), 0o644))
	r := dagger(t, "test", "--source", broken)
	fails(t, r, "esteira e2e: this test fails")
}

// Each ecosystem's tests, found from the source, pass and fail with their
// own output; so does a Dockerfile test stage and a command of your own.
func TestTest_EachEcosystemTheWayItRunsItsTests(t *testing.T) {
	t.Run("node", func(t *testing.T) {
		assert.Contains(t, ok(t, dagger(t, "test", "--source", "./examples/node-backend")), "# pass 2")
		broken := copyDir(t, "examples/node-backend")
		require.NoError(t, os.WriteFile(filepath.Join(broken, "test", "broken.test.js"), []byte(
			"import { test } from 'node:test';\nimport assert from 'node:assert/strict';\ntest('broken', () => assert.equal(1, 2, 'esteira e2e: node test fails'));\n"), 0o644))
		fails(t, dagger(t, "test", "--source", broken), "tests failed", "esteira e2e: node test fails")
	})
	t.Run("python", func(t *testing.T) {
		assert.Contains(t, ok(t, dagger(t, "test", "--source", "./examples/python-backend")), "3 passed")
		broken := copyDir(t, "examples/python-backend")
		require.NoError(t, os.WriteFile(filepath.Join(broken, "tests", "test_broken.py"), []byte(
			"def test_broken():\n    assert 1 == 2, 'esteira e2e: python test fails'\n"), 0o644))
		fails(t, dagger(t, "test", "--source", broken), "tests failed", "esteira e2e: python test fails")
	})
	t.Run("a Dockerfile stage", func(t *testing.T) {
		assert.Contains(t, ok(t, dagger(t, "test", "--source", "./examples/node-backend", "--target", "test")), "stage test of Dockerfile built")
		broken := copyDir(t, "examples/node-backend")
		require.NoError(t, os.WriteFile(filepath.Join(broken, "test", "broken.test.js"), []byte(
			"import { test } from 'node:test';\nimport assert from 'node:assert/strict';\ntest('broken', () => assert.equal(1, 2, 'esteira e2e: stage test fails'));\n"), 0o644))
		fails(t, dagger(t, "test", "--source", broken, "--target", "test"), "stage test of Dockerfile failed", "esteira e2e: stage test fails")
	})
	t.Run("a command in an image", func(t *testing.T) {
		assert.Contains(t, ok(t, dagger(t, "test", "--source", "./examples/node-backend", "--image", "debian:bookworm", "--command", "test -f package.json && echo esteira-e2e-command-ran")), "esteira-e2e-command-ran")
		fails(t, dagger(t, "test", "--source", "./examples/node-backend", "--image", "debian:bookworm", "--command", "echo esteira e2e: command fails >&2; exit 3"),
			"exited 3", "esteira e2e: command fails")
	})
	t.Run("nothing to test", func(t *testing.T) {
		empty := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(empty, "README"), []byte("docs only\n"), 0o644))
		fails(t, dagger(t, "test", "--source", empty), "found nothing to test in the source: looked for go.mod (go test), package.json with a test script (npm test)")
	})
}

var pushedRef = regexp.MustCompile(`^localhost:4566/backend:([A-Za-z0-9._-]+)@sha256:[0-9a-f]{64}$`)

func TestPublish_PushesRepublishesAsANoOpAndRefusesATagOfOtherSource(t *testing.T) {
	tag := unique("e2e-publish")
	first := strings.TrimSpace(ok(t, inSandbox(t, "publish", "--source", "./examples/backend", "--repository", "backend", "--tag", tag)))
	require.Regexp(t, pushedRef, first)
	assert.Equal(t, tag, pushedRef.FindStringSubmatch(first)[1])
	assert.Equal(t, registryDigest(t, "backend", tag), first[strings.Index(first, "@")+1:], "the registry holds what publish returned")

	// The same source again, from another folder with new mtimes (as on a
	// fresh CI agent): nothing is pushed and the same reference comes back.
	again := inSandbox(t, "publish", "--source", copyDir(t, "examples/backend"), "--repository", "backend", "--tag", tag)
	assert.Equal(t, first, strings.TrimSpace(ok(t, again)))
	assert.Contains(t, again.stderr, "nothing pushed")

	changed := copyDir(t, "examples/backend")
	require.NoError(t, os.WriteFile(filepath.Join(changed, "VERSION"), []byte("9.9.9\n"), 0o644))
	r := inSandbox(t, "publish", "--source", changed, "--repository", "backend", "--tag", tag)
	fails(t, r, "tags are immutable", "--image "+first, "to fix it: --tag, --allow-overwrite")
	assert.Equal(t, first[strings.Index(first, "@")+1:], registryDigest(t, "backend", tag), "the tag still points at the first image")

	fails(t, inSandbox(t, "publish", "--source", "./examples/backend", "--repository", "nope", "--tag", tag), "nope", "to fix it: --repository")
	fails(t, inSandbox(t, "publish", "--repository", "backend", "--tag", tag), "exactly one of --container")
}

// A container from anywhere (here an image address the CLI loads) is pushed
// as it is; the same image again is a no-op; a dry run pushes nothing.
func TestPublish_PushesAContainer(t *testing.T) {
	tag := unique("e2e-container")
	dry := strings.TrimSpace(ok(t, inSandbox(t, "publish", "--container", "debian:bookworm", "--repository", "backend", "--tag", tag, "--dry-run")))
	assert.Equal(t, "localhost:4566/backend:"+tag, dry)
	_, err := ecrClient().DescribeImages(t.Context(), describeTag("backend", tag))
	assert.Error(t, err, "the dry run pushed nothing")
	first := strings.TrimSpace(ok(t, inSandbox(t, "publish", "--container", "debian:bookworm", "--repository", "backend", "--tag", tag)))
	require.Regexp(t, pushedRef, first)
	again := inSandbox(t, "publish", "--container", "debian:bookworm", "--repository", "backend", "--tag", tag)
	assert.Equal(t, first, strings.TrimSpace(ok(t, again)))
	assert.Contains(t, again.stderr, "nothing pushed")
	fails(t, inSandbox(t, "publish", "--container", "debian:bookworm", "--repository", "backend"), "--container needs --tag")
}
