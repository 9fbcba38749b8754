package awssim_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSTS_GetCallerIdentityChecksTheSignature(t *testing.T) {
	sim := awssim.New(awssim.DefaultOptions())
	url := sim.Start(t)
	o := sim.Options()

	client := func(secret string) *sts.Client {
		return sts.New(sts.Options{
			Region:       o.Region,
			BaseEndpoint: aws.String(url),
			Credentials:  credentials.NewStaticCredentialsProvider(o.AccessKeyID, secret, ""),
		})
	}
	out, err := client(o.SecretAccessKey).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	require.NoError(t, err)
	assert.Equal(t, o.AccountID, aws.ToString(out.Account))

	_, err = client("wrong-secret").GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SignatureDoesNotMatch")
}

// STS is a Query service: AWS answers refused credentials with 403 and the
// Query codes (InvalidClientTokenId, SignatureDoesNotMatch), not the JSON
// services' 400 UnrecognizedClientException / InvalidSignatureException.
func TestSTS_RefusedCredentialsUseTheQueryCodesAnd403(t *testing.T) {
	sim := awssim.New(awssim.DefaultOptions())
	url := sim.Start(t)
	o := sim.Options()
	tests := []struct {
		name, region, key, secret, code string
	}{
		{"unknown access key", o.Region, "AKIAUNKNOWN000000000", o.SecretAccessKey, "InvalidClientTokenId"},
		{"wrong secret key", o.Region, o.AccessKeyID, "wrong-secret", "SignatureDoesNotMatch"},
		{"wrong region", "us-east-1", o.AccessKeyID, o.SecretAccessKey, "SignatureDoesNotMatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := sts.New(sts.Options{Region: tt.region, BaseEndpoint: aws.String(url),
				Credentials: credentials.NewStaticCredentialsProvider(tt.key, tt.secret, "")})
			_, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			var apiErr smithy.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.code, apiErr.ErrorCode())
			var respErr *smithyhttp.ResponseError
			require.ErrorAs(t, err, &respErr)
			assert.Equal(t, 403, respErr.HTTPStatusCode())
		})
	}
}

// A signature scoped to another service is refused, as AWS does, so a
// client misconfigured for the wrong service cannot pass in tests.
func TestVerifySignature_RefusesACredentialScopedToAnotherService(t *testing.T) {
	sim := awssim.New(awssim.DefaultOptions())
	url := sim.Start(t)
	o := sim.Options()
	body := []byte("{}")
	req, err := http.NewRequest(http.MethodPost, url+"/", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories")
	sum := sha256.Sum256(body)
	require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), sim.Credentials(), req,
		hex.EncodeToString(sum[:]), "ecs", o.Region, time.Now()))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var got struct{ Type, Message string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&struct {
		Type    *string `json:"__type"`
		Message *string `json:"message"`
	}{&got.Type, &got.Message}))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "InvalidSignatureException", got.Type)
	assert.Equal(t, "Credential should be scoped to correct service: 'ecr'.", got.Message)
	assert.Zero(t, sim.Count("ecr", "DescribeRepositories"), "a refused request is not served")

	// The same request signed for ecr is served.
	req.Header.Del("Authorization")
	req.Body = io.NopCloser(bytes.NewReader(body))
	require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), sim.Credentials(), req,
		hex.EncodeToString(sum[:]), "ecr", o.Region, time.Now()))
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// AWS refuses a signature made more than 15 minutes from its clock, so a
// replayed or clock-skewed request cannot pass in tests either.
func TestVerifySignature_RefusesASignatureOutsideTheFifteenMinuteWindow(t *testing.T) {
	sim := awssim.New(awssim.DefaultOptions())
	url := sim.Start(t)
	o := sim.Options()
	tests := []struct {
		name string
		at   time.Time
		want string
	}{
		{"an hour ago", time.Now().Add(-time.Hour), "Signature expired"},
		{"an hour ahead", time.Now().Add(time.Hour), "Signature not yet current"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte("{}")
			req, err := http.NewRequest(http.MethodPost, url+"/", bytes.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories")
			sum := sha256.Sum256(body)
			require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), sim.Credentials(), req,
				hex.EncodeToString(sum[:]), "ecr", o.Region, tt.at))
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			var got struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Equal(t, "InvalidSignatureException", got.Type)
			assert.Contains(t, got.Message, tt.want)
		})
	}
	assert.Zero(t, sim.Count("ecr", "DescribeRepositories"))
}
