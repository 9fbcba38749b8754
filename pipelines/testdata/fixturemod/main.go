// Package main is a small Dagger module used to prove the pipeline checker
// without depending on ci/. It is parsed, never compiled.
package main

import (
	"context"

	"example.com/fixture/internal/dagger"
)

type Fixture struct {
	// Region is exposed as a function because it is exported.
	Region string
	// +private
	Token      *dagger.Secret
	unexported string
}

func New(
	// +optional
	region string,
	// +optional
	awsAccessKeyId *dagger.Secret,
	// +default="esteira"
	releasePrefix string,
) *Fixture {
	return &Fixture{Region: region}
}

func (m *Fixture) Build(
	// Required: no pragma.
	source *dagger.Directory,
	// +optional
	dockerfile string,
) *dagger.Container {
	return nil
}

func (m *Fixture) BuildFrontend(ctx context.Context, source *dagger.Directory) (*dagger.Directory, error) {
	return nil, nil
}

func (m *Fixture) DeployBackend(
	ctx context.Context,
	// +optional
	cluster, service string,
	// +optional
	migrateCommand []string,
	// +optional
	dryRun bool,
	// +default=3
	failureThreshold int,
) (string, error) {
	return "", nil
}

func (m *Fixture) UploadS3Bucket(distributionID string) string { return "" }

func (m *Fixture) WithTag(tag string) *Fixture { return m }

func (m *Fixture) Sandbox() *dagger.Service { return nil }

func (m *Fixture) helper(ctx context.Context) error { return nil }
