package release_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// weakS3 is a real S3 server behind a client that drops the conditions a
// weaker S3-compatible server ignores: If-Match on DeleteObject (MinIO) or
// If-None-Match on PutObject.
type weakS3 struct {
	*s3.Client
	ignoreDeleteMatch, ignoreCreateOnce bool
}

func (w *weakS3) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	if w.ignoreDeleteMatch {
		c := *in
		c.IfMatch = nil
		in = &c
	}
	return w.Client.DeleteObject(ctx, in, opts...)
}

func (w *weakS3) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	if w.ignoreCreateOnce {
		c := *in
		c.IfNoneMatch = nil
		in = &c
	}
	return w.Client.PutObject(ctx, in, opts...)
}

// On a server that ignores If-Match on DeleteObject, two racing --break-lock
// runs could both hold the lock: esteira finds out with a probe and refuses
// to break, saying how to clear the lock by hand; plain locking still works.
//
// The refusal names the holder and, when its lock names one, the backup
// that restores what the holder's release changed: after deleting the lock
// by hand, that is the backup to restore (a release that died wrote no
// record, and the records alone would restore one release too far).
func TestAcquire_RefusesToBreakALockWhereDeletesIgnoreIfMatch(t *testing.T) {
	_, client, bucket := newStore(t)
	ctx := testContext(t)
	store := release.NewStore(&weakS3{Client: client, ignoreDeleteMatch: true}, bucket, "")
	held, err := store.Acquire(ctx, "prod/api", release.Holder{Who: "alice@ci", What: "deploy-frontend",
		Backup: "s3://backups/www/20261203T101010Z-abc123/"}, release.LockOptions{})
	require.NoError(t, err, "taking a free lock only needs If-None-Match")
	_, err = store.Acquire(ctx, "prod/api", release.Holder{Who: "bob@ci"}, release.LockOptions{Break: true})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ignores If-Match on DeleteObject")
	assert.Contains(t, err.Error(), "s3://"+bucket+"/esteira/locks/prod/api.json")
	var refused *release.BreakRefusedError
	require.ErrorAs(t, err, &refused)
	assert.Equal(t, "alice@ci", refused.Holder.Who)
	assert.Equal(t, "20261203T101010Z-abc123", refused.BackupID)
	assert.Contains(t, err.Error(), "restore backup 20261203T101010Z-abc123")
	_, err = store.Acquire(ctx, "prod/api", release.Holder{Who: "carol@ci"}, release.LockOptions{})
	var locked *release.LockedError
	require.ErrorAs(t, err, &locked, "alice still holds it")
	assert.Equal(t, "alice@ci", locked.Holder.Who)
	require.NoError(t, held.Release(ctx))
}

// On a server that ignores If-None-Match, no lock is exclusive: refused.
func TestAcquire_RefusesALockWhereWritesIgnoreIfNoneMatch(t *testing.T) {
	_, client, bucket := newStore(t)
	store := release.NewStore(&weakS3{Client: client, ignoreCreateOnce: true}, bucket, "")
	_, err := store.Acquire(testContext(t), "prod/api", release.Holder{Who: "alice@ci"}, release.LockOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ignores If-None-Match on PutObject")
}

// Breaking a lock that is free needs no conditional delete: on a server
// that ignores If-Match on DeleteObject the free lock is simply taken.
func TestAcquire_WithBreakTakesAFreeLockWhereDeletesIgnoreIfMatch(t *testing.T) {
	_, client, bucket := newStore(t)
	ctx := testContext(t)
	store := release.NewStore(&weakS3{Client: client, ignoreDeleteMatch: true}, bucket, "")
	l, err := store.Acquire(ctx, "prod/api", release.Holder{Who: "bob@ci"}, release.LockOptions{Break: true})
	require.NoError(t, err)
	assert.Nil(t, l.Broke, "nothing was broken")
	require.NoError(t, l.Release(ctx))
}
