package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/futuraplataforma/esteira/ci/internal/dagger"
	"github.com/futuraplataforma/esteira/internal/envfile"
)

// Environment is one environment of esteira.yaml: release, promote and status it,
// or reach one of its services or its site.
type Environment struct {
	// +private
	M *Esteira
	// +private
	Name string
	// +private
	Project *dagger.Directory
	// +private
	File string
}

// Select an environment of esteira.yaml, e.g. env --name production release.
func (m *Esteira) Env(
	// The environment, e.g. staging.
	name string,
	// The project: esteira.yaml and the folders it names.
	// +defaultPath="/"
	// +ignore=["**/node_modules", ".cache", "**/.terraform"]
	project *dagger.Directory,
	// The environment file, relative to the project.
	// +optional
	// +default="esteira.yaml"
	file string,
) *Environment {
	return &Environment{M: m, Name: name, Project: project, File: file}
}

// Release the environment: its services, then its frontend, then its gate.
//
// The same as release --env NAME.
//
// +cache="never"
func (e *Environment) Release(
	ctx context.Context,
	// An already-pushed image to deploy instead of building backend.source.
	// +optional
	image string,
	// Image tag for the built image. Default: the git short sha.
	// +optional
	tag string,
	// Do not run the Go tests before publishing.
	// +optional
	skipTests bool,
	// Redeploy the services even if they already run the image.
	// +optional
	force bool,
	// How long to wait for the migration and for each rollout, e.g. 15m.
	// +optional
	// +default="15m"
	timeout string,
	// How often to poll ECS while waiting, e.g. 5s.
	// +optional
	// +default="5s"
	pollInterval string,
	// Break deploy locks left by a crashed run.
	// +optional
	breakLock bool,
	// Webhook to post the outcome to, e.g. env:SLACK_WEBHOOK_URL.
	// +optional
	notify *dagger.Secret,
) (string, error) {
	return e.M.Release(ctx, e.Name, e.Project, e.File, image, tag, skipTests, force, timeout, pollInterval, breakLock, notify)
}

// Promote what passed this environment's gate to another environment.
//
// The same as promote --from NAME --to TO.
//
// +cache="never"
func (e *Environment) Promote(
	ctx context.Context,
	// The environment to release it to, e.g. production.
	to string,
	// How long to wait for the migration and for each rollout, e.g. 15m.
	// +optional
	// +default="15m"
	timeout string,
	// How often to poll ECS while waiting, e.g. 5s.
	// +optional
	// +default="5s"
	pollInterval string,
	// Break deploy locks left by a crashed run.
	// +optional
	breakLock bool,
	// Webhook to post the outcome to.
	// +optional
	notify *dagger.Secret,
) (string, error) {
	return e.M.Promote(ctx, e.Name, to, e.Project, e.File, timeout, pollInterval, breakLock, notify)
}

// Show what runs where in the environment.
//
// +cache="never"
func (e *Environment) Status(
	ctx context.Context,
	// Output: text, for a person, or json.
	// +optional
	// +default="text"
	format string,
) (string, error) {
	return e.M.Status(ctx, e.Name, e.Project, e.File, format)
}

// One ECS service of the environment, e.g. service --name worker rollback.
func (e *Environment) Service(
	// The service, one of the environment's backend.services.
	name string,
) *EnvironmentService {
	return &EnvironmentService{Env: e, Name: name}
}

// The environment's static site, e.g. site plan.
func (e *Environment) Site() *EnvironmentSite { return &EnvironmentSite{Env: e} }

// EnvironmentService is one ECS service of an environment.
type EnvironmentService struct {
	// +private
	Env *Environment
	// +private
	Name string
}

// Put the service back on the revision that ran before its last release.
//
// +cache="never"
func (s *EnvironmentService) Rollback(
	ctx context.Context,
	// Task definition revision to go back to, e.g. api:41. Default: from the release records.
	// +optional
	toRevision string,
	// How long to wait for the rollback to complete, e.g. 15m.
	// +optional
	// +default="15m"
	timeout string,
	// How often to poll ECS while waiting, e.g. 5s.
	// +optional
	// +default="5s"
	pollInterval string,
	// Break a deploy lock left by a crashed run.
	// +optional
	breakLock bool,
) (string, error) {
	e, in, _, err := s.Env.M.environment(ctx, s.Env.Project, s.Env.File, s.Env.Name)
	if err != nil {
		return "", err
	}
	if e.Backend == nil {
		return "", fmt.Errorf("environment %s has no backend in %s", s.Env.Name, s.Env.File)
	}
	found := false
	for _, svc := range e.Backend.Services {
		found = found || svc == s.Name
	}
	if !found {
		return "", fmt.Errorf("service %q is not one of environment %s's services %v (%s)", s.Name, s.Env.Name, e.Backend.Services, s.Env.File)
	}
	return in.RollbackBackend(ctx, e.Backend.Cluster, s.Name, toRevision, timeout, pollInterval, breakLock)
}

// EnvironmentSite is the static site of an environment.
type EnvironmentSite struct {
	// +private
	Env *Environment
}

// Show what a release would upload, skip and delete on the site; change nothing.
//
// +cache="never"
func (s *EnvironmentSite) Plan(ctx context.Context) (string, error) {
	f, in, err := s.frontend(ctx)
	if err != nil {
		return "", err
	}
	return in.PlanFrontend(ctx, f.Bucket, f.Prefix, s.Env.Project.Directory(f.Source), nil,
		"node:22-bookworm-slim", "npm run build", orDefault(f.BuildDir, "dist"), "", nil)
}

// Restore the site from a backup (default: the one the last release took).
//
// +cache="never"
func (s *EnvironmentSite) Rollback(
	ctx context.Context,
	// Release id of the backup to restore. Default: the backup taken by the last release.
	// +optional
	backup string,
	// Break a deploy lock left by a crashed run.
	// +optional
	breakLock bool,
) (string, error) {
	f, in, err := s.frontend(ctx)
	if err != nil {
		return "", err
	}
	return in.RollbackFrontend(ctx, f.Bucket, f.BackupBucket, f.Prefix, backup, 64, f.DistributionID, false, breakLock, "", "")
}

// frontend reads the environment's frontend and the settings it implies.
func (s *EnvironmentSite) frontend(ctx context.Context) (*envfile.Frontend, *Esteira, error) {
	e, in, _, err := s.Env.M.environment(ctx, s.Env.Project, s.Env.File, s.Env.Name)
	if err != nil {
		return nil, nil, err
	}
	if e.Frontend == nil {
		return nil, nil, errors.New("environment " + s.Env.Name + " has no frontend in " + s.Env.File)
	}
	return e.Frontend, in, nil
}
