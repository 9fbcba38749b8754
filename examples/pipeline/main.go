// A team's own release pipeline that uses esteira as a dependency.
//
// The team builds its image and its site its own way: the backend with its
// own Dockerfile, a VERSION build argument and a label, and the site with
// node and a version.txt of its own. It then hands the *Container to
// esteira's publish and backend deploy, and the *Directory to esteira's
// site deploy. It was added with `dagger install ../..`; from a repository
// of your own, `dagger install github.com/futuraplataforma/esteira`.
//
// Try it against the sandbox (`dagger call sandbox up --ports 4566:4566` in
// the esteira repository first):
//
//	dagger -m examples/pipeline call --sandbox tcp://localhost:4566 ship --version 1.5.0
package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/futuraplataforma/esteira/examples/pipeline/internal/dagger"
)

// Where the team's backend and site live: in the sandbox's cluster,
// repository and buckets. A team writes its own here.
const (
	repository   = "backend"
	cluster      = "sandbox"
	service      = "backend"
	siteBucket   = "sandbox-www"
	sitePrefix   = "pipeline"
	backupBucket = "sandbox-www-backups"
)

// Pipeline releases the team's backend and site.
type Pipeline struct {
	// +private
	Backend *dagger.Directory
	// +private
	Frontend *dagger.Directory
	// +private
	Sandbox *dagger.Service
}

// New takes the team's source folders and where to release.
func New(
	// The backend's source folder.
	// +defaultPath="../backend"
	backend *dagger.Directory,
	// The site's source folder.
	// +defaultPath="../frontend"
	// +ignore=["node_modules", "dist"]
	frontend *dagger.Directory,
	// Release to an esteira sandbox instead of AWS, e.g. tcp://localhost:4566. A real pipeline passes the region and credentials to dag.Esteira the same way.
	// +optional
	sandbox *dagger.Service,
) *Pipeline {
	return &Pipeline{Backend: backend, Frontend: frontend, Sandbox: sandbox}
}

// esteira is the dependency, configured once for every verb.
func (p *Pipeline) esteira() *dagger.Esteira {
	return dag.Esteira(dagger.EsteiraOpts{Sandbox: p.Sandbox})
}

// Build the backend image the team's way: its own Dockerfile, the version as a build argument and a label.
func (p *Pipeline) Image(
	// The release's version, e.g. 1.5.0: the binary's version and the image's label.
	version string,
) *dagger.Container {
	return p.Backend.
		WithFile("pipeline.Dockerfile", dag.CurrentModule().Source().File("Dockerfile")).
		DockerBuild(dagger.DirectoryDockerBuildOpts{
			Dockerfile: "pipeline.Dockerfile",
			BuildArgs:  []dagger.BuildArg{{Name: "VERSION", Value: version}},
		}).
		WithLabel("org.opencontainers.image.version", version)
}

// Build the site the team's way: node runs the build script, and the site gets a version.txt.
func (p *Pipeline) Site(
	// The release's version, written to version.txt.
	version string,
) *dagger.Directory {
	return dag.Container().
		From("node:22-bookworm-slim").
		WithDirectory("/src", p.Frontend).
		WithWorkdir("/src").
		WithExec([]string{"node", "build.mjs"}).
		Directory("dist").
		WithNewFile("version.txt", version+"\n")
}

// Push the backend image to ECR with esteira's publish; returns repo:tag@sha256:...
//
// +cache="never"
func (p *Pipeline) Publish(
	ctx context.Context,
	// The release's version, also the image tag.
	version string,
	// Check the repository and the tag, push nothing.
	// +optional
	dryRun bool,
) (string, error) {
	return p.esteira().Publish(ctx, repository, dagger.EsteiraPublishOpts{Container: p.Image(version), Tag: version, DryRun: dryRun})
}

// Release the backend and the site: esteira publishes the image and rolls it out, then releases the site.
//
// Returns both release records as JSON, {"backend": ..., "site": ...}; the
// backend's names the image it deployed, repo:tag@sha256:... With --dry-run,
// the backend's plan, then the site's dry-run record.
//
// +cache="never"
func (p *Pipeline) Ship(
	ctx context.Context,
	// The release's version, also the image tag.
	version string,
	// Check and plan both releases, change nothing.
	// +optional
	dryRun bool,
) (string, error) {
	e := p.esteira()
	backend, err := e.Backend(cluster, []string{service}).Deploy(ctx, dagger.EsteiraBackendDeployOpts{
		Container: p.Image(version), Repository: repository, Tag: version, DryRun: dryRun,
	})
	if err != nil {
		return "", fmt.Errorf("release the backend %s: %w", version, err)
	}
	site, err := e.Site(siteBucket, dagger.EsteiraSiteOpts{Prefix: sitePrefix, BackupBucket: backupBucket}).
		Deploy(ctx, p.Site(version), dagger.EsteiraSiteDeployOpts{DryRun: dryRun})
	if err != nil {
		return "", fmt.Errorf("release the site %s after the backend: %w", version, err)
	}
	if dryRun { // the backend's plan is text
		return backend + "\n" + site, nil
	}
	out, err := json.MarshalIndent(map[string]json.RawMessage{"backend": json.RawMessage(backend), "site": json.RawMessage(site)}, "", "  ")
	return string(out), err
}
