package release_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/teststack"
)

// orderedS3 is the real S3 client, noting the order of the writes and
// deletes it is asked for, and failing the puts of records when told to.
type orderedS3 struct {
	release.S3API
	mu          sync.Mutex
	calls       []string
	failRecords bool
	failDeletes bool
}

func (o *orderedS3) note(call string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, call)
}

func (o *orderedS3) PutObject(ctx context.Context, in *s3.PutObjectInput, f ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	key := aws.ToString(in.Key)
	o.note("put " + key)
	if o.failRecords && !strings.Contains(key, "/locks/") {
		return nil, errors.New("AccessDenied: no s3:PutObject on the records")
	}
	return o.S3API.PutObject(ctx, in, f...)
}

func (o *orderedS3) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, f ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	o.note("delete " + aws.ToString(in.Key))
	if o.failDeletes {
		return nil, errors.New("AccessDenied: no s3:DeleteObject")
	}
	return o.S3API.DeleteObject(ctx, in, f...)
}

func guardedRelease(t *testing.T) (*release.Store, *orderedS3, *release.Record, *bytes.Buffer) {
	t.Helper()
	srv := teststack.S3(t)
	api := &orderedS3{S3API: srv.Client(t)}
	store := release.NewStore(api, srv.NewBucket(t), "")
	now := time.Now().UTC()
	rec := &release.Record{ID: release.NewID(now), Kind: release.KindBackend, Target: "main/api", StartedAt: now,
		Backend: &release.BackendRecord{Cluster: "main", Service: "api"}}
	return store, api, rec, &bytes.Buffer{}
}

// The record is written while the lock is held, so the next release that
// takes the lock always sees it.
func TestGuard_WritesTheRecordBeforeItReleasesTheLock(t *testing.T) {
	store, api, rec, out := guardedRelease(t)
	ctx := testContext(t)
	g := release.NewGuard(store, rec, out, "a rollback will need the revision")
	require.NoError(t, g.Lock(ctx, "backend/main/api", release.Holder{Who: "bob@ci", What: "deploy"}, release.LockOptions{}))
	assert.Contains(t, out.String(), "==> lock      ok")

	_, err := g.Finish(ctx, release.OutcomeSucceeded, nil)
	require.NoError(t, err)
	record, unlock := -1, -1
	for i, c := range api.calls {
		switch {
		case strings.HasPrefix(c, "put esteira/backend/main/api/"):
			record = i
		case c == "delete esteira/locks/backend/main/api.json":
			unlock = i
		}
	}
	require.GreaterOrEqual(t, record, 0, "the record was written: %v", api.calls)
	assert.Less(t, record, unlock, "the record before the lock's release: %v", api.calls)
	held, err := store.Held(ctx, "backend/main/api")
	require.NoError(t, err)
	assert.Nil(t, held, "the lock is released")
}

// A release whose lock was broken by another run stops before its next
// change, and says who holds the lock now.
func TestGuard_CheckStopsOnceAnotherRunBrokeTheLock(t *testing.T) {
	store, _, rec, out := guardedRelease(t)
	ctx := testContext(t)
	if breakRefused(t, store) {
		return
	}
	g := release.NewGuard(store, rec, out, "")
	require.NoError(t, g.Lock(ctx, "backend/main/api", release.Holder{Who: "bob@ci"}, release.LockOptions{}))
	require.NoError(t, g.Check(ctx, "updating the service"))

	_, err := store.Acquire(ctx, "backend/main/api", release.Holder{Who: "carol@ci", What: "deploy"}, release.LockOptions{Break: true})
	require.NoError(t, err)
	err = g.Check(ctx, "updating the service")
	require.ErrorIs(t, err, release.ErrLockLost)
	assert.Contains(t, err.Error(), "stopped before updating the service")
	assert.Contains(t, err.Error(), "carol@ci")

	g.Unlock(ctx, "")
	held, err := store.Held(ctx, "backend/main/api")
	require.NoError(t, err)
	require.NotNil(t, held, "unlocking never deletes another run's lock")
	assert.Equal(t, "carol@ci", held.Who)
}

// Sites nested in one bucket are never released at once: the second one
// is refused, names the first, and leaves no lock of its own behind.
func TestGuard_NestedRefusesWhileAnEnclosingTargetIsLocked(t *testing.T) {
	store, _, rec, out := guardedRelease(t)
	ctx := testContext(t)
	_, err := store.Acquire(ctx, "frontend/www/site", release.Holder{Who: "alice@ci", What: "site deploy"}, release.LockOptions{})
	require.NoError(t, err)

	g := release.NewGuard(store, rec, out, "")
	err = g.Lock(ctx, "frontend/www/site/docs", release.Holder{Who: "bob@ci"}, release.LockOptions{Nested: true})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "a site that encloses www/site/docs or lies inside it is being released: www/site (held by alice@ci")
	assert.False(t, g.Locked())
	held, err := store.Held(ctx, "frontend/www/site/docs")
	require.NoError(t, err)
	assert.Nil(t, held, "the refused release left no lock")
}

// A record that cannot be written is reported with what a rollback then
// needs, and a lock that cannot be released then says the release ended
// and nothing needs restoring.
func TestGuard_ARecordThatCannotBeWrittenIsReportedAndNotedInTheLock(t *testing.T) {
	store, api, rec, out := guardedRelease(t)
	ctx := testContext(t)
	g := release.NewGuard(store, rec, out, "a rollback will need the revision to go back to named")
	require.NoError(t, g.Lock(ctx, "backend/main/api", release.Holder{Who: "bob@ci", What: "deploy; if it died, roll back to api:1"}, release.LockOptions{}))
	api.failRecords, api.failDeletes = true, true

	_, err := g.Finish(ctx, release.OutcomeSucceeded, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the release itself succeeded, but write release record")
	assert.Contains(t, err.Error(), "a rollback will need the revision to go back to named")
	assert.Contains(t, out.String(), "warning: release deploy lock")

	held, err := store.Held(ctx, "backend/main/api")
	require.NoError(t, err)
	require.NotNil(t, held, "the lock could not be deleted")
	assert.Contains(t, held.What, "ended succeeded, but its record could not be written: nothing needs restoring")
}

// Without a store a release takes no lock, its checks pass and it writes
// nothing.
func TestGuard_WithoutAStoreHoldsNothing(t *testing.T) {
	ctx := testContext(t)
	rec := &release.Record{ID: release.NewID(time.Now()), Kind: release.KindLambda, Target: "resize", StartedAt: time.Now()}
	var out bytes.Buffer
	g := release.NewGuard(nil, rec, &out, "")
	require.NoError(t, g.Lock(ctx, "lambda/resize", release.Holder{Who: "bob"}, release.LockOptions{}))
	assert.False(t, g.Locked())
	require.NoError(t, g.Check(ctx, "publishing"))
	boom := errors.New("boom")
	got, err := g.Finish(ctx, release.OutcomeFailed, boom)
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, release.OutcomeFailed, got.Outcome)
	assert.NotContains(t, out.String(), "==> record")
}
