package ecsdeploy_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/setting"
)

func str(s string) *string { return &s }

// withParameters gives the engine a Parameter Store client on the simulator.
func (e *env) withParameters(t *testing.T) {
	t.Helper()
	c := e.ecs.Options()
	e.clients.Parameters = ssm.New(ssm.Options{Region: c.Region, BaseEndpoint: c.BaseEndpoint, Credentials: c.Credentials})
}

func envOf(c types.ContainerDefinition) map[string]string {
	m := map[string]string{}
	for _, kv := range c.Environment {
		m[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
	}
	return m
}

func secretsOf(c types.ContainerDefinition) map[string]string {
	m := map[string]string{}
	for _, s := range c.Secrets {
		m[aws.ToString(s.Name)] = aws.ToString(s.ValueFrom)
	}
	return m
}

func TestDeploy_AddsAnEnvironmentVariableAndASecretPrintingTheDiffFirst(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	e.withParameters(t)
	e.sim.Parameters.Put("/prod/api/token", "tok-value", true)
	o := e.opts(imgV2)
	o.Definitions = map[string]ecsdeploy.Definition{"api": {Memory: "2048", Containers: map[string]ecsdeploy.ContainerChange{
		"": {Environment: map[string]*string{"FEATURE_X": str("on")}, Secrets: map[string]*string{"API_TOKEN": str("/prod/api/token")}},
	}}}
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)

	td, _ := e.taskDef(t, aws.ToString(e.service(t).TaskDefinition))
	app := td.ContainerDefinitions[0]
	assert.Equal(t, map[string]string{"PORT": "8080", "FEATURE_X": "on"}, envOf(app), "merged: the live PORT is kept")
	assert.Equal(t, "/prod/api/token", secretsOf(app)["API_TOKEN"])
	assert.Contains(t, secretsOf(app), "DB_URL", "the live secret is kept")
	assert.Equal(t, "2048", aws.ToString(td.Memory))

	out := e.out.String()
	diff := strings.Index(out, "==> diff")
	require.GreaterOrEqual(t, diff, 0, "the diff is printed")
	assert.Less(t, diff, strings.Index(out, "==> register"), "before any change")
	for _, want := range []string{"container app: environment FEATURE_X: (none) -> on", "container app: secret API_TOKEN: (none) -> /prod/api/token", "memory: 1024 -> 2048"} {
		assert.Contains(t, rec.Backend.Changes, want, "the record keeps what changed")
	}
	// The output's redactor masks what follows a credential-like name, even "(none)".
	for _, want := range []string{"container app: environment FEATURE_X: (none) -> on", "container app: secret API_TOKEN:", "-> /prod/api/token", "memory: 1024 -> 2048"} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "tok-value", "a secret's value is never read")
}

func TestDeploy_RolloutFailureGoesBackToTheOldRevisionWithTheOldEnvironment(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	e.failRevisionsOtherThan(e.v1, awssim.TaskBehavior{Unhealthy: true})
	o := e.opts(imgV2)
	o.Definitions = map[string]ecsdeploy.Definition{"api": {Containers: map[string]ecsdeploy.ContainerChange{
		"": {Environment: map[string]*string{"FEATURE_X": str("on"), "PORT": nil}},
	}}}
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	assert.Equal(t, release.OutcomeRolledBack, rec.Outcome)
	assert.Equal(t, e.v1, aws.ToString(e.service(t).TaskDefinition))
	td, _ := e.taskDef(t, e.v1)
	assert.Equal(t, map[string]string{"PORT": "8080"}, envOf(td.ContainerDefinitions[0]))
	assert.Contains(t, rec.Backend.Changes, "container app: environment PORT: 8080 -> (none)", "a nil value removes the variable")
}

func TestDeploy_RefusesAnUnknownSecretOrContainerBeforeAnyChange(t *testing.T) {
	for name, def := range map[string]ecsdeploy.Definition{
		"UnknownParameter": {Containers: map[string]ecsdeploy.ContainerChange{"": {Secrets: map[string]*string{"TOKEN": str("/prod/nope")}}}},
		"UnknownSecret": {Containers: map[string]ecsdeploy.ContainerChange{"": {Secrets: map[string]*string{
			"KEY": str("arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/nope-AbCdEf")}}}},
		"UnknownContainer": {Containers: map[string]ecsdeploy.ContainerChange{"log-router": {Image: ecsdeploy.ReleaseImage}}},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, awssim.ServiceSpec{})
			e.withParameters(t)
			o := e.opts(imgV2)
			o.Definitions = map[string]ecsdeploy.Definition{"api": def}
			before := e.mutations()
			_, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
			require.Error(t, err)
			assert.Equal(t, before, e.mutations(), "nothing was changed")
			if name == "UnknownContainer" {
				assert.Contains(t, err.Error(), `container "log-router" is not in task definition api (containers: app, sidecar)`)
				assert.Equal(t, []string{"Definition"}, setting.Names(err))
				return
			}
			assert.Contains(t, err.Error(), "nope")
		})
	}
}

func TestDeploy_GivesASidecarTheReleasesImage(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	o := e.opts(imgV2)
	o.Definitions = map[string]ecsdeploy.Definition{"api": {Containers: map[string]ecsdeploy.ContainerChange{"sidecar": {Image: ecsdeploy.ReleaseImage}}}}
	_, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	td, _ := e.taskDef(t, aws.ToString(e.service(t).TaskDefinition))
	assert.Equal(t, imgV2, aws.ToString(td.ContainerDefinitions[0].Image))
	assert.Equal(t, imgV2, aws.ToString(td.ContainerDefinitions[1].Image))
}

func TestDeploy_SameImageAndDefinitionIsANoOpAndADefinitionChangeIsNot(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	o := e.opts(imgV1)
	o.Definitions = map[string]ecsdeploy.Definition{"api": {Containers: map[string]ecsdeploy.ContainerChange{"": {Environment: map[string]*string{"PORT": str("8080")}}}}}
	before := e.mutations()
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	assert.Equal(t, release.OutcomeNoChange, rec.Outcome, "PORT is already 8080")
	assert.Equal(t, before, e.mutations())

	o.Definitions["api"].Containers[""].Environment["PORT"] = str("9090")
	rec, err = ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	assert.Equal(t, release.OutcomeSucceeded, rec.Outcome, "the same image with another environment is a release")
	assert.Equal(t, []string{"container app: environment PORT: 8080 -> 9090"}, rec.Backend.Changes)
}

const fileDef = `{
  "family": "api",
  "networkMode": "awsvpc",
  "requiresCompatibilities": ["FARGATE"],
  "cpu": "256",
  "memory": "512",
  "executionRoleArn": "arn:aws:iam::123456789012:role/api-exec",
  "containerDefinitions": [
    {"name": "app", "image": "{{image}}", "essential": true,
     "portMappings": [{"containerPort": 8080}],
     "environment": [{"name": "FROM_FILE", "value": "yes"}]}
  ]
}`

func TestDeploy_RegistersADefinitionFileAsItIs(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	o := e.opts(imgV2)
	o.Definitions = map[string]ecsdeploy.Definition{"api": {File: []byte(fileDef), FileName: "deploy/api.json"}}
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	td, _ := e.taskDef(t, aws.ToString(e.service(t).TaskDefinition))
	require.Len(t, td.ContainerDefinitions, 1, "the sidecar the file does not have is gone")
	assert.Equal(t, imgV2, aws.ToString(td.ContainerDefinitions[0].Image))
	assert.Equal(t, map[string]string{"FROM_FILE": "yes"}, envOf(td.ContainerDefinitions[0]))
	assert.Equal(t, "256", aws.ToString(td.Cpu))
	assert.Contains(t, rec.Backend.Changes, "container sidecar: (image public.ecr.aws/datadog/agent:7) -> (none)")
}

func TestDeploy_RefusesABadDefinitionFileWithItsLine(t *testing.T) {
	tests := map[string]struct{ file, want string }{
		"UnknownField":       {strings.Replace(fileDef, `"cpu"`, `"cpus"`, 1), `deploy/api.json: json: unknown field "cpus"`},
		"BadType":            {strings.Replace(fileDef, `"essential": true`, `"essential": "yes"`, 1), "deploy/api.json:9:"},
		"UnknownPlaceholder": {strings.Replace(fileDef, `"yes"`, `"{{tag}}"`, 1), "deploy/api.json:11: unknown placeholder {{tag}}"},
		"OtherFamily":        {strings.Replace(fileDef, `"family": "api"`, `"family": "web"`, 1), "is of family web, but the service runs family api"},
		"ImageNotTheRelease": {strings.Replace(fileDef, `{{image}}`, `nginx`, 1), `container "app" must have "image": "{{image}}"`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, awssim.ServiceSpec{})
			o := e.opts(imgV2)
			o.Definitions = map[string]ecsdeploy.Definition{"api": {File: []byte(tt.file), FileName: "deploy/api.json"}}
			before := e.mutations()
			_, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, before, e.mutations(), "nothing was changed")
		})
	}
}
