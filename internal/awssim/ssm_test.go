package awssim_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newSSMClient(t *testing.T) (*awssim.Server, *ssm.Client) {
	t.Helper()
	sim := awssim.New(awssim.DefaultOptions())
	url := sim.Start(t)
	o := sim.Options()
	return sim, ssm.New(ssm.Options{
		Region: o.Region, BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, ""),
	})
}

func TestParameters_GetParametersFindsByNameVersionAndARNAndListsTheRestAsInvalid(t *testing.T) {
	sim, client := newSSMClient(t)
	arn := sim.Parameters.Put("/prod/api/token", "s3cr3t", true)
	assert.Equal(t, "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/api/token", arn)
	sim.Parameters.Put("LOG_LEVEL", "info", false)

	out, err := client.GetParameters(t.Context(), &ssm.GetParametersInput{
		Names: []string{"/prod/api/token", arn, "LOG_LEVEL:1", "/prod/missing", "LOG_LEVEL:7"},
	})
	require.NoError(t, err)
	require.Len(t, out.Parameters, 3)
	assert.Equal(t, []string{"/prod/missing", "LOG_LEVEL:7"}, out.InvalidParameters)
	assert.Equal(t, ssmtypes.ParameterTypeSecureString, out.Parameters[0].Type)
	assert.NotContains(t, aws.ToString(out.Parameters[0].Value), "s3cr3t", "a SecureString is not decrypted unless asked")
	assert.Equal(t, "/prod/api/token", aws.ToString(out.Parameters[1].Name), "found by ARN")
	assert.Equal(t, ":1", aws.ToString(out.Parameters[2].Selector))
	assert.Equal(t, int64(1), out.Parameters[2].Version)
}

func TestParameters_PutParameterRefusesToOverwriteUnlessAsked(t *testing.T) {
	_, client := newSSMClient(t)
	put := func(overwrite bool) error {
		_, err := client.PutParameter(t.Context(), &ssm.PutParameterInput{
			Name: aws.String("/prod/url"), Value: aws.String("https://x"), Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(overwrite),
		})
		return err
	}
	require.NoError(t, put(false))
	var exists *ssmtypes.ParameterAlreadyExists
	require.True(t, errors.As(put(false), &exists))
	require.NoError(t, put(true))
	out, err := client.GetParameters(t.Context(), &ssm.GetParametersInput{Names: []string{"/prod/url"}})
	require.NoError(t, err)
	assert.Equal(t, int64(2), out.Parameters[0].Version)
}

func TestParameters_GetParametersTakesOneToTenNames(t *testing.T) {
	_, client := newSSMClient(t)
	names := make([]string, 11)
	for i := range names {
		names[i] = "p"
	}
	_, err := client.GetParameters(t.Context(), &ssm.GetParametersInput{Names: names})
	var apiErr smithy.APIError
	require.True(t, errors.As(err, &apiErr))
	assert.Equal(t, "ValidationException", apiErr.ErrorCode())
}
