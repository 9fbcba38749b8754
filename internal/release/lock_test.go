package release_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/setting"
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

// newStore returns a store on a fresh bucket of the real S3 server, and its client.
// breakRefused reports whether the server under test ignores If-Match on
// DeleteObject (MinIO does), where esteira refuses every --break-lock: then
// it checks that refusal, and the caller's break scenario does not apply.
func breakRefused(t *testing.T, store *release.Store) bool {
	t.Helper()
	if teststack.S3(t).Kind != "minio" {
		return false
	}
	ctx := testContext(t)
	held, err := store.Acquire(ctx, "refused/x", release.Holder{Who: "a"}, release.LockOptions{})
	require.NoError(t, err)
	_, err = store.Acquire(ctx, "refused/x", release.Holder{Who: "b"}, release.LockOptions{Break: true})
	require.ErrorContains(t, err, "ignores If-Match on DeleteObject")
	require.NoError(t, held.Release(ctx))
	return true
}

func newStore(t *testing.T) (*release.Store, *s3.Client, string) {
	t.Helper()
	srv := teststack.S3(t)
	client := srv.Client(t)
	bucket := srv.NewBucket(t)
	return release.NewStore(client, bucket, ""), client, bucket
}

func TestAcquire_ExactlyOneOfTwoConcurrentDeploysWins(t *testing.T) {
	store, _, _ := newStore(t)
	ctx := testContext(t)
	holders := []release.Holder{
		{Who: "alice@laptop", What: "deploy-backend prod/api image@sha256:aaa"},
		{Who: "https://ci.example/job/42", What: "deploy-backend prod/api image@sha256:bbb"},
	}
	locks := make([]*release.Lock, 2)
	errs := make([]error, 2)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range holders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			locks[i], errs[i] = store.Acquire(ctx, "prod/api", holders[i], release.LockOptions{})
		}()
	}
	close(start)
	wg.Wait()

	winner, loser := 0, 1
	if errs[0] != nil {
		winner, loser = 1, 0
	}
	require.NoError(t, errs[winner], "one deploy must get the lock")
	require.NotNil(t, locks[winner])
	require.Error(t, errs[loser], "the other deploy must be refused")
	assert.Nil(t, locks[loser])
	var locked *release.LockedError
	require.ErrorAs(t, errs[loser], &locked)
	assert.Equal(t, holders[winner].Who, locked.Holder.Who)
	assert.False(t, locked.Stale)
	assert.Contains(t, errs[loser].Error(), holders[winner].Who)
	assert.Equal(t, []string{"BreakLock"}, setting.Names(errs[loser]))
	require.NoError(t, locks[winner].Release(ctx))
}

func TestAcquire_ReleasedLockCanBeTakenAgain(t *testing.T) {
	store, client, bucket := newStore(t)
	ctx := testContext(t)
	l, err := store.Acquire(ctx, "prod/api", release.Holder{Who: "alice@laptop", What: "deploy"}, release.LockOptions{})
	require.NoError(t, err)
	assert.Equal(t, "s3://"+bucket+"/esteira/locks/prod/api.json", l.URI)
	require.NoError(t, l.Release(ctx))

	_, err = client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("esteira/locks/prod/api.json")})
	require.Error(t, err, "released lock object must be gone")

	l2, err := store.Acquire(ctx, "prod/api", release.Holder{Who: "bob@desk", What: "deploy"}, release.LockOptions{})
	require.NoError(t, err)
	require.NoError(t, l2.Release(ctx))
}

func TestAcquire_RefusesStaleLockWithoutBreak(t *testing.T) {
	store, _, _ := newStore(t)
	ctx := testContext(t)
	old := release.Holder{Who: "ci-job-7", What: "deploy-frontend site/", Since: time.Now().Add(-3 * time.Hour)}
	_, err := store.Acquire(ctx, "site", old, release.LockOptions{})
	require.NoError(t, err)

	_, err = store.Acquire(ctx, "site", release.Holder{Who: "alice@laptop"}, release.LockOptions{StaleAfter: time.Hour})
	var locked *release.LockedError
	require.ErrorAs(t, err, &locked)
	assert.True(t, locked.Stale)
	assert.Equal(t, "ci-job-7", locked.Holder.Who)
	assert.Contains(t, err.Error(), "stale")
	assert.Equal(t, []string{"BreakLock"}, setting.Names(err))
	assert.Contains(t, err.Error(), "no deploy is still running")
}

func TestAcquire_FreshLockIsNotStale(t *testing.T) {
	store, _, _ := newStore(t)
	ctx := testContext(t)
	_, err := store.Acquire(ctx, "site", release.Holder{Who: "ci-job-7", Since: time.Now().Add(-10 * time.Minute)}, release.LockOptions{})
	require.NoError(t, err)

	_, err = store.Acquire(ctx, "site", release.Holder{Who: "alice@laptop"}, release.LockOptions{})
	var locked *release.LockedError
	require.ErrorAs(t, err, &locked)
	assert.False(t, locked.Stale, "10 minutes is younger than the 1h default")
}

func TestAcquire_BreaksStaleLockWhenAsked(t *testing.T) {
	store, _, _ := newStore(t)
	if breakRefused(t, store) {
		return
	}
	ctx := testContext(t)
	_, err := store.Acquire(ctx, "site", release.Holder{Who: "ci-job-7", Since: time.Now().Add(-3 * time.Hour)}, release.LockOptions{})
	require.NoError(t, err)

	l, err := store.Acquire(ctx, "site", release.Holder{Who: "alice@laptop", What: "deploy"}, release.LockOptions{Break: true})
	require.NoError(t, err)
	assert.Equal(t, "alice@laptop", l.Holder.Who)

	_, err = store.Acquire(ctx, "site", release.Holder{Who: "bob@desk"}, release.LockOptions{})
	var locked *release.LockedError
	require.ErrorAs(t, err, &locked)
	assert.Equal(t, "alice@laptop", locked.Holder.Who, "the breaker now holds the lock")
}

func TestRelease_LeavesTheLockOfWhoeverBrokeAndRetookIt(t *testing.T) {
	store, client, bucket := newStore(t)
	if breakRefused(t, store) {
		return
	}
	ctx := testContext(t)
	first, err := store.Acquire(ctx, "prod/api", release.Holder{Who: "ci-job-7", Since: time.Now().Add(-2 * time.Hour)}, release.LockOptions{})
	require.NoError(t, err)
	second, err := store.Acquire(ctx, "prod/api", release.Holder{Who: "alice@laptop", What: "deploy"}, release.LockOptions{Break: true})
	require.NoError(t, err)

	err = first.Release(ctx)
	require.Error(t, err)
	assert.True(t, errors.Is(err, release.ErrLockLost))
	assert.Contains(t, err.Error(), "alice@laptop")

	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("esteira/locks/prod/api.json")})
	require.NoError(t, err, "the new holder's lock must still exist")
	out.Body.Close()
	require.NoError(t, second.Release(ctx))
}

func TestRelease_ReportsALockBrokenAndNotRetaken(t *testing.T) {
	store, client, bucket := newStore(t)
	ctx := testContext(t)
	l, err := store.Acquire(ctx, "prod/api", release.Holder{Who: "ci-job-7"}, release.LockOptions{})
	require.NoError(t, err)
	_, err = client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("esteira/locks/prod/api.json")})
	require.NoError(t, err)

	err = l.Release(ctx)
	require.ErrorIs(t, err, release.ErrLockLost)
	assert.Contains(t, err.Error(), "broke")
}

func TestAcquire_RejectsBadInputBeforeTouchingS3(t *testing.T) {
	api := &countingS3{}
	tests := []struct {
		name   string
		bucket string
		lock   string
		holder release.Holder
		want   string
	}{
		{"empty bucket", "", "prod/api", release.Holder{Who: "a"}, "bucket name is empty"},
		{"upper-case bucket", "My_Bucket", "prod/api", release.Holder{Who: "a"}, `invalid bucket name "My_Bucket"`},
		{"ip bucket", "192.168.1.10", "prod/api", release.Holder{Who: "a"}, "IP address"},
		{"short bucket", "ab", "prod/api", release.Holder{Who: "a"}, "2 characters"},
		{"dot-dot lock", "locks-bucket", "../x", release.Holder{Who: "a"}, "invalid lock name"},
		{"empty lock", "locks-bucket", "", release.Holder{Who: "a"}, "lock name is empty"},
		{"no holder", "locks-bucket", "prod/api", release.Holder{}, "Who is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := release.NewStore(api, tt.bucket, "").Acquire(context.Background(), tt.lock, tt.holder, release.LockOptions{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	assert.Zero(t, api.calls, "no S3 call may happen for bad input")
}

// countingS3 fails every call and counts them.
type countingS3 struct {
	release.S3API
	calls int
}

func (c *countingS3) PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	c.calls++
	return nil, errors.New("unexpected call")
}
