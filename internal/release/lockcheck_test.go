package release_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A deploy asks, before each step that writes, whether its lock is still
// its own: after Acquire and after Amend it is.
func TestCheck_PassesWhileTheLockIsOurs(t *testing.T) {
	store, _, _ := newStore(t)
	ctx := testContext(t)
	l, err := store.Acquire(ctx, "prod/api", release.Holder{Who: "ci-job-7"}, release.LockOptions{})
	require.NoError(t, err)
	require.NoError(t, l.Check(ctx))
	require.NoError(t, l.Amend(ctx, "ended well", ""))
	require.NoError(t, l.Check(ctx), "amending our own lock keeps it ours")
	require.NoError(t, l.Release(ctx))
	var lost *release.LostLockError
	require.ErrorAs(t, l.Check(ctx), &lost, "a released lock is no longer held")
}

// A lock deleted by hand is lost: Check says so with a typed error that
// names no holder, and the lock stays free (Check writes nothing).
func TestCheck_ReportsALockDeletedByHand(t *testing.T) {
	store, client, bucket := newStore(t)
	ctx := testContext(t)
	l, err := store.Acquire(ctx, "prod/api", release.Holder{Who: "ci-job-7"}, release.LockOptions{})
	require.NoError(t, err)
	_, err = client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("esteira/locks/prod/api.json")})
	require.NoError(t, err)

	err = l.Check(ctx)
	var lost *release.LostLockError
	require.ErrorAs(t, err, &lost)
	assert.Nil(t, lost.Holder, "nobody holds it")
	assert.True(t, errors.Is(err, release.ErrLockLost))
	assert.Contains(t, err.Error(), "prod/api")
	held, err := store.Held(ctx, "prod/api")
	require.NoError(t, err)
	assert.Nil(t, held, "Check wrote nothing")
}

// A lock deleted by hand and taken by another deploy is lost to that
// deploy, whose holder the error names; the same holder text and second
// cannot pass for ours (each acquisition's bytes, so its ETag, differ).
func TestCheck_NamesTheDeployThatTookTheLockSince(t *testing.T) {
	store, client, bucket := newStore(t)
	ctx := testContext(t)
	h := release.Holder{Who: "ci", What: "deploy-frontend"}
	first, err := store.Acquire(ctx, "prod/api", h, release.LockOptions{})
	require.NoError(t, err)
	_, err = client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("esteira/locks/prod/api.json")})
	require.NoError(t, err)
	h.Since = first.Holder.Since
	second, err := store.Acquire(ctx, "prod/api", h, release.LockOptions{})
	require.NoError(t, err)

	err = first.Check(ctx)
	var lost *release.LostLockError
	require.ErrorAs(t, err, &lost)
	require.NotNil(t, lost.Holder)
	assert.Equal(t, "ci", lost.Holder.Who)
	require.NoError(t, second.Check(ctx))

	err = first.Release(ctx)
	require.ErrorAs(t, err, &lost, "Release reports the same typed error")
	require.NoError(t, second.Check(ctx), "the first deploy's release left the second's lock alone")
	require.NoError(t, second.Release(ctx))
}
