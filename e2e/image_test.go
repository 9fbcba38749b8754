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

func TestFunctions_ListsShortClausesAndNoSettings(t *testing.T) {
	fn := ok(t, cli(t, "functions"))
	for _, want := range []string{"deploy-backend      Deploy a new image to an ECS service, with migration and automatic rollback.", "demo", "sandbox"} {
		assert.Contains(t, fn, want)
	}
	for _, setting := range []string{"\nregion ", "\nendpoint ", "\nrelease-bucket ", "\nrelease-prefix "} {
		assert.NotContains(t, fn, setting, "a constructor setting is listed as a function")
	}
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
	fails(t, r, "tags are immutable", "--image "+first)
	assert.Equal(t, first[strings.Index(first, "@")+1:], registryDigest(t, "backend", tag), "the tag still points at the first image")

	fails(t, inSandbox(t, "publish", "--source", "./examples/backend", "--repository", "nope", "--tag", tag), "nope")
}
