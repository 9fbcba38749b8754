package main

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/futuraplataforma/esteira/ci/internal/dagger"
)

// Build the application image from the Dockerfile in the source folder.
//
// Chain it with publish, export or terminal, or hand it to backend deploy --container.
func (m *Esteira) Build(
	// The application's source folder, the Docker build context.
	// +ignore=["**/node_modules", "**/.terraform"]
	source *dagger.Directory,
	// Path of the Dockerfile inside the source folder.
	// +optional
	// +default="Dockerfile"
	dockerfile string,
	// Build stage to stop at (docker build --target), or empty for the last one.
	// +optional
	target string,
	// Build arguments, NAME=value, comma-separated (docker build --build-arg).
	// +optional
	buildArgs []string,
) (*dagger.Container, error) {
	args := make([]dagger.BuildArg, 0, len(buildArgs))
	for _, a := range buildArgs {
		name, value, ok := strings.Cut(a, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("--build-args %q: give each build argument as NAME=value", a)
		}
		args = append(args, dagger.BuildArg{Name: name, Value: value})
	}
	return build(source, dockerfile, target, args), nil
}

func build(source *dagger.Directory, dockerfile, target string, args []dagger.BuildArg) *dagger.Container {
	return source.DockerBuild(dagger.DirectoryDockerBuildOpts{Dockerfile: dockerfile, Target: target, BuildArgs: args})
}

func (m *Esteira) goContainer(goVersion string, source *dagger.Directory) *dagger.Container {
	return dag.Container().
		From("golang:"+goVersion).
		WithMountedCache("/go/pkg/mod", dag.CacheVolume("esteira-go-mod")).
		WithMountedCache("/root/.cache/go-build", dag.CacheVolume("esteira-go-build-"+goVersion)).
		WithDirectory("/src", source).
		WithWorkdir("/src")
}

// Build the static frontend with npm and return the site folder.
//
// It installs the dependencies with npm ci (the npm cache is kept between
// runs), runs the build command and returns the folder it wrote. An empty
// folder is an error.
func (m *Esteira) BuildFrontend(
	ctx context.Context,
	// The frontend's source folder (the one with package.json and package-lock.json).
	// +ignore=["**/node_modules", ".git"]
	source *dagger.Directory,
	// Node image to build with.
	// +optional
	// +default="node:22-bookworm-slim"
	nodeImage string,
	// Command that builds the site, run with sh -c after npm ci.
	// +optional
	// +default="npm run build"
	buildCommand string,
	// Folder, relative to the source, that the build writes the site to.
	// +optional
	// +default="dist"
	buildDir string,
) (*dagger.Directory, error) {
	output := path.Clean(strings.TrimPrefix(buildDir, "/"))
	if output == "." || output == ".." || strings.HasPrefix(output, "../") {
		return nil, fmt.Errorf("--build-dir %q must be a folder inside the source, for example --build-dir dist", buildDir)
	}
	built := dag.Container().
		From(nodeImage).
		WithMountedCache("/root/.npm", dag.CacheVolume("esteira-npm")).
		WithDirectory("/src", source).
		WithWorkdir("/src").
		WithExec([]string{"npm", "ci", "--no-audit", "--no-fund"}).
		WithExec([]string{"sh", "-c", buildCommand})
	dist := built.Directory("/src/" + output)
	entries, err := dist.Entries(ctx)
	if err != nil {
		return nil, fmt.Errorf("no folder %s after %q (set --build-dir to the folder your build writes): %s", output, buildCommand, why(err))
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("build output %s is empty after %q: nothing to publish", output, buildCommand)
	}
	return dist, nil
}
