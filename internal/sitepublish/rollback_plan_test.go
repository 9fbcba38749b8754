package sitepublish

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/release"
)

func TestPlanRollback_NamesTheBackupAndCountsThePathsAndChangesNothing(t *testing.T) {
	st := newMemStore("site", "backups")
	deployMem(t, st, siteV1())
	rec, err := deploy(context.Background(), st, nil, memOptions(writeTree(t, siteV2())))
	require.NoError(t, err)
	st.log = nil
	id := backupID(t, rec.Frontend.BackupURI)

	p, err := planSiteRollback(context.Background(), st, nil, RollbackOptions{Bucket: "site", Prefix: "www", BackupBucket: "backups", Backup: id, DistributionID: "E123"})
	require.NoError(t, err)

	assert.Empty(t, st.changes(), "a plan copies, writes and deletes nothing")
	assert.Equal(t, siteV2(), st.snapshot("site", "www/"))
	assert.Equal(t, "s3://backups/www/"+id+"/", p.Backup)
	assert.Equal(t, 3, p.Copy, "index.html, app-1a2b3c4d.js and old.txt come back")
	assert.Equal(t, 2, p.Delete, "app-5e6f7a8b.js and new.txt go")
	assert.Equal(t, 5, p.Objects)
	assert.Equal(t, "plan: roll back the site s3://site/www/ to backup s3://backups/www/"+id+"/\n"+
		"  back up the site's 5 objects first (so the rollback itself can be undone)\n"+
		"  restore: 3 path(s) copied back, 2 deleted; 5 path(s) change\n"+
		"  invalidate the changed paths in CloudFront distribution E123\n", p.String())

	_, err = planSiteRollback(context.Background(), st, nil, RollbackOptions{Bucket: "site", Prefix: "www", BackupBucket: "backups", Backup: "20261101T000000Z-0ld000"})
	require.Error(t, err, "a backup that does not exist is refused as the rollback refuses it")
	_, err = planSiteRollback(context.Background(), st, nil, RollbackOptions{Bucket: "site", Prefix: "www", Backup: id})
	assert.ErrorContains(t, err, "has no backup bucket")
	assert.Empty(t, st.changes())
}

func TestPlanRollback_OfAnAtomicSiteNamesTheReleaseThePointerWouldName(t *testing.T) {
	st, kv := newMemStore("site"), newMemKVS()
	first := deployAtomicMem(t, st, kv, siteV1())
	second := deployAtomicMem(t, st, kv, siteV2())
	st.log = nil
	puts := kv.puts

	p, err := planSiteRollback(context.Background(), st, kv, RollbackOptions{Bucket: "site", Prefix: "www", Atomic: &AtomicOptions{KeyValueStore: testKVS}, Backup: first.ID})
	require.NoError(t, err)
	assert.True(t, p.Atomic)
	assert.Equal(t, second.ID, p.Live)
	assert.Equal(t, first.ID, p.To)
	assert.Contains(t, p.String(), "switch its live pointer from release "+second.ID+" to release "+first.ID)
	assert.Equal(t, puts, kv.puts, "the pointer is not switched")
	assert.Equal(t, second.ID, kv.live())
	assert.Empty(t, st.changes())

	require.NoError(t, st.Delete(context.Background(), "site", []string{"www/" + first.ID + "/.esteira/manifest.json"}))
	_, err = planSiteRollback(context.Background(), st, kv, RollbackOptions{Bucket: "site", Prefix: "www", Atomic: &AtomicOptions{KeyValueStore: testKVS}, Backup: first.ID})
	assert.ErrorContains(t, err, "not a complete release", "the plan refuses what the rollback refuses")
}

// Through Rollback on S3: the dry run chooses the backup the rollback
// would (from the records, or the broken lock's), prints the plan, takes
// no lock, breaks none, writes no record and changes nothing.
func TestRollback_DryRunChoosesTheBackupTheRollbackWouldAndChangesNothing(t *testing.T) {
	e := newS3Env(t)
	store := release.NewStore(e.direct, e.backups, "records")
	deployWith := func(files map[string]string) *release.Record {
		o := e.options(writeTree(t, files))
		o.Releases, o.Who = store, "ci"
		rec, err := e.deploy(t, o)
		require.NoError(t, err)
		return rec
	}
	deployWith(siteV1())
	last := deployWith(siteV2())
	site, backups := e.keys(t, e.site, "www/"), e.keys(t, e.backups, "")
	var out strings.Builder
	o := RollbackOptions{Bucket: e.site, Prefix: "www", BackupBucket: e.backups, Releases: store, Who: "me", DryRun: true, Out: &out}

	rec, err := Rollback(t.Context(), Clients{S3: e.direct}, o)
	require.NoError(t, err)
	assert.Equal(t, release.OutcomeDryRun, rec.Outcome)
	assert.Contains(t, out.String(), "to backup "+last.Frontend.BackupURI+"\n", "the backup the last deploy took")
	assert.Contains(t, out.String(), "restore: 3 path(s) copied back, 2 deleted; 5 path(s) change\n")
	assert.Contains(t, out.String(), "deploy lock frontend/"+e.site+"/www: free\nDRY RUN OK")
	assert.Equal(t, backups, e.keys(t, e.backups, ""), "no backup taken, no lock or record written")

	_, err = store.Acquire(t.Context(), "frontend/"+e.site+"/www", release.Holder{Who: "killed@ci", What: "deploy-frontend", Backup: "s3://" + e.backups + "/www/dead/"}, release.LockOptions{})
	require.NoError(t, err)
	backups = e.keys(t, e.backups, "")
	o.BreakLock = true
	_, err = Rollback(t.Context(), Clients{S3: e.direct}, o)
	require.Error(t, err, "the broken lock's backup does not exist")
	assert.Contains(t, err.Error(), "s3://"+e.backups+"/www/dead/")
	held, err := store.Held(t.Context(), "frontend/"+e.site+"/www")
	require.NoError(t, err)
	require.NotNil(t, held)
	assert.Equal(t, "killed@ci", held.Who, "a dry run never breaks the lock")

	assert.Equal(t, site, e.keys(t, e.site, "www/"))
	assert.Equal(t, backups, e.keys(t, e.backups, ""), "no backup taken, no record written, the lock left as it was")
}
