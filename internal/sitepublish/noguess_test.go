package sitepublish

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deleteMatchIgnored is the real client behaving as MinIO does: If-Match
// on DeleteObject is dropped (on MinIO itself it is ignored anyway).
type deleteMatchIgnored struct{ *s3.Client }

func (c deleteMatchIgnored) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	d := *in
	d.IfMatch = nil
	return c.Client.DeleteObject(ctx, &d, opts...)
}

// A deploy dies mid-publish (its lock held, no record) on a store where
// --break-lock is refused. The refusal names the backup to restore; after
// deleting the lock by hand, a rollback that names no backup must not
// guess from the records (whose last backup is one release too far back):
// it refuses, listing the dead release's backup, and restoring that one
// puts the site back on the release before the dead one.
func TestRollback_AfterALockDeletedByHandDoesNotGuessTheBackup(t *testing.T) {
	e := newS3Env(t)
	store := release.NewStore(deleteMatchIgnored{e.direct}, e.backups, "records")
	deploy := func(files map[string]string) *release.Record {
		o := e.options(writeTree(t, files))
		o.Releases, o.Who = store, "ci"
		rec, err := e.deploy(t, o)
		require.NoError(t, err)
		return rec
	}
	deploy(map[string]string{"index.html": "<html>v0</html>"})
	deploy(siteV1())
	v1 := snapshot(t, e.direct, e.site, "www/")
	dead := deploy(siteV2())
	deleted := 0
	for _, k := range e.keys(t, e.backups, "records/frontend/") {
		if strings.Contains(k, dead.ID) {
			_, err := e.direct.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String(e.backups), Key: aws.String(k)})
			require.NoError(t, err)
			deleted++
		}
	}
	require.Equal(t, 1, deleted, "the dead release's record is gone, as if it died mid-publish")
	lockName := "frontend/" + e.site + "/www"
	_, err := store.Acquire(t.Context(), lockName, release.Holder{Who: "killed@ci", What: "deploy-frontend, release " + dead.ID,
		Backup: dead.Frontend.BackupURI}, release.LockOptions{})
	require.NoError(t, err)
	halfNew := snapshot(t, e.direct, e.site, "www/")
	rollback := func(backup string, brk bool) (*release.Record, error) {
		return Rollback(t.Context(), Clients{S3: e.direct}, RollbackOptions{Bucket: e.site, Prefix: "www", BackupBucket: e.backups,
			Releases: store, Who: "me", Backup: backup, BreakLock: brk})
	}

	_, err = rollback("", true)
	var refused *release.BreakRefusedError
	require.ErrorAs(t, err, &refused, "the lock cannot be broken safely here")
	assert.Equal(t, dead.ID, refused.BackupID, "the refusal names the backup to restore")
	assert.Contains(t, err.Error(), "nothing was changed")
	assert.Equal(t, halfNew, snapshot(t, e.direct, e.site, "www/"))

	_, err = e.direct.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String(e.backups), Key: aws.String("records/locks/" + lockName + ".json")})
	require.NoError(t, err, "the lock deleted by hand, as the refusal says")
	_, err = rollback("", false)
	require.Error(t, err, "the records cannot prove which backup is the one before the dead release")
	var unsure *UnprovenBackupError
	require.ErrorAs(t, err, &unsure)
	require.NotEmpty(t, unsure.Candidates)
	assert.Equal(t, dead.ID, unsure.Candidates[0].ID, "the newest candidate is the dead release's backup")
	assert.Contains(t, err.Error(), "restore backup "+dead.ID)
	assert.Contains(t, err.Error(), "nothing was changed")
	assert.Equal(t, halfNew, snapshot(t, e.direct, e.site, "www/"), "nothing was guessed")

	rec, err := rollback(dead.ID, false)
	require.NoError(t, err)
	assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
	assert.Equal(t, v1, snapshot(t, e.direct, e.site, "www/"), "the site is back on the release before the dead one")
}
