package awsenv_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/futuraplataforma/esteira/internal/awsenv"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/setting"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidate_NamesTheBadArgument(t *testing.T) {
	good := awsenv.Options{Region: "eu-west-1"}
	tests := []struct {
		name string
		edit func(o *awsenv.Options)
		want string
		set  string
	}{
		{"empty region", func(o *awsenv.Options) { o.Region = "" }, "region is empty", "Region"},
		{"malformed region", func(o *awsenv.Options) { o.Region = "Europe" }, `region "Europe"`, "Region"},
		{"region with a zone letter", func(o *awsenv.Options) { o.Region = "eu-west-1a" }, `region "eu-west-1a"`, "Region"},
		{"endpoint without scheme", func(o *awsenv.Options) { o.Endpoint = "127.0.0.1:4566" }, `AWS endpoint "127.0.0.1:4566"`, "Endpoint"},
		{"S3 endpoint without scheme", func(o *awsenv.Options) { o.S3Endpoint = "minio:9000" }, `S3 endpoint "minio:9000"`, "S3Endpoint"},
		{"key without secret", func(o *awsenv.Options) { o.AccessKeyID = "AKIA" }, "secret access key", "SecretAccessKey"},
		{"secret without key", func(o *awsenv.Options) { o.SecretAccessKey = "s" }, "access key ID", "AccessKeyID"},
		{"token without keys", func(o *awsenv.Options) { o.SessionToken = "tok" }, "session token", "AccessKeyID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := good
			tt.edit(&o)
			err := o.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, []string{tt.set}, setting.Names(err), "the setting to fix, for the caller to name its flag")
			assert.NotContains(t, err.Error(), "--", "an engine error names no command-line flag")
		})
	}
	for _, r := range []string{"us-east-1", "ap-southeast-3", "us-gov-west-1", "eu-central-2", "eusc-de-east-1", "us-isob-east-1", "cn-northwest-1"} {
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

func TestIdentity_RefusedCredentialsNameTheSettingToFix(t *testing.T) {
	sim := awssim.New(awssim.DefaultOptions())
	url := sim.Start(t)
	o := sim.Options()
	tests := []struct {
		name  string
		opts  awsenv.Options
		want  string
		set   []string
		leaks string
	}{
		{"wrong secret key", awsenv.Options{Region: o.Region, Endpoint: url, AccessKeyID: o.AccessKeyID, SecretAccessKey: "not-the-secret"},
			"check the secret access key", []string{"SecretAccessKey"}, "not-the-secret"},
		{"unknown access key", awsenv.Options{Region: o.Region, Endpoint: url, AccessKeyID: "AKIAUNKNOWN000000000", SecretAccessKey: o.SecretAccessKey},
			"AWS does not know the access key ID given", []string{"AccessKeyID", "SessionToken"}, o.SecretAccessKey},
		{"region the account does not answer for", awsenv.Options{Region: "us-east-1", Endpoint: url, AccessKeyID: o.AccessKeyID, SecretAccessKey: o.SecretAccessKey},
			"check the region", []string{"Region"}, o.SecretAccessKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := awsenv.Load(context.Background(), tt.opts)
			require.NoError(t, err)
			_, err = awsenv.Identity(context.Background(), cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, tt.set, setting.Names(err))
			assert.Contains(t, err.Error(), "nothing was changed")
			assert.NotContains(t, err.Error(), tt.leaks)
		})
	}
}

func TestIdentity_NoCredentialsAnywhereNamesTheKeysToGive(t *testing.T) {
	sim := awssim.New(awssim.DefaultOptions())
	url := sim.Start(t)
	for _, env := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		t.Setenv(env, "")
	}
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")

	cfg, err := awsenv.Load(context.Background(), awsenv.Options{Region: sim.Options().Region, Endpoint: url})
	require.NoError(t, err)
	_, err = awsenv.Identity(context.Background(), cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "give an access key ID and a secret access key")
	assert.Equal(t, []string{"AccessKeyID", "SecretAccessKey"}, setting.Names(err))
	assert.Zero(t, sim.Count("sts", "GetCallerIdentity"), "no credentials: nothing is sent")
}

func TestOptions_PrintingNeverShowsTheSecretKeyOrSessionToken(t *testing.T) {
	o := awsenv.Options{Region: "eu-west-1", AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "the-secret-key", SessionToken: "the-session-token"}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("aws", "options", o)
	jsonOut, err := json.Marshal(o)
	require.NoError(t, err)
	outputs := []string{logged.String(), string(jsonOut), fmt.Errorf("load %v: %w", o, errors.New("x")).Error()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		outputs = append(outputs, fmt.Sprintf(verb, o), fmt.Sprintf(verb, &o), fmt.Sprintf(verb, struct{ O awsenv.Options }{o}))
	}
	for _, out := range outputs {
		assert.NotContains(t, out, "the-secret-key")
		assert.NotContains(t, out, "the-session-token")
		assert.Contains(t, out, "AKIAEXAMPLE", "the key id is not secret and helps debugging")
	}
}
