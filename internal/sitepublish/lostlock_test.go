package sitepublish

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// siteV3 shares nothing with siteV2 but the style sheet: a release after
// v2's assets were uploaded deletes them.
func siteV3() map[string]string {
	return map[string]string{
		"index.html":                "<html>v3</html>",
		"about/index.html":          "<html>about v3</html>",
		"assets/app-c0ffee00.js":    "console.log(3)",
		"assets/style-9f8e7d6c.css": "body{}",
	}
}

type deployResult struct {
	rec *release.Record
	err error
}

// Deploy A pauses mid-publish (its assets uploaded, its index.html not), its lock
// is deleted by hand, deploy B takes the lock and succeeds. When A resumes
// it must see the lock is no longer its own and stop without touching the
// site: no upload, no delete, no restore of its backup over B's release.
func TestDeploy_WhoseLockWasTakenAwayStopsAndLeavesTheNewerRelease(t *testing.T) {
	e := newS3Env(t)
	store := release.NewStore(e.direct, e.backups, "records")
	o := e.options(writeTree(t, siteV1()))
	o.Releases, o.Who = store, "ci"
	_, err := e.deploy(t, o)
	require.NoError(t, err)

	paused, resume := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	release.BeforeCheck = func(step string) {
		if step == "the upload of index.html" && first.CompareAndSwap(false, true) {
			close(paused)
			<-resume
		}
	}
	t.Cleanup(func() { release.BeforeCheck = nil })
	oa := e.options(writeTree(t, siteV2()))
	oa.Releases, oa.Who = store, "deploy-a"
	done := make(chan deployResult, 1)
	go func() {
		rec, err := e.deploy(t, oa)
		done <- deployResult{rec, err}
	}()
	select {
	case <-paused:
	case r := <-done:
		t.Fatalf("deploy A ended without reaching the upload of its index.html: %v", r.err)
	case <-time.After(time.Minute):
		t.Fatal("deploy A did not reach the upload of its index.html within a minute")
	}

	_, err = e.direct.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String(e.backups),
		Key: aws.String("records/locks/frontend/" + e.site + "/www.json")})
	require.NoError(t, err, "the lock deleted by hand")
	ob := e.options(writeTree(t, siteV3()))
	ob.Releases, ob.Who = store, "deploy-b"
	recB, err := e.deploy(t, ob)
	require.NoError(t, err, "deploy B takes the free lock and releases")
	require.Equal(t, release.OutcomeSucceeded, recB.Outcome)
	servedByB := snapshot(t, e.direct, e.site, "www/")
	require.Equal(t, "<html>v3</html>", servedByB["index.html"].Body)
	e.proxy.reset()

	close(resume)
	var a deployResult
	select {
	case a = <-done:
	case <-time.After(time.Minute):
		t.Fatal("deploy A did not end within a minute of resuming")
	}
	require.Error(t, a.err)
	assert.ErrorIs(t, a.err, release.ErrLockLost)
	var lost *release.LostLockError
	require.ErrorAs(t, a.err, &lost)
	assert.Contains(t, a.err.Error(), "lost its lock")
	assert.Contains(t, a.err.Error(), a.rec.ID, "it names its backup, the site as it was before it")
	assert.Equal(t, release.OutcomeFailed, a.rec.Outcome)
	assert.Equal(t, servedByB, snapshot(t, e.direct, e.site, "www/"), "the site still serves B")
	assert.Empty(t, e.proxy.changesTo(e.site, "www/"), "A changed nothing in the site after it resumed")
	held, err := store.Held(t.Context(), "frontend/"+e.site+"/www")
	require.NoError(t, err)
	assert.Nil(t, held, "B released its lock and A left none")
}

// A rollback whose lock is deleted by hand after it backed up the site
// does not restore: another deploy may hold the lock by then.
func TestRollback_WhoseLockWasTakenAwayDoesNotRestore(t *testing.T) {
	e := newS3Env(t)
	store := release.NewStore(e.direct, e.backups, "records")
	for _, files := range []map[string]string{siteV1(), siteV2()} {
		o := e.options(writeTree(t, files))
		o.Releases, o.Who = store, "ci"
		_, err := e.deploy(t, o)
		require.NoError(t, err)
	}
	before := snapshot(t, e.direct, e.site, "www/")
	release.BeforeCheck = func(step string) {
		if step == "the restore" {
			_, err := e.direct.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String(e.backups),
				Key: aws.String("records/locks/frontend/" + e.site + "/www.json")})
			assert.NoError(t, err)
		}
	}
	t.Cleanup(func() { release.BeforeCheck = nil })

	rec, err := Rollback(t.Context(), Clients{S3: e.direct}, RollbackOptions{Bucket: e.site, Prefix: "www", BackupBucket: e.backups,
		Releases: store, Who: "me"})
	require.Error(t, err)
	assert.ErrorIs(t, err, release.ErrLockLost)
	assert.Contains(t, err.Error(), "stopped before the restore")
	assert.Equal(t, release.OutcomeFailed, rec.Outcome)
	assert.Equal(t, before, snapshot(t, e.direct, e.site, "www/"), "the site was not restored")
}

// A deploy whose publish failed and whose lock was deleted by hand before
// it could restore does not restore its backup: the lock says another
// deploy may have released since.
func TestDeploy_WhoseLockWasTakenAwayBeforeItsRestoreDoesNotRestore(t *testing.T) {
	restoreBackoff = 10 * time.Millisecond
	e := newS3Env(t)
	store := release.NewStore(e.direct, e.backups, "records")
	o := e.options(writeTree(t, siteV1()))
	o.Releases, o.Who = store, "ci"
	_, err := e.deploy(t, o)
	require.NoError(t, err)
	release.BeforeCheck = func(step string) {
		if step == "the restore" {
			_, err := e.direct.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String(e.backups),
				Key: aws.String("records/locks/frontend/" + e.site + "/www.json")})
			assert.NoError(t, err)
		}
	}
	t.Cleanup(func() { release.BeforeCheck = nil })
	e.proxy.reset()
	e.proxy.mu.Lock()
	e.proxy.failAfterPuts, e.proxy.outage = 1, 2 // the publish fails after one upload; S3 is back for the restore
	e.proxy.mu.Unlock()

	o.Dir = writeTree(t, siteV2())
	rec, err := e.deploy(t, o)
	require.Error(t, err)
	assert.ErrorIs(t, err, release.ErrLockLost)
	assert.Contains(t, err.Error(), "the restore did not start")
	assert.Equal(t, release.OutcomeFailed, rec.Outcome)
	for _, c := range e.proxy.changesTo(e.site, "www/") {
		assert.NotContains(t, c, "copy", "nothing was copied back into the site")
	}
}
