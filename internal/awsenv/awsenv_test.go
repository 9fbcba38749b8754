package awsenv_test

import (
	"context"
	"testing"

	"github.com/futuraplataforma/esteira/internal/awsenv"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidate_NamesTheBadArgument(t *testing.T) {
	good := awsenv.Options{Region: "eu-west-1"}
	tests := []struct {
		name string
		edit func(o *awsenv.Options)
		want string
	}{
		{"empty region", func(o *awsenv.Options) { o.Region = "" }, "--region"},
		{"malformed region", func(o *awsenv.Options) { o.Region = "Europe" }, `region "Europe"`},
		{"region with a zone letter", func(o *awsenv.Options) { o.Region = "eu-west-1a" }, `region "eu-west-1a"`},
		{"endpoint without scheme", func(o *awsenv.Options) { o.Endpoint = "127.0.0.1:4566" }, "--endpoint"},
		{"key without secret", func(o *awsenv.Options) { o.AccessKeyID = "AKIA" }, "--aws-secret-access-key"},
		{"token without keys", func(o *awsenv.Options) { o.SessionToken = "tok" }, "--aws-session-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := good
			tt.edit(&o)
			err := o.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	for _, r := range []string{"us-east-1", "ap-southeast-3", "us-gov-west-1", "eu-central-2"} {
		assert.NoError(t, awsenv.Options{Region: r}.Validate(), r)
	}
}

func TestLoad_UsesEndpointAndStaticCredentials(t *testing.T) {
	sim := awssim.New(awssim.DefaultOptions())
	url := sim.Start(t)
	o := sim.Options()
	ctx := context.Background()

	cfg, err := awsenv.Load(ctx, awsenv.Options{Region: o.Region, Endpoint: url, AccessKeyID: o.AccessKeyID, SecretAccessKey: o.SecretAccessKey})
	require.NoError(t, err)
	arn, err := awsenv.Identity(ctx, cfg)
	require.NoError(t, err)
	assert.Contains(t, arn, o.AccountID)

	cfg, err = awsenv.Load(ctx, awsenv.Options{Region: o.Region, Endpoint: url, AccessKeyID: o.AccessKeyID, SecretAccessKey: "not-the-secret"})
	require.NoError(t, err)
	_, err = awsenv.Identity(ctx, cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sts:GetCallerIdentity")
	assert.NotContains(t, err.Error(), "not-the-secret")
}
