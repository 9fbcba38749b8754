package ecsdeploy

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseImage_AcceptsTheThreeShapesAndNamesTheProblem(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	tests := []struct {
		in      string
		want    imageRef
		wantErr string
	}{
		{in: "123.dkr.ecr.eu-west-1.amazonaws.com/team/api@" + digest, want: imageRef{Repo: "123.dkr.ecr.eu-west-1.amazonaws.com/team/api", Digest: digest}},
		{in: "localhost:5000/api:v1.2@" + digest, want: imageRef{Repo: "localhost:5000/api", Tag: "v1.2", Digest: digest}},
		{in: "localhost:5000/api:latest", want: imageRef{Repo: "localhost:5000/api", Tag: "latest"}},
		{in: "", wantErr: "it is empty"},
		{in: "localhost:5000/api", wantErr: "neither a tag nor a digest"},
		{in: "api@sha256:XYZ", wantErr: "the digest is not sha256"},
		{in: "api:bad tag", wantErr: "the tag has characters"},
		{in: "API:v1", wantErr: "lower-case"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseImage(tt.in)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Contains(t, err.Error(), "repo@sha256:<64 hex>", "the error says what to give")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestSameImage_NeedsTheSameRepositoryAndDigest(t *testing.T) {
	d1, d2 := "sha256:"+strings.Repeat("1", 64), "sha256:"+strings.Repeat("2", 64)
	assert.True(t, sameImage("r/api:v1@"+d1, "r/api@"+d1))
	assert.False(t, sameImage("r/api@"+d1, "r/api@"+d2))
	assert.False(t, sameImage("r/api@"+d1, "r/other@"+d1))
	assert.False(t, sameImage("r/api:v1", "r/api:v1"), "a tag can move: never proven the same")
}

func TestRegisterInput_DropsReadOnlyFieldsAndReservedTags(t *testing.T) {
	td := &types.TaskDefinition{
		Family: aws.String("api"), TaskDefinitionArn: aws.String("arn:aws:ecs:r:1:task-definition/api:7"), Revision: 7,
		Status: types.TaskDefinitionStatusActive, RequiresAttributes: []types.Attribute{{Name: aws.String("ecs.capability.secrets")}},
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("old")}, {Name: aws.String("side"), Image: aws.String("agent")}},
	}
	in := registerInput(td, []types.Tag{{Key: aws.String("team"), Value: aws.String("x")}, {Key: aws.String("aws:cloudformation:stack-name"), Value: aws.String("s")}}, "app", "new")
	assert.Equal(t, "new", aws.ToString(in.ContainerDefinitions[0].Image))
	assert.Equal(t, "agent", aws.ToString(in.ContainerDefinitions[1].Image))
	assert.Equal(t, "old", aws.ToString(td.ContainerDefinitions[0].Image), "the live definition is not modified")
	assert.Equal(t, []types.Tag{{Key: aws.String("team"), Value: aws.String("x")}}, in.Tags)
}
