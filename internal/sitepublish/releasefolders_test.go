package sitepublish

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// folderFixture writes a release folder under site: a file, then as asked
// a marker of owner and a manifest (naming manifestSite) or a damaged one.
func folderFixture(t *testing.T, st *memStore, site location, id, owner, manifestSite string, damaged bool) {
	t.Helper()
	ctx := context.Background()
	loc := releaseAt(site, id)
	if owner != "" {
		require.NoError(t, putMarker(ctx, st, newLocation(site.Bucket, owner), loc, id))
	}
	_, err := st.Put(ctx, loc.Bucket, loc.key("index.html"), bytesBody([]byte(id)), headers{})
	require.NoError(t, err)
	switch {
	case damaged:
		_, err = st.Put(ctx, loc.Bucket, loc.manifestKey(), bytesBody([]byte(`{"version":3,"count":2,"headers":[""]}`+"\n"+`["index.html",1,"`)), headers{})
	case manifestSite != "-":
		err = putManifest(ctx, st, loc, manifest{Site: manifestSite}, remoteSet{"index.html": {Size: 1, SHA256: "aa"}})
	}
	require.NoError(t, err)
	// A complete release was stored when its id says; what has no manifest
	// is being written now.
	if at, perr := time.Parse(idSecond, id[:min(len(id), len(idSecond))]); perr == nil && manifestSite != "-" {
		for key, o := range st.buckets[loc.Bucket] {
			if strings.HasPrefix(key, loc.Prefix) {
				o.mod = at
				st.buckets[loc.Bucket][key] = o
			}
		}
	}
}

func TestPruneReleases_DeletesOnlyWhatItProvesItsOwn(t *testing.T) {
	st := newMemStore("site")
	site := newLocation("site", "www")
	const (
		live, prev   = "20261203T100000Z-live00", "20261203T090000Z-prev00"
		oldMarked    = "20261203T080000Z-marked"
		oldRecorded  = "20261203T070000Z-record" // written before markers; a record names it
		oldUnproven  = "20261203T060000Z-nobody" // looks like a release, nothing says so
		otherSite    = "20261203T050000Z-other0" // another atomic site's marker
		freshBroken  = "20261203T110000Z-fresh0" // marked, no manifest, young, unrecorded
		staleBroken  = "20261203T040000Z-stale0" // marked, no manifest, recorded as ended
		foreignWreck = "20261203T030000Z-wreck0" // a damaged manifest nobody owns
	)
	for _, f := range []struct {
		id, owner, mSite string
		damaged          bool
	}{
		{live, "www", "site/www", false}, {prev, "www", "site/www", false}, {oldMarked, "www", "site/www", false},
		{oldRecorded, "", "", false}, {oldUnproven, "", "", false}, {otherSite, "www/blog", "site/www/blog", false},
		{freshBroken, "www", "-", false}, {staleBroken, "www", "-", false}, {foreignWreck, "", "", true},
		{"blog", "", "", false},
	} {
		folderFixture(t, st, site, f.id, f.owner, f.mSite, f.damaged)
	}
	sr := siteRecords{named: map[string]bool{oldRecorded: true, staleBroken: true}, ended: map[string]bool{oldRecorded: true, staleBroken: true}}

	res, err := pruneReleases(context.Background(), st, site, 1, live, prev, knownRecords(sr), time.Now(), false)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{live, prev}, res.Kept)
	assert.ElementsMatch(t, []string{oldMarked, oldRecorded}, res.Deleted)
	assert.Equal(t, []string{staleBroken}, res.Unfinished, "a release that ended without its manifest is cleaned up")
	assert.Equal(t, 1, res.Recent, "a young unrecorded folder may still be filling")
	assert.ElementsMatch(t, []string{oldUnproven, otherSite, foreignWreck, "blog"}, res.LeftAlone)
	for _, id := range []string{oldMarked, oldRecorded, staleBroken} {
		assert.Empty(t, st.objects("site", "www/"+id+"/"), id)
	}
	for _, id := range []string{live, prev, oldUnproven, otherSite, foreignWreck, freshBroken, "blog"} {
		assert.NotEmpty(t, st.objects("site", "www/"+id+"/"), id)
	}

	res, err = pruneReleases(context.Background(), st, site, 1, live, prev, knownRecords(sr), time.Now().Add(pruneGrace), false)
	require.NoError(t, err)
	assert.Equal(t, []string{freshBroken}, res.Unfinished, "past the grace period on the server's clock")
	_, err = pruneReleases(context.Background(), st, site, 1, live, prev, knownRecords(sr), time.Time{}, false)
	require.NoError(t, err, "an unknown server time deletes nothing by age, and is no error")
}

func TestPruneReleases_StopsAtADamagedManifestOfItsOwn(t *testing.T) {
	st := newMemStore("site")
	site := newLocation("site", "www")
	folderFixture(t, st, site, "20261203T100000Z-live00", "www", "site/www", false)
	folderFixture(t, st, site, "20261203T090000Z-broken", "www", "", true)
	st.log = nil
	_, err := pruneReleases(context.Background(), st, site, 1, "20261203T100000Z-live00", "", knownRecords(siteRecords{}), time.Now(), false)
	d, ok := DamagedBackup(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, "20261203T090000Z-broken", d.Backup)
	assert.Equal(t, "s3://site/www/20261203T090000Z-broken/.esteira/manifest.json", d.Manifest)
	assert.Contains(t, err.Error(), "nothing was pruned")
	assert.Empty(t, st.changes())
}

func TestReadSiteRecords_NamesEveryReleaseARecordMentions(t *testing.T) {
	sr, err := readSiteRecords(context.Background(), nil, newLocation("site", "www"))
	require.NoError(t, err)
	assert.Empty(t, sr.named, "no store, no proof")
}

func TestSetAside_AnAtomicReleaseFolderUnblocksItsPrune(t *testing.T) {
	st := newMemStore("site")
	site := newLocation("site", "www")
	const live, broken = "20261203T100000Z-live00", "20261203T090000Z-broken"
	folderFixture(t, st, site, live, "www", "site/www", false)
	folderFixture(t, st, site, broken, "www", "", true)
	res, err := setAside(context.Background(), st, SetAsideOptions{Bucket: "site", Prefix: "www", Backup: broken})
	require.NoError(t, err)
	assert.Equal(t, "s3://site/www/.esteira/set-aside/"+broken+"/manifest.json", res.To)

	pruned, err := pruneReleases(context.Background(), st, site, 1, live, "", knownRecords(siteRecords{ended: map[string]bool{broken: true}}), time.Now(), false)
	require.NoError(t, err)
	assert.Equal(t, []string{broken}, pruned.Unfinished, "its folder, no longer a complete release, is cleaned up")
	assert.Contains(t, st.objects("site", "www/.esteira/set-aside/"), broken+"/manifest.json", "its manifest is kept")

	_, err = setAside(context.Background(), st, SetAsideOptions{Bucket: "site", Prefix: "www", Backup: "../x"})
	assert.ErrorContains(t, err, "is not a backup id")
}
