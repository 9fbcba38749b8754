package ecsdeploy_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
)

func TestDeploy_RejectsBadInputBeforeAnyChange(t *testing.T) {
	tests := []struct {
		name   string
		change func(*ecsdeploy.DeployOptions)
		want   string
	}{
		{"UnknownCluster", func(o *ecsdeploy.DeployOptions) { o.Cluster = "nope" }, `cluster "nope" not found`},
		{"UnknownService", func(o *ecsdeploy.DeployOptions) { o.Service = "nope" }, `service "nope" not found (or not ACTIVE) in cluster "main": check --service`},
		{"UnknownContainer", func(o *ecsdeploy.DeployOptions) { o.Container = "web" }, `container "web" is not in task definition api:1 (containers: app, sidecar): check --container`},
		{"MalformedImage", func(o *ecsdeploy.DeployOptions) { o.Image = "Repo/API:latest" }, `image "Repo/API:latest" is malformed`},
		{"ImageWithoutTagOrDigest", func(o *ecsdeploy.DeployOptions) { o.Image = repo }, "neither a tag nor a digest"},
		{"ShortDigest", func(o *ecsdeploy.DeployOptions) { o.Image = repo + "@sha256:abc" }, "the digest is not sha256"},
		{"EmptyCluster", func(o *ecsdeploy.DeployOptions) { o.Cluster = "" }, "cluster is empty"},
		{"EmptyMigrateCommand", func(o *ecsdeploy.DeployOptions) { o.MigrateCommand = []string{} }, "migrate command is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, awssim.ServiceSpec{})
			before := e.mutations()
			o := e.opts(imgV2)
			tt.change(&o)
			_, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, before, e.mutations(), "bad input must not change anything")
		})
	}
}

func TestDeploy_AsksForContainerWhenSeveralAreEssential(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{}, func(in *ecs.RegisterTaskDefinitionInput) {
		in.ContainerDefinitions[1].Essential = aws.Bool(true)
	})
	before := e.mutations()
	_, err := ecsdeploy.Deploy(t.Context(), e.clients, e.opts(imgV2))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "task definition api:1 has 2 essential containers (app, sidecar): choose one with --container")
	assert.Equal(t, before, e.mutations())

	o := e.opts(imgV2)
	o.Container = "app"
	_, err = ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
}

func TestDeploy_WarnsButMigratesWhenTheContainerHasNoAwslogs(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{}, func(in *ecs.RegisterTaskDefinitionInput) {
		in.ContainerDefinitions[0].LogConfiguration = nil
	})
	o := e.opts(imgV2)
	o.MigrateCommand = []string{"./app", "migrate"}
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	assert.Contains(t, e.out.String(), "warning: container app has no awslogs")
	assert.Equal(t, 1, e.sim.Count("ecs", "RunTask"), "the migration still runs")
	assert.True(t, rec.Backend.Migration.Succeeded)
}

// fakeSecrets knows only the ids in exist.
type fakeSecrets struct{ exist map[string]bool }

func (f fakeSecrets) DescribeSecret(_ context.Context, in *secretsmanager.DescribeSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	if !f.exist[aws.ToString(in.SecretId)] {
		return nil, errors.New("ResourceNotFoundException: Secrets Manager can't find the specified secret")
	}
	return &secretsmanager.DescribeSecretOutput{ARN: in.SecretId}, nil
}

func TestDeploy_RefusesWhenAReferencedSecretIsMissing(t *testing.T) {
	const id = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf"
	e := newEnv(t, awssim.ServiceSpec{}, func(in *ecs.RegisterTaskDefinitionInput) {
		// A json-key suffix is allowed after the ARN; the secret itself is checked.
		in.ContainerDefinitions[0].Secrets[0].ValueFrom = aws.String(id + ":password::")
	})
	before := e.mutations()
	e.clients.Secrets = fakeSecrets{}
	_, err := ecsdeploy.Deploy(t.Context(), e.clients, e.opts(imgV2))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "check secrets before deploying (nothing was changed)")
	assert.Contains(t, err.Error(), "secret "+id+" (env DB_URL of container app)")
	assert.Equal(t, before, e.mutations())

	e.clients.Secrets = fakeSecrets{exist: map[string]bool{id: true}}
	_, err = ecsdeploy.Deploy(t.Context(), e.clients, e.opts(imgV2))
	require.NoError(t, err)
}
