package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/futuraplataforma/esteira/ci/internal/dagger"
	"github.com/futuraplataforma/esteira/internal/envfile"
)

// Run the application's tests the way its ecosystem runs them.
//
// With nothing said, the source tells: go.mod runs go test; a package.json
// with a test script runs npm ci (when it has a lockfile) and npm test in
// node:22-bookworm-slim; pyproject.toml, requirements.txt or setup.py run
// pytest in python:3.11-slim-bookworm (python -m unittest when the image
// has no pytest). --target runs a Dockerfile stage instead (its build is
// the test); --command runs your own command in --image with the source at
// /src. Package caches are kept between runs. It returns the test output
// and fails, with the end of that output, when a test fails.
func (m *Esteira) Test(
	ctx context.Context,
	// The application's source folder.
	// +ignore=["**/node_modules", ".git", "**/__pycache__"]
	source *dagger.Directory,
	// Dockerfile stage whose build is the test, e.g. test.
	// +optional
	target string,
	// Image to run --command in (default: the preset's image for the source).
	// +optional
	image string,
	// Command run with sh -c in the source folder, e.g. "npm ci && npm test".
	// +optional
	command string,
	// Go version of the Go preset: the golang image tag.
	// +optional
	// +default="1.26"
	goVersion string,
	// Packages the Go preset tests, as go test takes them.
	// +optional
	// +default=["./..."]
	packages []string,
	// Dockerfile of --target, inside the source.
	// +optional
	// +default="Dockerfile"
	dockerfile string,
) (string, error) {
	return testRun{source: source, target: target, image: image, command: command, goVersion: goVersion, packages: packages, dockerfile: dockerfile}.run(ctx)
}

// testRun is one way the tests run: the test verb's flags, or a release's
// backend.test from esteira.yaml, which may add the services they reach.
type testRun struct {
	source                                        *dagger.Directory
	target, image, command, goVersion, dockerfile string
	packages                                      []string
	services                                      []envfile.Service
}

func (r testRun) run(ctx context.Context) (string, error) {
	switch {
	case r.target != "" && (r.image != "" || r.command != ""):
		return "", errors.New("test: --target builds a Dockerfile stage; --image and --command run a command: give one or the other")
	case r.target != "" && len(r.services) > 0:
		return "", errors.New("test: a Dockerfile stage (target) is built, and a build reaches no service: run the tests as a command (image and command, or the source's preset) to give them services")
	case r.target != "":
		return stageTest(ctx, r.source, r.dockerfile, r.target)
	case r.image != "" && r.command == "":
		return "", errors.New("test: --image needs --command: what to run in it, e.g. --command \"npm test\"")
	}
	p, err := findPreset(ctx, r.source)
	if err != nil && r.command == "" {
		return "", err
	}
	ctr := p.container(r.source, r.goVersion)
	if r.image != "" {
		ctr = withSource(dag.Container().From(r.image), r.source)
	}
	run := p.command(r.packages)
	if r.command != "" {
		run = []string{"sh", "-c", r.command}
	}
	return testOutput(ctx, withServices(ctr, r.services).WithExec(run))
}

// preset is how one ecosystem runs its tests.
type preset string

const (
	presetGo     preset = "go"
	presetNode   preset = "npm"
	presetPython preset = "pytest"
	presetNone   preset = ""
)

// findPreset reads the source's top level for what it is.
func findPreset(ctx context.Context, source *dagger.Directory) (preset, error) {
	entries, err := source.Entries(ctx)
	if err != nil {
		return presetNone, fmt.Errorf("test: read the source: %s", why(err))
	}
	has := func(name string) bool { return slices.Contains(entries, name) }
	switch {
	case has("go.mod"):
		return presetGo, nil
	case has("package.json"):
		data, err := source.File("package.json").Contents(ctx)
		if err != nil {
			return presetNone, fmt.Errorf("test: read package.json: %s", why(err))
		}
		var pkg struct {
			Scripts map[string]string `json:"scripts"`
		}
		if err := json.Unmarshal([]byte(data), &pkg); err != nil {
			return presetNone, fmt.Errorf("test: package.json is not valid JSON: %v", err)
		}
		if pkg.Scripts["test"] == "" {
			return presetNone, errors.New(`test: package.json has no "test" script: add one (e.g. "test": "node --test"), or give --command`)
		}
		return presetNode, nil
	case has("pyproject.toml"), has("requirements.txt"), has("setup.py"):
		return presetPython, nil
	}
	return presetNone, errors.New("test: found nothing to test in the source: looked for go.mod (go test), package.json with a test script (npm test), " +
		"pyproject.toml, requirements.txt or setup.py (pytest); give --target (a Dockerfile stage), or --image and --command")
}

func (p preset) container(source *dagger.Directory, goVersion string) *dagger.Container {
	switch p {
	case presetGo:
		return (&Esteira{}).goContainer(goVersion, source)
	case presetNode:
		return withSource(dag.Container().From("node:22-bookworm-slim").
			WithMountedCache("/root/.npm", dag.CacheVolume("esteira-npm")), source)
	case presetPython:
		return withSource(dag.Container().From("python:3.11-slim-bookworm").
			WithMountedCache("/root/.cache/pip", dag.CacheVolume("esteira-pip")).
			WithEnvVariable("PYTHONDONTWRITEBYTECODE", "1"), source)
	}
	return withSource(dag.Container().From("debian:bookworm"), source)
}

func (p preset) command(packages []string) []string {
	switch p {
	case presetGo:
		return append([]string{"go", "test", "-count=1"}, packages...)
	case presetNode:
		return []string{"sh", "-c", "if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; fi && npm test"}
	case presetPython:
		return []string{"sh", "-c", strings.Join([]string{
			`if [ -f requirements.txt ] && grep -qv '^[[:space:]]*\(#\|$\)' requirements.txt; then python -m pip install -q -r requirements.txt; fi`,
			`if python -c 'import pytest' 2>/dev/null; then python -m pytest -v; else python -m unittest discover -v; fi`,
		}, " && ")}
	}
	return nil
}

func withSource(c *dagger.Container, source *dagger.Directory) *dagger.Container {
	return c.WithDirectory("/src", source).WithWorkdir("/src")
}

// stageTest builds the Dockerfile stage; its build output is the result.
func stageTest(ctx context.Context, source *dagger.Directory, dockerfile, target string) (string, error) {
	built := source.DockerBuild(dagger.DirectoryDockerBuildOpts{Dockerfile: dockerfile, Target: target})
	if _, err := built.Sync(ctx); err != nil {
		return "", fmt.Errorf("test: stage %s of %s failed: %s", target, dockerfile, why(err))
	}
	return fmt.Sprintf("stage %s of %s built: its tests passed\n", target, dockerfile), nil
}

// testOutput is the tests' stdout and stderr; a failing test fails with
// its own output, shortened to its end.
func testOutput(ctx context.Context, c *dagger.Container) (string, error) {
	out, err := c.Stdout(ctx)
	if err != nil {
		return "", fmt.Errorf("tests failed: %s", why(err))
	}
	errOut, _ := c.Stderr(ctx)
	return out + errOut, nil
}
