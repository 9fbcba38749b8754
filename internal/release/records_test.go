package release_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func backendRecord(id string, started time.Time) *release.Record {
	exit := 0
	r := &release.Record{
		ID: id, Kind: release.KindBackend, Target: "prod/api",
		StartedAt: started, FinishedAt: started.Add(90 * time.Second), Outcome: release.OutcomeSucceeded,
		Backend: &release.BackendRecord{
			Cluster: "prod", Service: "api", Container: "app",
			BeforeRevision: "arn:aws:ecs:eu-west-1:123456789012:task-definition/api:7",
			AfterRevision:  "arn:aws:ecs:eu-west-1:123456789012:task-definition/api:8",
			Image:          "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@sha256:abc",
			Migration: &release.MigrationRecord{Command: []string{"./migrate", "up"}, TaskARN: "arn:task/1",
				ExitCode: &exit, StopCode: "EssentialContainerExited", Succeeded: true, Log: []string{"applied 3"}},
		},
	}
	r.Steps = []release.Step{{Name: "migrate", Started: started, Duration: 1500 * time.Millisecond, Outcome: release.StepOK}}
	return r
}

func TestPut_RecordRoundTripsThroughS3AsIndentedJSON(t *testing.T) {
	store, client, bucket := newStore(t)
	ctx := testContext(t)
	started := time.Date(2026, 11, 24, 16, 30, 0, 0, time.UTC)
	want := backendRecord("20261124T163000Z-3f9a1c", started)

	uri, err := store.Put(ctx, want)
	require.NoError(t, err)
	assert.Equal(t, "s3://"+bucket+"/esteira/backend/prod/api/20261124T163000Z-3f9a1c.json", uri)

	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket),
		Key: aws.String("esteira/backend/prod/api/20261124T163000Z-3f9a1c.json")})
	require.NoError(t, err)
	body, err := io.ReadAll(out.Body)
	out.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, "application/json", aws.ToString(out.ContentType))
	assert.Contains(t, string(body), "\n  \"id\": \"20261124T163000Z-3f9a1c\"")
	assert.Contains(t, string(body), `"duration": "1.5s"`)

	got, err := store.List(ctx, release.KindBackend, "prod/api")
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, want, got[0])
}

func TestList_ReturnsNewestFirstAndOnlyThatTarget(t *testing.T) {
	store, _, _ := newStore(t)
	ctx := testContext(t)
	base := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	for _, h := range []int{2, 0, 3, 1} {
		at := base.Add(time.Duration(h) * time.Hour)
		_, err := store.Put(ctx, backendRecord(release.NewID(at), at))
		require.NoError(t, err)
	}
	other := backendRecord("", base.Add(5*time.Hour))
	other.Target = "prod/api-worker"
	_, err := store.Put(ctx, other)
	require.NoError(t, err)
	assert.NotEmpty(t, other.ID, "Put fills an empty ID")
	nested := backendRecord("", base.Add(6*time.Hour))
	nested.Target = "prod/api/canary"
	_, err = store.Put(ctx, nested)
	require.NoError(t, err)

	got, err := store.List(ctx, release.KindBackend, "prod/api")
	require.NoError(t, err)
	require.Len(t, got, 4)
	for i, r := range got {
		assert.Equal(t, base.Add(time.Duration(3-i)*time.Hour), r.StartedAt, "record %d", i)
		assert.Equal(t, "prod/api", r.Target)
	}
}

func TestList_EmptyTargetHasNoRecords(t *testing.T) {
	store, _, _ := newStore(t)
	got, err := store.List(testContext(t), release.KindFrontend, "site-bucket/www")
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestList_PagesThroughManyRecords(t *testing.T) {
	api := &pagingS3{pageSize: 2}
	store := release.NewStore(api, "records-bucket", "team")
	ctx := testContext(t)
	for i := 0; i < 5; i++ {
		at := time.Date(2026, 1, 1, i, 0, 0, 0, time.UTC)
		_, err := store.Put(ctx, &release.Record{ID: release.NewID(at), Kind: release.KindFrontend, Target: "site/www", StartedAt: at})
		require.NoError(t, err)
	}
	got, err := store.List(ctx, release.KindFrontend, "site/www")
	require.NoError(t, err)
	require.Len(t, got, 5)
	assert.Equal(t, 3, api.listCalls, "5 keys in pages of 2 take 3 calls")
	assert.Equal(t, 4, got[0].StartedAt.Hour())
	assert.Equal(t, 0, got[4].StartedAt.Hour())
}

func TestPut_RejectsBadRecordsBeforeTouchingS3(t *testing.T) {
	tests := []struct {
		name   string
		bucket string
		rec    release.Record
		want   string
	}{
		{"bad bucket", "Bad_Bucket", release.Record{Kind: "backend", Target: "a/b"}, "invalid bucket name"},
		{"unknown kind", "records-bucket", release.Record{Kind: "cron", Target: "a/b"}, `invalid kind "cron"`},
		{"empty target", "records-bucket", release.Record{Kind: "frontend"}, "target is empty"},
		{"traversal target", "records-bucket", release.Record{Kind: "frontend", Target: "a/../b"}, "invalid target"},
		{"bad id", "records-bucket", release.Record{ID: "x/y", Kind: "frontend", Target: "a"}, "use NewID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &countingS3{}
			_, err := release.NewStore(api, tt.bucket, "").Put(context.Background(), &tt.rec)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Zero(t, api.calls)
		})
	}
}

func TestRecordStep_RecordsOutcomeDurationAndError(t *testing.T) {
	var r release.Record
	started := time.Now().Add(-2 * time.Second)
	r.Step("register task definition", started, nil, "api:8")
	r.Step("migrate", started, errors.New("exit code 1"), "./migrate up")
	require.Len(t, r.Steps, 2)
	assert.Equal(t, release.StepOK, r.Steps[0].Outcome)
	assert.Equal(t, "api:8", r.Steps[0].Detail)
	assert.GreaterOrEqual(t, r.Steps[0].Duration, 2*time.Second)
	assert.Equal(t, release.StepFailed, r.Steps[1].Outcome)
	assert.Equal(t, "./migrate up: exit code 1", r.Steps[1].Detail)
}

func TestNewID_SortsByTime(t *testing.T) {
	a := release.NewID(time.Date(2026, 11, 24, 16, 30, 0, 0, time.UTC))
	b := release.NewID(time.Date(2026, 11, 24, 16, 30, 1, 0, time.FixedZone("x", 3600)).Add(time.Hour))
	assert.Regexp(t, `^20261124T163000Z-[0-9a-f]{6}$`, a)
	assert.Less(t, a, b)
}
