package release_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/futuraplataforma/esteira/internal/teststack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The lock's safety rests on two conditional requests. This pins that the S3
// server under test honours them as AWS S3 does (versitygw v1.8.0: both;
// MinIO: If-None-Match only), so the lock tests exercise the real conditions
// rather than a permissive server.
func TestS3Server_HonoursTheConditionsTheLockRelies(t *testing.T) {
	_, client, bucket := newStore(t)
	ctx := testContext(t)
	key := aws.String("conditions/k")
	_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: key, Body: strings.NewReader("a")})
	require.NoError(t, err)

	_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: key,
		Body: strings.NewReader("b"), IfNoneMatch: aws.String("*")})
	assert.ErrorContains(t, err, "PreconditionFailed", "If-None-Match: * must refuse to overwrite")

	_, err = client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: key,
		IfMatch: aws.String(`"0123456789abcdef0123456789abcdef"`)})
	if teststack.S3(t).Kind == "minio" {
		// MinIO deletes anyway: why the store probes and refuses --break-lock there.
		assert.NoError(t, err, "MinIO ignores If-Match on DeleteObject; if it honours it now, the probe will say so")
		return
	}
	assert.ErrorContains(t, err, "PreconditionFailed", "If-Match with another ETag must refuse to delete")

	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: key})
	require.NoError(t, err, "the object must survive both refused requests")
	out.Body.Close()
}
