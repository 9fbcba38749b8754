package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/futuraplataforma/esteira/ci/internal/dagger"
	"github.com/futuraplataforma/esteira/internal/awsenv"
	"github.com/futuraplataforma/esteira/internal/sandbox"
)

// Pinned like scripts/install-test-tools, so tests and the sandbox run the
// same servers.
const (
	versitygwPackage = "github.com/versity/versitygw/cmd/versitygw@v1.8.0"
	registryPackage  = "github.com/distribution/distribution/v3/cmd/registry@v3.1.2"
)

// Start a local AWS for esteira: ECS, ECR, S3, RDS, Lambda and more on one port.
//
// The esteira simulator (ECS, the ECR API, RDS snapshots, Secrets Manager,
// CloudWatch Logs and alarms, Lambda, the CloudFront KeyValueStore, STS)
// answers on port 4566 in front of a real S3 server (versitygw) and a real
// OCI registry, so one endpoint and one set of keys serve every AWS call the
// module makes. It comes up with cluster "sandbox" running the services
// "backend" and "worker" (cluster "production" too), ECR repository
// "backend", the RDS DB instances sandbox-db and production-db, the
// function resize and the buckets sandbox-www, sandbox-www-backups and
// sandbox-releases; state lives as long as the service.
//
// Expose it to your machine and point the other verbs at it:
//
//	dagger call sandbox up --ports 4566:4566
//	dagger call --sandbox tcp://localhost:4566 backend --cluster sandbox --service backend \
//	  with-migration --command migrate deploy --image "$REF"
//
// The AWS CLI works against it too: region eu-west-1, access key
// AKIAESTEIRASANDBOX01, secret key esteira-sandbox-secret-key, endpoint
// http://localhost:4566. PUT {"rules": [...]} to /_sandbox/rules scripts
// failures (a migration that exits 1, tasks that never get healthy), PUT
// {"snapshots": [{"db": "sandbox-db", "fail": true}]} to
// /_sandbox/snapshots a snapshot that fails.
func (m *Esteira) Sandbox(
	ctx context.Context,
	// esteira's own source, which the simulator is built from.
	// +defaultPath="/"
	// +ignore=["*", "!go.mod", "!go.sum", "!internal/**", "!cmd/**", "**/*_test.go", "**/testdata"]
	esteiraSource *dagger.Directory,
) (*dagger.Service, error) {
	files, err := sandbox.Files()
	if err != nil {
		return nil, err
	}
	bin := dag.Container().
		From("golang:1.26").
		WithMountedCache("/go/pkg/mod", dag.CacheVolume("esteira-go-mod")).
		WithMountedCache("/root/.cache/go-build", dag.CacheVolume("esteira-go-build-1.26")).
		WithEnvVariable("CGO_ENABLED", "0").
		WithEnvVariable("GOBIN", "/out").
		WithEnvVariable("GOFLAGS", "-trimpath").
		WithExec([]string{"go", "install", versitygwPackage}).
		WithExec([]string{"go", "install", registryPackage}).
		WithDirectory("/src", esteiraSource).
		WithWorkdir("/src").
		WithExec([]string{"go", "build", "-o", "/out/awssim", "./cmd/awssim"}).
		Directory("/out")
	svc := dag.Container().
		From("debian:bookworm").
		WithDirectory("/usr/local/bin", bin).
		WithNewFile("/usr/local/bin/esteira-sandbox", sandbox.Script(), dagger.ContainerWithNewFileOpts{Permissions: 0o755})
	for _, path := range slices.Sorted(maps.Keys(files)) { // one order: one cached container
		svc = svc.WithNewFile(path, files[path])
	}
	return svc.
		WithExposedPort(sandbox.Port).
		AsService(dagger.ContainerAsServiceOpts{Args: []string{"esteira-sandbox"}}), nil
}

// useSandbox is the one place the sandbox changes how esteira talks to AWS:
// it starts the service and fills in every default it brings (endpoint,
// region, keys, releases, KeyValueStore, registry, webhooks). Every other
// path reads the session and never asks whether it is a sandbox.
func useSandbox(ctx context.Context, svc *dagger.Service, o *awsenv.Options, s *awsSession) error {
	if _, err := svc.Start(ctx); err != nil {
		return fmt.Errorf("start the sandbox (--sandbox): %s", why(err))
	}
	endpoint, err := svc.Endpoint(ctx, dagger.ServiceEndpointOpts{Port: sandbox.Port, Scheme: "http"})
	if err != nil {
		return fmt.Errorf("find the sandbox's endpoint on port %d (--sandbox must be the service `dagger call sandbox` returns, or tcp://localhost:%d after `sandbox up`): %s",
			sandbox.Port, sandbox.Port, why(err))
	}
	if o.Endpoint == "" {
		o.Endpoint = endpoint
	}
	if o.Region == "" {
		o.Region = sandbox.Region
	}
	if o.AccessKeyID == "" && o.SecretAccessKey == "" {
		o.AccessKeyID, o.SecretAccessKey = sandbox.AccessKeyID, sandbox.SecretAccessKey
	}
	if s.releaseBucket == "" {
		s.releaseBucket = sandbox.ReleaseBucket
	}
	s.keyValueStore = sandbox.KeyValueStoreARN
	// The sandbox serves its registry on the AWS endpoint, and webhooks
	// named as localhost:4566 reach it there too.
	s.registry, s.registryEndpoint = svc, endpoint
	s.webhookHost = [2]string{"://" + sandbox.Registry, "://" + strings.TrimPrefix(endpoint, "http://")}
	return nil
}
