package release_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/release"
)

// Every record is scrubbed on its way to S3, whoever wrote it: a value seen
// as a credential anywhere in it (a header in the error, a flag in a log
// line) is hidden everywhere in it, and what identifies the release is
// kept as it is.
func TestGuardFinish_StoresAndReturnsNoCredential(t *testing.T) {
	store, client, bucket := newStore(t)
	ctx := testContext(t)
	started := time.Now().UTC()
	rec := &release.Record{ID: release.NewID(started), Kind: release.KindFrontend, Target: "www/site", StartedAt: started,
		Steps: []release.Step{
			{Name: "lock", Outcome: release.StepOK},
			{Name: "publish", Outcome: release.StepFailed, Detail: "retrying as s3cr3t-value"},
		},
		Frontend: &release.FrontendRecord{Bucket: "www", Prefix: "site", BackupURI: "s3://backups/www/site/1"},
		Backend: &release.BackendRecord{Migration: &release.MigrationRecord{Command: []string{"mysql", "-ps3cr3t-value"},
			Log: []string{"DEBUG --password s3cr3t-value"}}},
	}
	var out bytes.Buffer
	_, err := release.NewGuard(store, rec, &out, "").Finish(ctx, release.OutcomeFailed, errors.New("upload: Authorization: Bearer s3cr3t-value refused"))
	require.Error(t, err)
	assert.Equal(t, "upload: Authorization: Bearer <redacted> refused", err.Error())

	got, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("esteira/frontend/www/site/" + rec.ID + ".json")})
	require.NoError(t, err)
	body, err := io.ReadAll(got.Body)
	require.NoError(t, err)
	assert.NotContains(t, string(body), "s3cr3t-value")
	assert.Contains(t, string(body), `retrying as \u003credacted\u003e`)
	assert.Contains(t, string(body), `"backupUri": "s3://backups/www/site/1"`)
	assert.NotContains(t, out.String(), "s3cr3t-value")
}
