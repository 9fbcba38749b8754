package secrets_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
	"github.com/futuraplataforma/esteira/internal/secrets"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeDescribe answers DescribeSecret with a function.
type fakeDescribe func(id string) (*secretsmanager.DescribeSecretOutput, error)

func (f fakeDescribe) DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return f(aws.ToString(in.SecretId))
}

const arnA = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:a-AbCdEf"

func TestVerify_ExplainsFailuresOtherThanMissing(t *testing.T) {
	deleted := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		api  fakeDescribe
		want string
	}{
		{"access denied", func(string) (*secretsmanager.DescribeSecretOutput, error) {
			return nil, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized"}
		}, "grant secretsmanager:DescribeSecret"},
		{"scheduled for deletion", func(string) (*secretsmanager.DescribeSecretOutput, error) {
			return &secretsmanager.DescribeSecretOutput{DeletedDate: &deleted}, nil
		}, "scheduled for deletion on 2026-12-01T00:00:00Z: restore it"},
		{"unknown version id", func(string) (*secretsmanager.DescribeSecretOutput, error) {
			return &secretsmanager.DescribeSecretOutput{VersionIdsToStages: map[string][]string{"v1": {"AWSCURRENT"}}}, nil
		}, "no version id v9"},
		{"throttled", func(string) (*secretsmanager.DescribeSecretOutput, error) {
			return nil, errors.New("rate exceeded")
		}, "describe secret: rate exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			valueFrom := arnA
			if tt.name == "unknown version id" {
				valueFrom += "::AWSCURRENT:v9"
			}
			_, err := secrets.Verify(context.Background(), tt.api, nil, []secrets.Reference{{Container: "app", Name: "A", ValueFrom: valueFrom}})
			require.Error(t, err)
			assert.Contains(t, err.Error(), `container "app" secret A`)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestVerify_StopsWhenTheContextIsCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	api := fakeDescribe(func(string) (*secretsmanager.DescribeSecretOutput, error) {
		return &secretsmanager.DescribeSecretOutput{}, nil
	})
	_, err := secrets.Verify(ctx, api, nil, []secrets.Reference{{ValueFrom: arnA}})
	require.ErrorIs(t, err, context.Canceled)
}

func TestVerify_NeedsAClientOnlyForSecretsManagerReferences(t *testing.T) {
	report, err := secrets.Verify(context.Background(), nil, nil, []secrets.Reference{{ValueFrom: "/prod/param"}})
	require.NoError(t, err)
	assert.Len(t, report.NotChecked, 1)

	_, err = secrets.Verify(context.Background(), nil, nil, []secrets.Reference{{ValueFrom: arnA}})
	assert.ErrorContains(t, err, "no Secrets Manager client given")
}
