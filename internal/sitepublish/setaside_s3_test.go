package sitepublish

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"path"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 16: a backup manifest cut short is refused as a restore source,
// and so it stops every release and prune of the site. The error says
// which manifest, that the live site is fine, and to set the backup aside;
// SetAside moves the manifest aside (kept for inspection) and releases
// continue, while a prune still keeps what the set-aside manifest names.
func TestSetAside_ADamagedBackupNoLongerBlocksReleases(t *testing.T) {
	e := newS3Env(t)
	ctx := context.Background()
	st := newS3Store(e.direct, 0)
	v3 := maps.Clone(siteV1())
	v3["index.html"] = "<html>v3</html>"
	var ids []string // the backups, newest first
	for _, files := range []map[string]string{siteV1(), siteV2(), v3} {
		rec, err := e.deploy(t, e.options(writeTree(t, files)))
		require.NoError(t, err)
		ids = append([]string{path.Base(rec.Frontend.BackupURI)}, ids...)
	}
	root := newLocation(e.backups, "www")
	var err error
	newest := newLocation(e.backups, "www/"+ids[0])
	whole := bytesOf(t, e.direct, e.backups, newest.manifestKey())
	cut := whole[:bytes.LastIndexByte(whole[:len(whole)-1], '\n')+1] // the last line lost
	_, err = st.Put(ctx, e.backups, newest.manifestKey(), bytesBody(cut), headers{ContentType: manifestType})
	require.NoError(t, err)
	manifestURI := "s3://" + e.backups + "/" + newest.manifestKey()

	v4 := maps.Clone(v3)
	v4["index.html"] = "<html>v4</html>"
	o := e.options(writeTree(t, v4))
	_, err = e.deploy(t, o)
	d, ok := DamagedBackup(err)
	require.True(t, ok, "a deploy stopped by a damaged manifest says so: %v", err)
	assert.Equal(t, ids[0], d.Backup)
	assert.Equal(t, manifestURI, d.Manifest)
	assert.Contains(t, err.Error(), "the live site is unaffected")
	assert.Contains(t, err.Error(), "set backup "+ids[0]+" aside")
	assert.Equal(t, v3, bodies(snapshot(t, e.direct, e.site, "www/")), "the live site is untouched")
	_, err = Prune(ctx, Clients{S3: e.direct}, PruneOptions{Bucket: e.site, Prefix: "www", BackupBucket: e.backups, Keep: 1})
	assert.True(t, errors.As(err, &d), "a prune too: %v", err)

	aside := SetAsideOptions{Bucket: e.site, Prefix: "www", BackupBucket: e.backups, Backup: ids[0], DryRun: true}
	res, err := SetAside(ctx, Clients{S3: e.direct}, aside)
	require.NoError(t, err)
	assert.Equal(t, manifestURI, res.From)
	assert.Contains(t, res.Damage, "cut short")
	assert.Equal(t, cut, bytesOf(t, e.direct, e.backups, newest.manifestKey()), "a dry run moves nothing")
	_, err = st.Head(ctx, e.backups, "www/"+setAsideDir+ids[0]+"/manifest.json")
	require.ErrorIs(t, err, errNotFound)

	aside.DryRun = false
	res, err = SetAside(ctx, Clients{S3: e.direct}, aside)
	require.NoError(t, err)
	assert.Equal(t, "s3://"+e.backups+"/www/"+setAsideDir+ids[0]+"/manifest.json", res.To)
	assert.Equal(t, cut, bytesOf(t, e.direct, e.backups, "www/"+setAsideDir+ids[0]+"/manifest.json"), "kept for inspection, byte for byte")
	_, err = st.Head(ctx, e.backups, newest.manifestKey())
	require.ErrorIs(t, err, errNotFound, "and no longer where a release reads backups")
	_, err = SetAside(ctx, Clients{S3: e.direct}, aside)
	assert.ErrorContains(t, err, "already has a manifest set aside", "setting aside twice is refused")
	aside.Backup = ids[1]
	_, err = SetAside(ctx, Clients{S3: e.direct}, aside)
	assert.ErrorContains(t, err, "reads fine", "a backup that is not damaged is not set aside")

	_, err = e.deploy(t, o)
	require.NoError(t, err, "releases continue")
	assert.Equal(t, v4, bodies(snapshot(t, e.direct, e.site, "www/")))
	// Long after (on the server's clock), a prune to one backup still
	// keeps every content the set-aside manifest names.
	_, err = pruneBackups(ctx, st, newLocation(e.site, "www"), root, 1, time.Now().Add(3*pruneGrace), false)
	require.NoError(t, err)
	named := sha256Hex.FindAll(cut, -1)
	require.NotEmpty(t, named)
	for _, sha := range named {
		_, err := st.Head(ctx, e.backups, contentAt(root).key(string(sha)))
		assert.NoError(t, err, "content %s of the set-aside manifest", sha)
	}
	assert.Equal(t, cut, bytesOf(t, e.direct, e.backups, "www/"+setAsideDir+ids[0]+"/manifest.json"), "a prune never deletes a set-aside manifest")
}
