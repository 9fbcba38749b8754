package ecsdeploy

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stretchr/testify/assert"
)

func TestDiffTaskDef_ListsEveryChangedFieldAndHidesCredentials(t *testing.T) {
	live := &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("api"), Cpu: aws.String("512"), Memory: aws.String("1024"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("repo:v1"), Command: []string{"serve", "--token", "oldvalue1"},
			Environment: []types.KeyValuePair{
				{Name: aws.String("PORT"), Value: aws.String("8080")},
				{Name: aws.String("OLD"), Value: aws.String("x")},
				{Name: aws.String("DB_PASSWORD"), Value: aws.String("hunter22")},
			},
			Secrets: []types.Secret{{Name: aws.String("DB_URL"), ValueFrom: aws.String("arn:secret:db-1")}},
			Memory:  aws.Int32(256),
		}, {Name: aws.String("gone"), Image: aws.String("old:1")}},
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}},
	}
	next := &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("api"), Cpu: aws.String("1024"), Memory: aws.String("1024"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("repo:v2"), Command: []string{"serve", "--token", "s3cr3tvalue"},
			Environment: []types.KeyValuePair{
				{Name: aws.String("PORT"), Value: aws.String("9090")},
				{Name: aws.String("NEW"), Value: aws.String("postgres://u:pw1234@db/app")},
				{Name: aws.String("DB_PASSWORD"), Value: aws.String("hunter23")},
			},
			Secrets: []types.Secret{{Name: aws.String("DB_URL"), ValueFrom: aws.String("arn:secret:db-2")}},
			Memory:  aws.Int32(256),
		}, {Name: aws.String("sidecar"), Image: aws.String("agent:7")}},
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("b")}},
	}
	got := diffTaskDef(live, next, nil)
	assert.Equal(t, []FieldChange{
		{Field: "cpu", Before: "512", After: "1024"},
		{Field: "tag team", Before: "a", After: "b"},
		{Field: "container app: command", Before: `["serve","--token","<redacted>"]`, After: `["serve","--token","<redacted>"]`},
		{Field: "container app: image", Before: "repo:v1", After: "repo:v2"},
		{Field: "container app: environment DB_PASSWORD", Before: "<redacted>", After: "<redacted>"},
		{Field: "container app: environment NEW", After: "postgres://u:<redacted>@db/app"},
		{Field: "container app: environment OLD", Before: "x"},
		{Field: "container app: environment PORT", Before: "8080", After: "9090"},
		{Field: "container app: secret DB_URL", Before: "arn:secret:db-1", After: "arn:secret:db-2"},
		{Field: "container sidecar", After: "(added, image agent:7)"},
		{Field: "container gone", Before: "(image old:1)"},
	}, got)
	assert.Empty(t, diffTaskDef(live, live, nil), "an identical revision has no changes")
}
