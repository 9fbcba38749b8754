package teststack_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/futuraplataforma/esteira/internal/teststack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { teststack.Main(m) }

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestS3_PutThenGetReturnsTheSameBytes(t *testing.T) {
	srv := teststack.S3(t)
	ctx := testContext(t)
	client := srv.Client(t)
	bucket := srv.NewBucket(t)

	_, err := client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String("assets/app.js"),
		Body: strings.NewReader("console.log('esteira')"), ContentType: aws.String("text/javascript"),
	})
	require.NoError(t, err)

	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("assets/app.js")})
	require.NoError(t, err)
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	require.NoError(t, err)
	assert.Equal(t, "console.log('esteira')", string(body))
	assert.Equal(t, "text/javascript", aws.ToString(out.ContentType))
}

func TestS3_ConditionalPutOnExistingKeyFailsWith412(t *testing.T) {
	srv := teststack.S3(t)
	ctx := testContext(t)
	client := srv.Client(t)
	bucket := srv.NewBucket(t)
	put := func(body string) error {
		_, err := client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String("release.lock"),
			Body: strings.NewReader(body), IfNoneMatch: aws.String("*"),
		})
		return err
	}

	require.NoError(t, put("first"), "the key does not exist yet")
	err := put("second")
	require.Error(t, err, "the key exists now")
	var resp *smithyhttp.ResponseError
	require.True(t, errors.As(err, &resp), "want an HTTP response error, got %v", err)
	assert.Equal(t, 412, resp.HTTPStatusCode())

	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("release.lock")})
	require.NoError(t, err)
	defer out.Body.Close()
	body, _ := io.ReadAll(out.Body)
	assert.Equal(t, "first", string(body), "the refused put must not have replaced the object")
}

func TestS3_WrongSecretKeyIsRefused(t *testing.T) {
	srv := teststack.S3(t)
	ctx := testContext(t)
	bucket := srv.NewBucket(t)
	bad := s3.New(s3.Options{
		Region: srv.Region, BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKeyID, "not-the-secret", ""),
	})

	_, err := bad.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	require.Error(t, err)
	var apiErr smithy.APIError
	require.True(t, errors.As(err, &apiErr), "want an API error, got %v", err)
	assert.Equal(t, "SignatureDoesNotMatch", apiErr.ErrorCode())
}

func TestS3_StartsOnceAndNamesBucketsUniquely(t *testing.T) {
	a, b := teststack.S3(t), teststack.S3(t)
	assert.Same(t, a, b)
	assert.NotEqual(t, a.NewBucket(t), a.NewBucket(t))
	assert.True(t, strings.HasPrefix(a.Endpoint, "http://127.0.0.1:"), a.Endpoint)
}
