package ecsdeploy_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/secrets"
)

func TestDeploy_RejectsBadInputBeforeAnyChange(t *testing.T) {
	tests := []struct {
		name   string
		change func(*ecsdeploy.DeployOptions)
		want   string
	}{
		{"UnknownCluster", func(o *ecsdeploy.DeployOptions) { o.Cluster = "nope" }, `cluster "nope" not found`},
		{"UnknownService", func(o *ecsdeploy.DeployOptions) { o.Service = "nope" }, `service "nope" not found (or not ACTIVE) in cluster "main": check the service name`},
		{"UnknownContainer", func(o *ecsdeploy.DeployOptions) { o.Container = "web" }, `container "web" is not in task definition api:1 (containers: app, sidecar): name one of them`},
		{"MalformedImage", func(o *ecsdeploy.DeployOptions) { o.Image = "Repo/API:latest" }, `image "Repo/API:latest" is malformed`},
		{"ImageWithoutTagOrDigest", func(o *ecsdeploy.DeployOptions) { o.Image = repo }, "neither a tag nor a digest"},
		{"ShortDigest", func(o *ecsdeploy.DeployOptions) { o.Image = repo + "@sha256:abc" }, "the digest is not sha256"},
		{"EmptyCluster", func(o *ecsdeploy.DeployOptions) { o.Cluster = "" }, "cluster is empty"},
		{"BlankMigrateCommand", func(o *ecsdeploy.DeployOptions) { o.MigrateCommand = []string{" ", "migrate"} }, "migrate command starts with an empty word"},
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
	assert.Contains(t, err.Error(), "task definition api:1 has 2 essential containers (app, sidecar): name the one whose image changes")
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

func TestDeploy_RefusesWhenAReferencedSecretIsMissing(t *testing.T) {
	const missing = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/gone-AbCdEf"
	e := newEnvWith(t, awssim.ServiceSpec{}, func(e *env, in *ecs.RegisterTaskDefinitionInput) {
		// A json-key suffix is allowed after the ARN; the secret itself is checked.
		in.ContainerDefinitions[0].Secrets = append(in.ContainerDefinitions[0].Secrets,
			types.Secret{Name: aws.String("API_TOKEN"), ValueFrom: aws.String(missing + ":token::")})
	})
	before := e.mutations()
	_, err := ecsdeploy.Deploy(t.Context(), e.clients, e.opts(imgV2))
	require.Error(t, err)
	var serr *secrets.Error
	require.ErrorAs(t, err, &serr)
	require.Len(t, serr.Problems, 1, "the existing secret passes, the missing one is named")
	assert.Contains(t, err.Error(), `container "app" secret API_TOKEN`)
	assert.Contains(t, err.Error(), "nothing was changed")
	assert.NotContains(t, err.Error(), "postgres://", "secret values never reach errors")
	assert.NotContains(t, e.out.String(), "postgres://", "secret values never reach output")
	assert.Equal(t, before, e.mutations())
}

func TestDeploy_ChecksSecretsWithTheRealClient(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	_, err := ecsdeploy.Deploy(t.Context(), e.clients, e.opts(imgV2))
	require.NoError(t, err)
	assert.Contains(t, e.out.String(), "1 secrets found in Secrets Manager")
	assert.Positive(t, e.sim.Count("secretsmanager", "DescribeSecret"))
	assert.Zero(t, e.sim.Count("secretsmanager", "GetSecretValue"), "values are never read")
}

func TestDeployAndRollback_RefuseServicesWithAnotherDeploymentController(t *testing.T) {
	for _, ctl := range []string{"CODE_DEPLOY", "EXTERNAL"} {
		t.Run(ctl, func(t *testing.T) {
			e := newEnv(t, awssim.ServiceSpec{DeploymentController: ctl})
			before := e.mutations()
			o := e.opts(imgV2)
			o.MigrateCommand = []string{"./app", "migrate"}
			_, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
			require.Error(t, err)
			if ctl == "CODE_DEPLOY" { // deployed through CodeDeploy, once its deployment group is named
				assert.Contains(t, err.Error(), "service api is deployed by AWS CodeDeploy: name its application and deployment group")
			} else {
				assert.Contains(t, err.Error(), "service api uses the "+ctl+" deployment controller")
			}
			assert.Contains(t, err.Error(), "nothing was changed")
			assert.Equal(t, before, e.mutations(), "no revision registered, no migration run")

			_, err = ecsdeploy.Rollback(t.Context(), e.clients, ecsdeploy.RollbackOptions{Cluster: "main", Service: "api", ToRevision: "api:1", Out: e.out})
			require.Error(t, err)
			if ctl == "CODE_DEPLOY" { // rolled back through CodeDeploy, once its deployment group is named
				assert.Contains(t, err.Error(), "service api is deployed by AWS CodeDeploy: name its application and deployment group")
			} else {
				assert.Contains(t, err.Error(), "deployment controller")
			}
			assert.Equal(t, before, e.mutations())
		})
	}
}

func TestDeploy_RefusesWhenTheLiveRevisionCannotBeRolledBackTo(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	_, err := e.ecs.DeregisterTaskDefinition(t.Context(), &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(e.v1)})
	require.NoError(t, err)
	before := e.mutations()
	o := e.opts(imgV2)
	o.MigrateCommand = []string{"./app", "migrate"}
	_, err = ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the live revision api:1 is INACTIVE (deregistered)")
	assert.Contains(t, err.Error(), "nothing was changed")
	assert.Equal(t, before, e.mutations(), "no revision registered, no migration run, the service untouched")
}

func TestDeploy_AnInactiveLiveRevisionStillAllowsANoChangeDeploy(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	_, err := e.ecs.DeregisterTaskDefinition(t.Context(), &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(e.v1)})
	require.NoError(t, err)
	_, err = ecsdeploy.Deploy(t.Context(), e.clients, e.opts(imgV1))
	require.NoError(t, err, "the image already runs: nothing to do, exit 0")
}

// Preflight is what ci/ runs before building and pushing an image: the
// same refusals as Deploy, without an image and without any change.
func TestPreflight_RefusesBadTargetsBeforeAnImageExists(t *testing.T) {
	tests := []struct {
		name   string
		change func(*ecsdeploy.DeployOptions)
		want   string
	}{
		{"UnknownCluster", func(o *ecsdeploy.DeployOptions) { o.Cluster = "nope" }, `cluster "nope" not found`},
		{"UnknownService", func(o *ecsdeploy.DeployOptions) { o.Service = "nope" }, `service "nope" not found`},
		{"UnknownContainer", func(o *ecsdeploy.DeployOptions) { o.Container = "web" }, `container "web" is not in task definition api:1`},
		{"EmptyService", func(o *ecsdeploy.DeployOptions) { o.Service = "" }, "service is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, awssim.ServiceSpec{})
			before := e.mutations()
			o := e.opts("")
			tt.change(&o)
			err := ecsdeploy.Preflight(t.Context(), e.clients, o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, before, e.mutations())
		})
	}

	e := newEnv(t, awssim.ServiceSpec{})
	before := e.mutations()
	require.NoError(t, ecsdeploy.Preflight(t.Context(), e.clients, e.opts("")))
	assert.Contains(t, e.out.String(), "api runs api:1")
	assert.Equal(t, before, e.mutations(), "a passing preflight changes nothing either")
}
