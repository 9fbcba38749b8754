package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/futuraplataforma/esteira/internal/sandbox"
)

// demoEnvironments is the demo's esteira.yaml: the sandbox cluster as
// staging, with a quality gate, and the production cluster.
const demoEnvironments = `environments:
  staging:
    repository: backend
    url: http://staging.sandbox
    gate: {image: "debian:bookworm", command: [sh, -c, 'echo "smoke test of $ESTEIRA_URL: ok"']}
    backend: {cluster: sandbox, services: [backend, worker], migrate: [migrate]}
    frontend: {source: examples/frontend, bucket: sandbox-www, prefix: staging, backupBucket: sandbox-www-backups}
  production:
    repository: backend
    backend: {cluster: production, services: [backend, worker], migrate: [migrate]}
    frontend: {source: examples/frontend, bucket: sandbox-www, prefix: production, backupBucket: sandbox-www-backups}
`

// promote releases staging from the environment file (the image built in
// step 1, the examples' site, the gate), then promotes it to production and
// checks production runs that very image.
func (d *demo) promote(ctx context.Context) error {
	project := dag.Directory().
		WithDirectory("examples/frontend", d.frontend).
		WithNewFile("esteira.yaml", demoEnvironments)
	env, err := d.m.Env("staging", project, "esteira.yaml", "5m", "1s", false)
	if err != nil {
		return err
	}
	if _, err := env.Release(ctx, d.image, "", true, true, false, nil); err != nil {
		return err
	}
	say("OK: staging released from esteira.yaml: backend and worker on %s, the site, and the quality gate passed", d.image)
	if _, err := env.Promote(ctx, "production", false, nil); err != nil {
		return err
	}
	for _, svc := range []string{sandbox.Service, sandbox.Worker} {
		rev, _, err := sandbox.LiveRevision(ctx, d.ecs, sandbox.ProdCluster, svc)
		if err != nil {
			return err
		}
		out, err := d.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(rev)})
		if err != nil {
			return err
		}
		if got := aws.ToString(out.TaskDefinition.ContainerDefinitions[0].Image); got != d.image {
			return fmt.Errorf("production's %s runs %s, not the image that passed staging's gate (%s)", svc, got, d.image)
		}
	}
	staging, err := sandbox.Snapshot(ctx, awsS3(d), sandbox.SiteBucket, "staging")
	if err != nil {
		return err
	}
	production, err := sandbox.Snapshot(ctx, awsS3(d), sandbox.SiteBucket, "production")
	if err != nil {
		return err
	}
	if diff := staging.Diff(production); diff != "" || len(production) == 0 {
		return errors.New("production's site is not staging's: " + diff)
	}
	say("OK: promoted to production: the same image by digest and the same %d site files, nothing rebuilt", len(production))
	return nil
}
