package sitepublish

import (
	"context"
	"testing"

	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Two sites that keep their backups in one backup bucket under the same
// layout (both at prefix www of their own bucket) share one backup root: a
// release id names a backup of either. A rollback of one site to the
// other's release must be refused before anything changes.
func TestRollback_RefusesABackupOfAnotherSiteInASharedBackupRoot(t *testing.T) {
	e := newS3Env(t)
	other := e.srv.NewBucket(t)
	_, err := e.deploy(t, e.options(writeTree(t, siteV1())))
	require.NoError(t, err)
	_, err = e.deploy(t, e.options(writeTree(t, siteV2())))
	require.NoError(t, err)
	ob := e.options(writeTree(t, siteV3()))
	ob.Bucket = other
	_, err = e.deploy(t, ob)
	require.NoError(t, err)
	ob.Dir = writeTree(t, siteV1())
	recB, err := e.deploy(t, ob)
	require.NoError(t, err)
	require.Equal(t, backupRoot(backupAt(e.backups, "www", "x")).String(), backupRoot(location{Bucket: e.backups, Prefix: "www/" + recB.ID + "/"}).String(),
		"both sites back up into s3://backups/www/")
	before := snapshot(t, e.direct, e.site, "www/")

	_, err = Rollback(t.Context(), Clients{S3: e.direct}, RollbackOptions{Bucket: e.site, Prefix: "www", BackupBucket: e.backups, Backup: recB.ID})
	require.Error(t, err, "the backup is of the other site")
	assert.Contains(t, err.Error(), other+"/www", "it names the site the backup is of")
	assert.Contains(t, err.Error(), "nothing was changed")
	assert.Equal(t, before, snapshot(t, e.direct, e.site, "www/"), "the site still serves its own release")

	_, err = Rollback(t.Context(), Clients{S3: e.direct}, RollbackOptions{Bucket: e.site, Prefix: "www", BackupBucket: e.backups,
		Backup: "s3://" + e.backups + "/www/" + recB.ID + "/"})
	require.Error(t, err, "named by its location too")
	assert.Equal(t, before, snapshot(t, e.direct, e.site, "www/"))
}

// stripSite rewrites the manifest of backup id under root as an esteira
// that did not record the site would have written it.
func stripSite(t *testing.T, e *s3Env, root location, id string) {
	t.Helper()
	ctx := context.Background()
	st := newS3Store(e.direct, 0)
	loc := backupAt(root.Bucket, root.Prefix, id)
	m, err := loadManifest(ctx, st, loc)
	require.NoError(t, err)
	require.NotEmpty(t, m.Site)
	m.Site = ""
	data, err := encodeManifest(m)
	require.NoError(t, err)
	_, err = st.Put(ctx, loc.Bucket, loc.manifestKey(), bytesBody(data), headers{ContentType: manifestType, CacheControl: "no-store"})
	require.NoError(t, err)
}

// A backup that does not say which site it is of (an older esteira's) is
// restored only when something proves it is this site's: the site's
// release records name it, or it lies in the site's own bucket under the
// site's own default backup root, or it is named by its full location, not
// by a release id. Otherwise it is refused, nothing changed.
func TestRollback_ABackupWithoutItsSiteNeedsProofItIsThisSites(t *testing.T) {
	t.Run("refused by id when nothing proves it, restored by location", func(t *testing.T) {
		e := newS3Env(t)
		_, err := e.deploy(t, e.options(writeTree(t, siteV1())))
		require.NoError(t, err)
		rec, err := e.deploy(t, e.options(writeTree(t, siteV2())))
		require.NoError(t, err)
		stripSite(t, e, location{Bucket: e.backups, Prefix: "www/"}, rec.ID)
		before := snapshot(t, e.direct, e.site, "www/")
		_, err = Rollback(t.Context(), Clients{S3: e.direct}, RollbackOptions{Bucket: e.site, Prefix: "www", BackupBucket: e.backups, Backup: rec.ID})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "does not say which site")
		assert.Contains(t, err.Error(), "s3://"+e.backups+"/www/"+rec.ID+"/", "it says how to restore it if it is this site's")
		assert.Equal(t, before, snapshot(t, e.direct, e.site, "www/"))

		_, err = Rollback(t.Context(), Clients{S3: e.direct}, RollbackOptions{Bucket: e.site, Prefix: "www", BackupBucket: e.backups,
			Backup: "s3://" + e.backups + "/www/" + rec.ID + "/"})
		require.NoError(t, err, "named by its full location, a deliberate choice")
		assert.Equal(t, "<html>v1</html>", snapshot(t, e.direct, e.site, "www/")["index.html"].Body)
	})
	t.Run("restored when the site's records name it", func(t *testing.T) {
		e := newS3Env(t)
		store := release.NewStore(e.direct, e.backups, "records")
		o := e.options(writeTree(t, siteV1()))
		o.Releases, o.Who = store, "ci"
		_, err := e.deploy(t, o)
		require.NoError(t, err)
		o.Dir = writeTree(t, siteV2())
		rec, err := e.deploy(t, o)
		require.NoError(t, err)
		stripSite(t, e, location{Bucket: e.backups, Prefix: "www/"}, rec.ID)
		_, err = Rollback(t.Context(), Clients{S3: e.direct}, RollbackOptions{Bucket: e.site, Prefix: "www", BackupBucket: e.backups, Backup: rec.ID,
			Releases: store, Who: "me"})
		require.NoError(t, err)
		assert.Equal(t, "<html>v1</html>", snapshot(t, e.direct, e.site, "www/")["index.html"].Body)
	})
	t.Run("restored from the site's own bucket and default root", func(t *testing.T) {
		e := newS3Env(t)
		o := e.options(writeTree(t, siteV1()))
		o.BackupBucket = e.site
		_, err := e.deploy(t, o)
		require.NoError(t, err)
		o.Dir = writeTree(t, siteV2())
		rec, err := e.deploy(t, o)
		require.NoError(t, err)
		stripSite(t, e, location{Bucket: e.site, Prefix: "esteira-backups/www/"}, rec.ID)
		_, err = Rollback(t.Context(), Clients{S3: e.direct}, RollbackOptions{Bucket: e.site, Prefix: "www", BackupBucket: e.site, Backup: rec.ID})
		require.NoError(t, err)
		assert.Equal(t, "<html>v1</html>", snapshot(t, e.direct, e.site, "www/")["index.html"].Body)
	})
}
