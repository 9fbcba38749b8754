package sitepublish

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A deploy killed mid-publish leaves its lock and no record. A rollback that
// breaks that lock must restore the backup that deploy took (the site as it
// was before it), not the one the records name (one release older).
func TestRollback_AfterBreakingTheLockOfADeadDeployRestoresItsBackup(t *testing.T) {
	e := newS3Env(t)
	store := release.NewStore(e.direct, e.backups, "records")
	deployWith := func(files map[string]string) *release.Record {
		o := e.options(writeTree(t, files))
		o.Releases, o.Who = store, "ci"
		rec, err := e.deploy(t, o)
		require.NoError(t, err)
		return rec
	}
	deployWith(map[string]string{"index.html": "<html>v0</html>"})
	deployWith(siteV1())
	v1 := e.keys(t, e.site, "www/")
	dead := deployWith(siteV2())

	// Make the last deploy look killed mid-publish: no record, its lock held.
	for _, k := range e.keys(t, e.backups, "records/frontend/") {
		if strings.Contains(k, dead.ID) {
			_, err := e.direct.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String(e.backups), Key: aws.String(k)})
			require.NoError(t, err)
		}
	}
	_, err := store.Acquire(t.Context(), "frontend/"+e.site+"/www", release.Holder{Who: "killed@ci", What: "deploy-frontend, release " + dead.ID,
		Backup: dead.Frontend.BackupURI}, release.LockOptions{})
	require.NoError(t, err)

	rec, err := Rollback(t.Context(), Clients{S3: e.direct}, RollbackOptions{Bucket: e.site, Prefix: "www", BackupBucket: e.backups,
		Releases: store, Who: "me", BreakLock: true})
	if refusedBreak(t, e, err) {
		return
	}
	require.NoError(t, err)
	assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
	assert.Equal(t, v1, e.keys(t, e.site, "www/"), "the site is v1 again, as before the dead deploy")
	body, err := e.direct.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(e.site), Key: aws.String("www/index.html")})
	require.NoError(t, err)
	defer body.Body.Close()
	buf := make([]byte, 64)
	n, _ := body.Body.Read(buf)
	assert.Equal(t, "<html>v1</html>", string(buf[:n]))
}

// A broken lock that names no backup (another tool's, or an older esteira's)
// cannot say which backup is right: the rollback refuses, nothing changed.
func TestRollback_AfterBreakingALockWithoutABackupAsksForOne(t *testing.T) {
	e := newS3Env(t)
	store := release.NewStore(e.direct, e.backups, "records")
	o := e.options(writeTree(t, siteV1()))
	o.Releases, o.Who = store, "ci"
	_, err := e.deploy(t, o)
	require.NoError(t, err)
	before := e.keys(t, e.site, "www/")
	_, err = store.Acquire(t.Context(), "frontend/"+e.site+"/www", release.Holder{Who: "old@ci", What: "something"}, release.LockOptions{})
	require.NoError(t, err)
	_, err = Rollback(t.Context(), Clients{S3: e.direct}, RollbackOptions{Bucket: e.site, Prefix: "www", BackupBucket: e.backups,
		Releases: store, Who: "me", BreakLock: true})
	if refusedBreak(t, e, err) {
		return
	}
	require.Error(t, err)
	assert.Contains(t, err.Error(), "name the backup to restore")
	assert.Equal(t, before, e.keys(t, e.site, "www/"))
}

// refusedBreak: on MinIO, which ignores If-Match on DeleteObject, esteira
// refuses to break any lock, before changing anything.
func refusedBreak(t *testing.T, e *s3Env, err error) bool {
	t.Helper()
	if e.srv.Kind != "minio" {
		return false
	}
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ignores If-Match on DeleteObject")
	assert.Contains(t, err.Error(), "nothing was changed")
	return true
}
