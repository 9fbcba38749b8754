package secrets_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/secrets"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const dbValue = "postgres://app:hunter2@db.internal/app"

// newSim returns a simulator holding two secrets, a real client for it and the secrets' ARNs.
func newSim(t *testing.T) (*awssim.Server, *secretsmanager.Client, string, string) {
	t.Helper()
	sim := awssim.New(awssim.DefaultOptions())
	url := sim.Start(t)
	o := sim.Options()
	client := secretsmanager.New(secretsmanager.Options{
		Region: o.Region, BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, ""),
	})
	return sim, client, sim.Secrets.Put("prod/db-url", dbValue), sim.Secrets.Put("prod/api-keys", `{"stripe":"sk_live_x"}`)
}

func TestVerify_PassesWhenEverySecretExistsAndListsParametersAsNotChecked(t *testing.T) {
	sim, client, dbARN, keysARN := newSim(t)
	refs := []secrets.Reference{
		{Container: "app", Name: "DB_URL", ValueFrom: dbARN},
		{Container: "app", Name: "DB_URL_PARTIAL", ValueFrom: dbARN[:len(dbARN)-7]},
		{Container: "app", Name: "STRIPE_KEY", ValueFrom: keysARN + ":stripe:AWSCURRENT:"},
		{Container: "app", Name: "STRIPE_KEY_AGAIN", ValueFrom: keysARN + ":stripe::"},
		{Container: "app", Name: "TOKEN", ValueFrom: "/prod/token"},
		{Container: "worker", Name: "OTHER", ValueFrom: "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/other"},
	}
	report, err := secrets.Verify(t.Context(), client, nil, refs)
	require.NoError(t, err)
	assert.Equal(t, refs[:4], report.Checked)
	assert.Equal(t, refs[4:], report.NotChecked)
	assert.Equal(t, "4 secrets found in Secrets Manager; 2 not checked (SSM Parameter Store): /prod/token, "+
		"arn:aws:ssm:eu-west-1:123456789012:parameter/prod/other", report.Summary())
	assert.Equal(t, 3, sim.Count("secretsmanager", "DescribeSecret"), "each distinct secret is described once")
	assert.Zero(t, sim.Count("secretsmanager", "GetSecretValue"), "values are never fetched")
}

func TestVerify_NamesEveryMissingSecretWithItsContainerAndField(t *testing.T) {
	sim, client, dbARN, _ := newSim(t)
	missing := "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/gone-AbCdEf"
	wrongSuffix := dbARN[:len(dbARN)-6] + "zzzzzz"
	refs := []secrets.Reference{
		{Container: "app", Name: "DB_URL", ValueFrom: dbARN},
		{Container: "app", Name: "GONE", ValueFrom: missing + ":password::"},
		{Container: "worker", Name: "DB_URL", ValueFrom: wrongSuffix},
		{Container: "worker", Name: "OLD", ValueFrom: dbARN + "::AWSPREVIOUS:"},
	}
	report, err := secrets.Verify(t.Context(), client, nil, refs)
	require.Error(t, err)
	var serr *secrets.Error
	require.ErrorAs(t, err, &serr)
	require.Len(t, serr.Problems, 3)
	assert.Equal(t, []string{missing, wrongSuffix, dbARN}, []string{serr.Problems[0].SecretID, serr.Problems[1].SecretID, serr.Problems[2].SecretID})
	msg := err.Error()
	assert.Contains(t, msg, "3 of 4 secret references")
	assert.Contains(t, msg, `container "app" secret GONE (`+missing+`:password::): Secrets Manager can't find this secret`)
	assert.Contains(t, msg, `container "worker" secret DB_URL (`+wrongSuffix+`)`)
	assert.Contains(t, msg, `container "worker" secret OLD`)
	assert.Contains(t, msg, "no version labelled AWSPREVIOUS")
	assert.Contains(t, msg, "nothing was changed")
	assert.Contains(t, msg, "create the missing secrets")
	assert.NotContains(t, msg, "hunter2", "secret values never reach errors")
	assert.Equal(t, refs[:1], report.Checked)
	assert.Zero(t, sim.Count("secretsmanager", "GetSecretValue"))
}

func TestCheck_NamesTheFieldByPositionWhenOnlyValuesAreGiven(t *testing.T) {
	_, client, dbARN, _ := newSim(t)
	err := secrets.Check(t.Context(), client, []string{dbARN, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:nope-AAAAAA", ""})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "secrets[1].valueFrom (arn:aws:secretsmanager:eu-west-1:123456789012:secret:nope-AAAAAA)")
	assert.Contains(t, err.Error(), "secrets[2].valueFrom (): invalid valueFrom: valueFrom is empty")

	require.NoError(t, secrets.Check(t.Context(), client, []string{dbARN, "/prod/param"}))
	require.NoError(t, secrets.Check(t.Context(), client, nil))
}

func TestCheck_RejectsValueFromsThatAreNotSecretsOrParameters(t *testing.T) {
	tests := []struct{ valueFrom, want string }{
		{"arn:aws:s3:::bucket/key", "neither a Secrets Manager secret ARN nor an SSM parameter"},
		{"arn:aws:secretsmanager:eu-west-1:123456789012:rotation:x", "is not a Secrets Manager secret ARN"},
		{"arn:aws:secretsmanager", "not a complete ARN"},
		{"arn:aws:secretsmanager:eu-west-1:123456789012:secret:n-AbCdEf:k:s:v:extra", "more than json-key:version-stage:version-id"},
	}
	for _, tt := range tests {
		t.Run(tt.valueFrom, func(t *testing.T) {
			err := secrets.Check(context.Background(), nil, []string{tt.valueFrom})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestVerify_WithParameterStoreNamesEveryMissingParameterAndNeverDecrypts(t *testing.T) {
	sim, client, dbARN, _ := newSim(t)
	sim.Parameters.Put("/prod/token", "tok-value", true)
	params := ssm.New(ssm.Options{
		Region: sim.Options().Region, BaseEndpoint: client.Options().BaseEndpoint,
		Credentials: credentials.NewStaticCredentialsProvider(sim.Options().AccessKeyID, sim.Options().SecretAccessKey, ""),
	})
	refs := []secrets.Reference{
		{Container: "app", Name: "DB_URL", ValueFrom: dbARN},
		{Container: "app", Name: "TOKEN", ValueFrom: "/prod/token"},
		{Container: "app", Name: "TOKEN_BY_ARN", ValueFrom: "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/token"},
		{Container: "worker", Name: "GONE", ValueFrom: "/prod/gone"},
	}
	for i := range 11 { // more than one GetParameters call takes
		refs = append(refs, secrets.Reference{Container: "worker", Name: fmt.Sprintf("T%d", i), ValueFrom: "/prod/token"})
	}
	report, err := secrets.Verify(t.Context(), client, params, refs)
	var e *secrets.Error
	require.ErrorAs(t, err, &e)
	require.Len(t, e.Problems, 1)
	assert.Equal(t, "GONE", e.Problems[0].Ref.Name)
	assert.Contains(t, err.Error(), `container "worker" secret GONE (/prod/gone): Parameter Store has no such parameter`)
	assert.Len(t, report.Parameters, 13)
	assert.Empty(t, report.NotChecked)
	assert.NotContains(t, err.Error(), "tok-value")
	for _, r := range sim.Requests() {
		if r.Operation == "GetParameters" {
			assert.NotContains(t, string(r.Body), `"WithDecryption":true`, "values are never decrypted")
		}
	}
	assert.Equal(t, 2, sim.Count("ssm", "GetParameters"), "ten names a call")
}
