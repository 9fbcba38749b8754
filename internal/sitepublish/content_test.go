package sitepublish

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const contentPrefix = "www/.esteira/content/"

// contentCopies returns the shas copied into the content store, in order.
func contentCopies(log []string) []string {
	var out []string
	for _, l := range log {
		if sha, ok := strings.CutPrefix(l, "copy "+contentPrefix); ok {
			out = append(out, sha)
		}
	}
	return out
}

func shasOf(files map[string]string) map[string]bool {
	out := map[string]bool{}
	for _, body := range files {
		out[hashBytes([]byte(body))] = true
	}
	return out
}

// releaseAll deploys each version in turn and returns the records.
func releaseAll(t *testing.T, st *memStore, keep int, versions ...map[string]string) []*release.Record {
	t.Helper()
	var recs []*release.Record
	for _, v := range versions {
		o := memOptions(writeTree(t, v))
		o.Keep = keep
		rec, err := deploy(context.Background(), st, nil, o)
		require.NoError(t, err)
		require.Equal(t, release.OutcomeSucceeded, rec.Outcome)
		recs = append(recs, rec)
	}
	return recs
}

func TestBackup_ByReferenceCopiesOnlyTheContentsTheStoreLacks(t *testing.T) {
	st := newMemStore("site", "backups")
	deployMem(t, st, siteV1())
	st.log = nil
	deployMem(t, st, siteV2())
	assert.ElementsMatch(t, keys(shasOf(siteV1())), contentCopies(st.changes()), "the first backup stores each content of the site once")

	v3 := maps.Clone(siteV2())
	v3["index.html"] = "<html>v3</html>"
	st.log = nil
	deployMem(t, st, v3)
	var fresh []string
	for sha := range shasOf(siteV2()) {
		if !shasOf(siteV1())[sha] {
			fresh = append(fresh, sha)
		}
	}
	require.NotEmpty(t, fresh)
	assert.ElementsMatch(t, fresh, contentCopies(st.changes()), "the next backup copies only what the last release brought")
	for _, l := range st.changes() {
		assert.False(t, strings.HasPrefix(l, "copy www/2"), "no per-path copies in a backup folder: %s", l)
	}
}

func TestBackup_ByReferenceRestoresTheWholeSiteAloneAfterLaterReleasesAndPrunes(t *testing.T) {
	st := newMemStore("site", "backups")
	v3 := maps.Clone(siteV2())
	v3["about/index.html"] = "<html>about v3</html>"
	v4 := maps.Clone(v3)
	v4["index.html"] = "<html>v4</html>"
	deployMem(t, st, siteV1())
	deployMem(t, st, siteV2())
	v2Headers := st.headersOf("site", "www/")
	recs := releaseAll(t, st, 2, v3, v4) // v3's backup holds v2; v4's prune keeps it

	// Lose every other backup's manifest: this one must need nothing else.
	id := backupID(t, recs[0].Frontend.BackupURI)
	for _, other := range mustDirs(t, st) {
		if other != id {
			require.NoError(t, st.Delete(context.Background(), "backups", []string{"www/" + other + "/.esteira/manifest.json"}))
		}
	}
	_, err := rollback(context.Background(), st, nil, RollbackOptions{Bucket: "site", Prefix: "www", BackupBucket: "backups", Backup: id})
	require.NoError(t, err)
	assert.Equal(t, siteV2(), st.snapshot("site", "www/"))
	assert.Equal(t, v2Headers, st.headersOf("site", "www/"), "headers restored exactly")
}

func mustDirs(t *testing.T, st *memStore) []string {
	t.Helper()
	ids, err := backupDirs(context.Background(), st, newLocation("backups", "www"))
	require.NoError(t, err)
	return ids
}

func TestPrune_NeverDeletesWhatAKeptBackupNeeds(t *testing.T) {
	st := newMemStore("site", "backups")
	v3 := maps.Clone(siteV2())
	v3["about/index.html"] = "<html>about v3</html>"
	v4 := maps.Clone(v3)
	v4["index.html"] = "<html>v4</html>"
	recs := releaseAll(t, st, 0, siteV1(), siteV2(), v3, v4)
	require.Len(t, mustDirs(t, st), 4, "every release took a backup, the first one of the empty site")

	res, err := pruneBackups(context.Background(), st, newLocation("site", "www"), newLocation("backups", "www"), 1, time.Now().Add(pruneGrace+time.Hour), false)
	require.NoError(t, err)
	kept := backupID(t, recs[3].Frontend.BackupURI)
	assert.Equal(t, []string{kept}, res.Kept)
	assert.Len(t, res.Deleted, 3)
	assert.Equal(t, []string{kept}, mustDirs(t, st), "only the newest backup is left")

	stored := st.objects("backups", contentPrefix)
	assert.Equal(t, shasOf(v3), shasOf(stored), "the store holds exactly the kept backup's contents")
	assert.NotContains(t, stored, hashBytes([]byte("stale")), "v1's old.txt went with the backups that needed it")
	before := maps.Clone(shasOf(siteV1()))
	maps.Copy(before, shasOf(siteV2()))
	maps.Copy(before, shasOf(v3))
	assert.Equal(t, len(before)-len(shasOf(v3)), res.Contents, "every content no kept backup refers to is deleted")

	_, err = rollback(context.Background(), st, nil, RollbackOptions{Bucket: "site", Prefix: "www", BackupBucket: "backups", Backup: kept})
	require.NoError(t, err)
	assert.Equal(t, v3, st.snapshot("site", "www/"))
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestPrune_LeavesRecentContentAReleaseMayBeAboutToReferTo(t *testing.T) {
	st := newMemStore("site", "backups")
	releaseAll(t, st, 0, siteV1(), siteV2())
	orphan := contentPrefix + hashBytes([]byte("being backed up"))
	_, err := st.Put(context.Background(), "backups", orphan, bytesBody([]byte("being backed up")), headers{})
	require.NoError(t, err)
	site, root := newLocation("site", "www"), newLocation("backups", "www")

	res, err := pruneBackups(context.Background(), st, site, root, 1, time.Now(), false)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Recent)
	assert.Contains(t, st.objects("backups", contentPrefix), hashBytes([]byte("being backed up")))

	res, err = pruneBackups(context.Background(), st, site, root, 1, time.Now().Add(pruneGrace+time.Minute), false)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Contents)
	assert.NotContains(t, st.objects("backups", contentPrefix), hashBytes([]byte("being backed up")))
}

func TestPrune_RefusesWhenAManifestCannotBeRead(t *testing.T) {
	st := newMemStore("site", "backups")
	releaseAll(t, st, 0, siteV1(), siteV2(), siteV1())
	ids := mustDirs(t, st)
	_, err := st.Put(context.Background(), "backups", "www/"+ids[1]+"/.esteira/manifest.json", bytesBody([]byte("{not json")), headers{})
	require.NoError(t, err)
	st.log = nil

	_, err = pruneBackups(context.Background(), st, newLocation("site", "www"), newLocation("backups", "www"), 1, time.Now().Add(pruneGrace*2), false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing was pruned")
	assert.Contains(t, err.Error(), ids[1])
	for _, l := range st.changes() {
		assert.False(t, strings.HasPrefix(l, "delete"), l)
	}
}

func TestPrune_DryRunDeletesNothingAndKeepZeroIsRefused(t *testing.T) {
	st := newMemStore("site", "backups")
	releaseAll(t, st, 0, siteV1(), siteV2(), siteV1())
	st.log = nil
	res, err := pruneBackups(context.Background(), st, newLocation("site", "www"), newLocation("backups", "www"), 1, time.Now().Add(pruneGrace*2), true)
	require.NoError(t, err)
	assert.Len(t, res.Deleted, 2)
	assert.Positive(t, res.Contents)
	assert.Empty(t, st.changes())

	_, err = prune(context.Background(), st, nil, PruneOptions{Bucket: "site", Prefix: "www", BackupBucket: "backups"}, time.Now())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "keep 1 or more")
}

func TestDeploy_KeepPrunesAfterTheRelease(t *testing.T) {
	st := newMemStore("site", "backups")
	recs := releaseAll(t, st, 2, siteV1(), siteV2(), siteV1(), siteV2())
	assert.Len(t, mustDirs(t, st), 2)
	var prune *release.Step
	for i, s := range recs[3].Steps {
		if s.Name == "prune" {
			prune = &recs[3].Steps[i]
		}
	}
	require.NotNil(t, prune, "the release recorded its prune")
	assert.Contains(t, prune.Detail, "kept 2 backups, deleted 1")
}

func TestRollback_ABackupByCopyOfAnEarlierEsteiraStillRestores(t *testing.T) {
	st := newMemStore("site", "backups")
	deployMem(t, st, siteV1())
	v1, v1Headers := st.snapshot("site", "www/"), st.headersOf("site", "www/")
	// What an earlier esteira wrote: the objects copied under the backup's
	// folder and a version 1 manifest listing them as stored.
	ctx, site := context.Background(), newLocation("site", "www")
	old := newLocation("backups", "www/20261101T000000Z-0ld000")
	live, err := listLocation(ctx, st, site)
	require.NoError(t, err)
	_, err = resolveHashes(ctx, st, site, live, 4)
	require.NoError(t, err)
	for rel := range live {
		_, err := st.Copy(ctx, "site", site.key(rel), "backups", old.key(rel), nil)
		require.NoError(t, err)
	}
	m := manifest{Backup: true, Stored: live.sortedKeys(), Objects: map[string]manifestEntry{}}
	for rel, o := range live {
		m.Objects[rel] = manifestEntry{Size: o.Size, ETag: o.ETag, SHA256: o.SHA256, Headers: o.Headers.sig()}
	}
	_, err = st.Put(ctx, "backups", old.manifestKey(), bytesBody(legacyJSON(t, 1, m)), headers{ContentType: "application/json"})
	require.NoError(t, err)
	deployMem(t, st, siteV2())

	// It does not say which site it is of: named by its location, not its id.
	_, err = rollback(ctx, st, nil, RollbackOptions{Bucket: "site", Prefix: "www", BackupBucket: "backups", Backup: old.String()})
	require.NoError(t, err)
	assert.Equal(t, v1, st.snapshot("site", "www/"))
	assert.Equal(t, v1Headers, st.headersOf("site", "www/"))

	res, err := pruneBackups(ctx, st, site, newLocation("backups", "www"), 1, time.Now(), false)
	require.NoError(t, err)
	assert.Contains(t, res.Deleted, "20261101T000000Z-0ld000")
	assert.Empty(t, st.snapshot("backups", old.Prefix), fmt.Sprintf("the old backup's copies went with it: %v", res))
}
