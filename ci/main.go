// Esteira is a pipeline-as-code module for shipping a containerized backend
// to Amazon ECS and a static frontend to Amazon S3.
package main

import (
	"github.com/futuraplataforma/esteira/ci/internal/dagger"
)

// Esteira holds the AWS settings shared by every function.
type Esteira struct {
	// AWS region, for example eu-west-1.
	Region string
}

// New configures esteira.
func New(
	// AWS region, for example eu-west-1.
	// +optional
	region string,
) *Esteira {
	return &Esteira{Region: region}
}

// Build builds the application image from a Dockerfile.
func (m *Esteira) Build(source *dagger.Directory) *dagger.Container {
	return source.DockerBuild()
}
