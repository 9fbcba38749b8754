package release_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hookedS3 is the real client with a hook run once before the first
// DeleteObject, and optionally every PutObject sent twice (a lost answer
// that the SDK retried).
type hookedS3 struct {
	*s3.Client
	beforeDelete func()
	replayPut    bool
	once         sync.Once
	// deleteErrs are answered, in order, to the first DeleteObject calls
	// instead of sending them.
	deleteErrs []error
}

// isProbe tells the store's one-time probe of conditional requests from
// the lock calls these hooks are about.
func isProbe(key *string) bool { return strings.Contains(aws.ToString(key), "/.probe-") }

func (h *hookedS3) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	if isProbe(in.Key) {
		return h.Client.DeleteObject(ctx, in, opts...)
	}
	if h.beforeDelete != nil {
		h.once.Do(h.beforeDelete)
	}
	if len(h.deleteErrs) > 0 {
		err := h.deleteErrs[0]
		h.deleteErrs = h.deleteErrs[1:]
		return nil, err
	}
	return h.Client.DeleteObject(ctx, in, opts...)
}

func (h *hookedS3) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	if !h.replayPut || isProbe(in.Key) {
		return h.Client.PutObject(ctx, in, opts...)
	}
	body, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	first := *in
	first.Body = bytes.NewReader(body)
	if _, err := h.Client.PutObject(ctx, &first, opts...); err != nil {
		return nil, err
	}
	again := *in
	again.Body = bytes.NewReader(body)
	return h.Client.PutObject(ctx, &again, opts...)
}

func TestAcquire_BreakLeavesALockThatChangedMeanwhile(t *testing.T) {
	store, client, bucket := newStore(t)
	if breakRefused(t, store) {
		return
	}
	ctx := testContext(t)
	plain := release.NewStore(client, bucket, "")
	old, err := plain.Acquire(ctx, "prod/api", release.Holder{Who: "ci-job-7", Since: time.Now().Add(-2 * time.Hour)}, release.LockOptions{})
	require.NoError(t, err)

	// Between our read of the stale lock and our delete, its holder releases
	// it and bob takes it: the break must not delete bob's lock.
	hooked := &hookedS3{Client: client, beforeDelete: func() {
		require.NoError(t, old.Release(ctx))
		_, err := plain.Acquire(ctx, "prod/api", release.Holder{Who: "bob@desk", What: "deploy"}, release.LockOptions{})
		require.NoError(t, err)
	}}
	_, err = release.NewStore(hooked, bucket, "").Acquire(ctx, "prod/api", release.Holder{Who: "alice@laptop"}, release.LockOptions{Break: true})
	var locked *release.LockedError
	require.ErrorAs(t, err, &locked)
	assert.Equal(t, "bob@desk", locked.Holder.Who)

	_, err = plain.Acquire(ctx, "prod/api", release.Holder{Who: "carol@desk"}, release.LockOptions{})
	require.ErrorAs(t, err, &locked)
	assert.Equal(t, "bob@desk", locked.Holder.Who, "bob's lock survived")
}

func TestAcquire_BreaksAFreshLockOnlyWhenExplicitlyAsked(t *testing.T) {
	store, _, _ := newStore(t)
	if breakRefused(t, store) {
		return
	}
	ctx := testContext(t)
	_, err := store.Acquire(ctx, "prod/api", release.Holder{Who: "crashed-job"}, release.LockOptions{})
	require.NoError(t, err)

	_, err = store.Acquire(ctx, "prod/api", release.Holder{Who: "alice@laptop"}, release.LockOptions{})
	var locked *release.LockedError
	require.ErrorAs(t, err, &locked)
	assert.Contains(t, err.Error(), "wait for that deploy to finish")

	l, err := store.Acquire(ctx, "prod/api", release.Holder{Who: "alice@laptop"}, release.LockOptions{Break: true})
	require.NoError(t, err)
	require.NoError(t, l.Release(ctx))
}

func TestAcquire_TakesTheLockWhenTheSDKRetriedAWriteThatLanded(t *testing.T) {
	_, client, bucket := newStore(t)
	ctx := testContext(t)
	store := release.NewStore(&hookedS3{Client: client, replayPut: true}, bucket, "")
	l, err := store.Acquire(ctx, "prod/api", release.Holder{Who: "alice@laptop"}, release.LockOptions{})
	require.NoError(t, err, "our own lock must not be reported as held by someone else")
	require.NoError(t, l.Release(ctx))

	_, err = client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("esteira/locks/prod/api.json")})
	assert.Error(t, err, "release removed the lock")
}

func TestRelease_TwiceDoesNotTouchTheNextHoldersLock(t *testing.T) {
	store, _, _ := newStore(t)
	ctx := testContext(t)
	first, err := store.Acquire(ctx, "prod/api", release.Holder{Who: "alice@laptop"}, release.LockOptions{})
	require.NoError(t, err)
	require.NoError(t, first.Release(ctx))
	second, err := store.Acquire(ctx, "prod/api", release.Holder{Who: "bob@desk"}, release.LockOptions{})
	require.NoError(t, err)

	require.NoError(t, first.Release(ctx), "a second release is a no-op")
	_, err = store.Acquire(ctx, "prod/api", release.Holder{Who: "carol@desk"}, release.LockOptions{})
	var locked *release.LockedError
	require.ErrorAs(t, err, &locked)
	assert.Equal(t, "bob@desk", locked.Holder.Who)
	require.NoError(t, second.Release(ctx))
}

// S3 answers a conditional DELETE with 409 ConditionalRequestConflict when
// another write or delete of the key raced it; the delete did nothing, so
// Release looks again instead of leaving its own lock behind.
func TestRelease_RetriesAConditionalDeleteThatRacedAnotherRequest(t *testing.T) {
	_, client, bucket := newStore(t)
	ctx := testContext(t)
	conflict := &smithy.GenericAPIError{Code: "ConditionalRequestConflict", Message: "A conflicting conditional operation is currently in progress against this resource. Please try again."}
	hooked := &hookedS3{Client: client, deleteErrs: []error{conflict}}
	store := release.NewStore(hooked, bucket, "")
	l, err := store.Acquire(ctx, "prod/api", release.Holder{Who: "alice@laptop"}, release.LockOptions{})
	require.NoError(t, err)

	require.NoError(t, l.Release(ctx))
	next, err := store.Acquire(ctx, "prod/api", release.Holder{Who: "bob@desk"}, release.LockOptions{})
	require.NoError(t, err, "the lock was released, so the next deploy takes it")
	require.NoError(t, next.Release(ctx))
}

func TestRelease_AFailedDeleteSaysTheLockIsStillHeld(t *testing.T) {
	_, client, bucket := newStore(t)
	ctx := testContext(t)
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}
	store := release.NewStore(&hookedS3{Client: client, deleteErrs: []error{denied}}, bucket, "")
	l, err := store.Acquire(ctx, "prod/api", release.Holder{Who: "alice@laptop"}, release.LockOptions{})
	require.NoError(t, err)

	err = l.Release(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the lock is still held: break it once no deploy runs")
}
