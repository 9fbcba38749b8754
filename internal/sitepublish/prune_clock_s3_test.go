package sitepublish

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 16: a prune on a machine whose clock is 7 hours ahead must not take
// the contents a release copied a moment ago for old ones: ages are the S3
// server's, not the local clock's.
func TestPrune_AgesAreTheServersNotTheLocalClocks(t *testing.T) {
	e := newS3Env(t)
	for _, files := range []map[string]string{siteV1(), siteV2()} {
		_, err := e.deploy(t, e.options(writeTree(t, files)))
		require.NoError(t, err)
	}
	// What a release of a site sharing the backup root has just copied
	// into the content store, before its manifest names it.
	content := contentAt(newLocation(e.backups, "www"))
	fresh := []byte("copied a moment ago")
	st := newS3Store(e.direct, 0)
	_, err := st.Put(context.Background(), content.Bucket, content.key(hashBytes(fresh)), bytesBody(fresh), headers{})
	require.NoError(t, err)

	var out bytes.Buffer
	aheadBy7h := time.Now().Add(7 * time.Hour)
	res, err := prune(context.Background(), st, nil, PruneOptions{Bucket: e.site, Prefix: "www", BackupBucket: e.backups, Keep: 1, Out: &out}, aheadBy7h)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Recent, "the fresh content is recent by the server's clock")
	_, err = st.Head(context.Background(), content.Bucket, content.key(hashBytes(fresh)))
	assert.NoError(t, err, "the content a release just copied is still there")
	assert.Contains(t, out.String(), "ahead of the S3 server", "the skew is reported")
}

// serverTime makes the in-memory store a serverClock: its objects are
// stamped by the local clock, which is its server's.
func (m *memStore) serverTime(context.Context, string) (time.Time, error) { return time.Now(), nil }

func TestServerNow_UnknownTimeDeletesNothingByAge(t *testing.T) {
	var out bytes.Buffer
	now := serverNow(context.Background(), noClock{}, "b", time.Now(), &out)
	assert.True(t, now.IsZero())
	assert.Less(t, now.Sub(time.Now().Add(-100*pruneGrace)), pruneGrace, "nothing is past the grace period at the zero time")
	assert.Contains(t, out.String(), "no content is deleted by age")
}

// noClock is a store that cannot tell its server's time.
type noClock struct{ objectStore }

// A backup taken on a machine whose clock ran 7 hours ahead says it is the
// newest; the S3 server stored it before the real newest one. A prune to
// one backup must keep the one the server stored last, the site as it was
// before the last release.
func TestPrune_KeepsTheBackupTheServerStoredLast(t *testing.T) {
	st := newMemStore("site", "backups")
	recs := releaseAll(t, st, 0, siteV1(), siteV2(), siteV1())
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = backupID(t, r.Frontend.BackupURI)
	}
	ahead := newLocation("backups", "www/"+ids[1])
	m, err := loadManifest(context.Background(), st, ahead)
	require.NoError(t, err)
	m.Taken = m.Taken.Add(7 * time.Hour)
	data, err := encodeManifest(m)
	require.NoError(t, err)
	_, err = st.Put(context.Background(), "backups", ahead.manifestKey(), bytesBody(data), headers{ContentType: manifestType})
	require.NoError(t, err)
	stored := time.Now().Add(-time.Hour)
	for i, id := range ids { // the order the server stored them in
		key := "www/" + id + "/" + reservedDir + "manifest.json"
		o := st.buckets["backups"][key]
		o.mod = stored.Add(time.Duration(i) * time.Minute)
		st.buckets["backups"][key] = o
	}

	res, err := pruneBackups(context.Background(), st, newLocation("site", "www"), newLocation("backups", "www"), 1, time.Now(), false)
	require.NoError(t, err)
	assert.Equal(t, []string{ids[2]}, res.Kept, "the backup the last release took")
}
