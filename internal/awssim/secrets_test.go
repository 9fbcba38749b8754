package awssim_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newSecretsClient(t *testing.T) (*awssim.Server, *secretsmanager.Client) {
	t.Helper()
	sim := awssim.New(awssim.DefaultOptions())
	url := sim.Start(t)
	o := sim.Options()
	return sim, secretsmanager.New(secretsmanager.Options{
		Region: o.Region, BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, ""),
	})
}

func TestSecrets_PutReturnsAnARNWithSixRandomCharacters(t *testing.T) {
	sim, _ := newSecretsClient(t)
	arn := sim.Secrets.Put("prod/db-url", "postgres://u:p@db/app")
	assert.Regexp(t, `^arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-url-[A-Za-z0-9]{6}$`, arn)
	assert.Equal(t, arn, sim.Secrets.Put("prod/db-url", "postgres://u:p2@db/app"), "a new value keeps the ARN")
	assert.Equal(t, arn, sim.Secrets.ARN("prod/db-url"))
	assert.Empty(t, sim.Secrets.ARN("prod/other"))
}

func TestSecrets_DescribeFindsBySecretIdFormsAWSAccepts(t *testing.T) {
	sim, client := newSecretsClient(t)
	arn := sim.Secrets.Put("prod/db-url", "postgres://u:p@db/app")
	tests := []struct{ name, id string }{
		{"name", "prod/db-url"},
		{"full ARN", arn},
		{"partial ARN without the random suffix", strings.TrimSuffix(arn, arn[len(arn)-7:])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := client.DescribeSecret(t.Context(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(tt.id)})
			require.NoError(t, err)
			assert.Equal(t, arn, aws.ToString(out.ARN))
			assert.Equal(t, "prod/db-url", aws.ToString(out.Name))
			require.NotNil(t, out.CreatedDate)
			assert.False(t, out.CreatedDate.IsZero())
			require.Len(t, out.VersionIdsToStages, 1)
		})
	}
}

func TestSecrets_UnknownSecretIsResourceNotFound(t *testing.T) {
	sim, client := newSecretsClient(t)
	arn := sim.Secrets.Put("prod/db-url", "x")
	for _, id := range []string{
		"prod/missing",
		arn[:len(arn)-6] + "zzzzzz", // right name, wrong suffix
		strings.Replace(arn, "eu-west-1", "us-east-1", 1),
		"prod/db", // a prefix of a name is not a name
	} {
		_, err := client.DescribeSecret(t.Context(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
		var nf *smtypes.ResourceNotFoundException
		require.True(t, errors.As(err, &nf), "%s: got %v", id, err)
		assert.Equal(t, "Secrets Manager can't find the specified secret.", nf.ErrorMessage())
	}
}

func TestSecrets_CreateThenGetValueRoundTrips(t *testing.T) {
	_, client := newSecretsClient(t)
	ctx := t.Context()
	created, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("app/api-key"), SecretString: aws.String(`{"key":"s3cr3t"}`), Description: aws.String("API key"),
	})
	require.NoError(t, err)
	got, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: created.ARN})
	require.NoError(t, err)
	assert.Equal(t, `{"key":"s3cr3t"}`, aws.ToString(got.SecretString))
	assert.Equal(t, aws.ToString(created.VersionId), aws.ToString(got.VersionId))
	assert.Equal(t, []string{"AWSCURRENT"}, got.VersionStages)

	bin, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("app/cert"), SecretBinary: []byte{0, 1, 2}})
	require.NoError(t, err)
	got, err = client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: bin.Name})
	require.NoError(t, err)
	assert.Equal(t, []byte{0, 1, 2}, got.SecretBinary)
	assert.Nil(t, got.SecretString)

	_, err = client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: bin.Name, VersionStage: aws.String("AWSPREVIOUS")})
	var nf *smtypes.ResourceNotFoundException
	assert.ErrorAs(t, err, &nf)
}

func TestSecrets_CreateRefusesDuplicatesAndBadNames(t *testing.T) {
	sim, client := newSecretsClient(t)
	sim.Secrets.Put("taken", "x")
	_, err := client.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{Name: aws.String("taken"), SecretString: aws.String("y")})
	var exists *smtypes.ResourceExistsException
	assert.ErrorAs(t, err, &exists)

	_, err = client.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{Name: aws.String("bad name!"), SecretString: aws.String("y")})
	var invalid *smtypes.InvalidParameterException
	assert.ErrorAs(t, err, &invalid)
}

func TestSecrets_ListSecretsPagesThroughEverySecret(t *testing.T) {
	sim, client := newSecretsClient(t)
	want := map[string]bool{}
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		want[sim.Secrets.Put("prod/"+n, n)] = true
	}
	sim.Secrets.Put("staging/x", "x")

	got := map[string]bool{}
	pages := 0
	p := secretsmanager.NewListSecretsPaginator(client, &secretsmanager.ListSecretsInput{
		MaxResults: aws.Int32(2), Filters: []smtypes.Filter{{Key: smtypes.FilterNameStringTypeName, Values: []string{"prod/"}}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		require.NoError(t, err)
		pages++
		for _, e := range page.SecretList {
			got[aws.ToString(e.ARN)] = true
		}
	}
	assert.Equal(t, want, got)
	assert.Equal(t, 3, pages)

	_, err := client.ListSecrets(t.Context(), &secretsmanager.ListSecretsInput{NextToken: aws.String("garbage")})
	var bad *smtypes.InvalidNextTokenException
	assert.ErrorAs(t, err, &bad)
}
